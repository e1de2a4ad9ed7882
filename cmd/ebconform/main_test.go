package main

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/testbin"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// crashEnv makes the test binary a tiny broker that dies on an unknown command
// byte: ebwrk's broker, with an event hook that exits at the first such message.
// With the value "hang" it hangs instead, at the first request it has to queue.
const crashEnv = "EBCONFORM_CRASH_BROKER"

// childEnv makes the test binary ebconform itself: the worker processes of a live
// scenario run are started from the running executable (ebconform live-worker).
const childEnv = "EBCONFORM_TEST_CHILD"

// brokerBin is an ebbroker built for the scenario tests.
var brokerBin string

func TestMain(m *testing.M) {
	if os.Getenv(crashEnv) != "" {
		os.Exit(crashBroker(os.Args[1:]))
	}
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(testbin.RunWithBroker(m, childEnv, &brokerBin))
}

// crashBroker serves --frontend and --backend until an unknown command arrives,
// then exits with status 3 at once, as a broker with a bug in its parser would.
func crashBroker(args []string) int {
	fs := flag.NewFlagSet("crashbroker", flag.ContinueOnError)
	front := fs.String("frontend", "", "")
	back := fs.String("backend", "", "")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	opts := zmq.BrokerOptions{Frontend: *front, Backend: *back, Linger: -1,
		Config: core.BrokerConfig{HeartbeatInterval: 100 * time.Millisecond, Liveness: 3},
		OnEvent: func(e zmq.Event) {
			if os.Getenv(crashEnv) == "hang" && e.Output.Event == core.RequestQueued {
				fmt.Fprintln(os.Stderr, "crashbroker: a request to queue, hanging")
				select {}
			}
			var pe *core.ParseError
			if errors.As(e.Output.Err, &pe) && pe.Problem == core.UnknownCommand {
				fmt.Fprintln(os.Stderr, "crashbroker: unknown command, dying")
				os.Exit(3)
			}
		}}
	b, err := zmq.NewBroker(opts)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	if err := b.Run(context.Background()); err != nil {
		return 1
	}
	return 0
}

func TestRunUsage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of stderr
	}{
		{"no command", nil, 2, "", "Usage: ebconform"},
		{"help", []string{"-h"}, 0, "wire", ""},
		{"unknown command", []string{"fuzz"}, 2, "", `unknown command "fuzz"`},
		{"wire help", []string{"wire", "-h"}, 0, "{frontend}", ""},
		{"no target", []string{"wire"}, 2, "", "give --exec or --frontend"},
		{"both targets", []string{"wire", "--exec", "x {frontend}", "--frontend", "tcp://127.0.0.1:1"}, 2, "", "not both"},
		{"no placeholder", []string{"wire", "--exec", "ebbroker"}, 2, "", "no {frontend} placeholder"},
		{"bad level", []string{"wire", "--list", "--level", "MUSTNT"}, 2, "", "--level"},
		{"bad flag", []string{"wire", "--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"unknown case", []string{"wire", "--list", "rfc9"}, 2, "", `no case "rfc9"`},
		{"list", []string{"wire", "--list"}, 0, "rfc7/worker/ready-twice", ""},
		{"list a group", []string{"wire", "--list", "rfc8"}, 0, "rfc8/not-implemented", ""},
		{"never up", []string{"wire", "--exec", "exit 0 {frontend}"}, 2, "", "never came up"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("run(%q) = %d; want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q; want it to contain %q", stdout.String(), tc.stdout)
			}
			if !strings.Contains(stderr.String(), tc.stderr) {
				t.Errorf("stderr %q; want it to contain %q", stderr.String(), tc.stderr)
			}
		})
	}
}

// TestWireCrash runs a few cases against the tiny broker that dies on an unknown
// command: the case that sends one fails with "broker died", the kit restarts the
// broker, the others pass, and the exit status is 1. The JSON and JUnit outputs say
// the same.
func TestWireCrash(t *testing.T) {
	t.Setenv(crashEnv, "1")
	junit := filepath.Join(t.TempDir(), "junit.xml")
	cases := []string{"rfc7/worker/unknown-command", "rfc7/client/dealer-socket", "rfc8/not-implemented",
		"rfc7/worker/unknown-heartbeat", "ebwrk/envelope"}
	args := append([]string{"wire", "--exec", os.Args[0] + " --frontend {frontend} --backend {backend}",
		"--heartbeat", "100ms", "--liveness", "3", "--json", "--junit", junit}, cases...)
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 1 {
		t.Errorf("exit status %d; want 1 (stderr %q)", code, stderr.String())
	}
	var rep struct {
		Cases []struct {
			ID, RFC, Level, Result, Detail string
		}
		Totals   struct{ Pass, Fail, Skip, Total int }
		Restarts int
	}
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("the JSON output does not parse: %v\n%s", err, stdout.String())
	}
	for _, c := range rep.Cases {
		switch {
		case c.ID == cases[0] && (c.Result != "fail" || !strings.Contains(c.Detail, "broker died")):
			t.Errorf("%s: %s %q; want fail with \"broker died\"", c.ID, c.Result, c.Detail)
		case c.ID != cases[0] && c.Result != "pass":
			t.Errorf("%s: %s %q; want pass", c.ID, c.Result, c.Detail)
		}
		if c.RFC == "" || c.Level == "" {
			t.Errorf("%s: no rfc or level in %+v", c.ID, c)
		}
	}
	if rep.Totals.Total != len(cases) || rep.Totals.Fail != 1 || rep.Totals.Pass != len(cases)-1 {
		t.Errorf("totals %+v; want %d cases, 1 failed", rep.Totals, len(cases))
	}
	if rep.Restarts < 1 {
		t.Errorf("restarts %d; want at least 1", rep.Restarts)
	}
	data, err := os.ReadFile(junit)
	if err != nil {
		t.Fatal(err)
	}
	var suite struct {
		Tests    int `xml:"tests,attr"`
		Failures int `xml:"failures,attr"`
	}
	if err := xml.Unmarshal(data, &suite); err != nil || suite.Tests != len(cases) || suite.Failures != 1 {
		t.Errorf("JUnit %+v (%v); want %d tests, 1 failure:\n%s", suite, err, len(cases), data)
	}
}

// TestWireHang runs two cases against the tiny broker that hangs at the first
// request it must queue: that case fails with "no answer", the kit kills and
// restarts the broker, and the other case passes.
func TestWireHang(t *testing.T) {
	t.Setenv(crashEnv, "hang")
	args := []string{"wire", "--exec", os.Args[0] + " --frontend {frontend} --backend {backend}",
		"--heartbeat", "100ms", "--liveness", "3", "rfc7/client/queue-until-worker", "rfc8/not-implemented"}
	var stdout, stderr bytes.Buffer
	if code := run(args, &stdout, &stderr); code != 1 {
		t.Errorf("exit status %d; want 1 (stderr %q)", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"rfc7/client/queue-until-worker", "fail", "no answer", "rfc8/not-implemented", "2 cases: 1 passed, 1 failed", "restarted"} {
		if !strings.Contains(out, want) {
			t.Errorf("the table does not say %q:\n%s", want, out)
		}
	}
}
