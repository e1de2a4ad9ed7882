package live

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/testbin"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// workerEnv marks the test binary started again as a worker process of a live run.
const workerEnv = "EBWRK_LIVE_TEST_WORKER"

// crashEnv makes the test binary a broker that dies at the first malformed input:
// ebwrk's broker with an event hook that exits, as a broker with a parser bug would.
const crashEnv = "EBWRK_LIVE_TEST_CRASH_BROKER"

// brokerBin is an ebbroker built for the tests.
var brokerBin string

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) == "1" {
		os.Exit(crashBroker(os.Args[1:]))
	}
	if os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain(context.Background(), os.Args[1:], os.Stdin, os.Stderr))
	}
	os.Exit(testbin.RunWithBroker(m, workerEnv, &brokerBin))
}

// crashBroker serves --frontend and --backend until a malformed message arrives,
// then exits with status 3 at once.
func crashBroker(args []string) int {
	fs := flag.NewFlagSet("crashbroker", flag.ContinueOnError)
	front := fs.String("frontend", "", "")
	back := fs.String("backend", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	b, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: *front, Backend: *back, Linger: -1,
		OnEvent: func(e zmq.Event) {
			if e.Output.Event == core.InputDropped && e.Output.Reason == core.Malformed {
				fmt.Fprintln(os.Stderr, "crashbroker: malformed input, dying")
				os.Exit(3)
			}
		}})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := b.Run(context.Background()); err != nil {
		return 1
	}
	return 0
}

// testOptions runs the broker built for the tests and this test binary as workers.
func testOptions(t *testing.T) Options {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{BrokerBin: brokerBin, WorkerBin: self, Dir: t.TempDir()}
}
