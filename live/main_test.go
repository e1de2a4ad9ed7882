package live

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// workerEnv marks the test binary started again as a worker process of a live run.
const workerEnv = "EBWRK_LIVE_TEST_WORKER"

// brokerBin is an ebbroker built for the tests.
var brokerBin string

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		os.Exit(WorkerMain(context.Background(), os.Args[1:], os.Stdin, os.Stderr))
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "live-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	brokerBin = filepath.Join(dir, "ebbroker")
	out, err := exec.Command("go", "build", "-o", brokerBin, "github.com/ebwrk/ebwrk/cmd/ebbroker").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ebbroker: %v\n%s", err, out)
		return 1
	}
	if err := os.Setenv(workerEnv, "1"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
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
