package main

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
)

// TestScenarioAgrees runs a shortened worker-crash live against ebbroker: exit 0,
// and the JSON says agree with both results in it.
func TestScenarioAgrees(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run([]string{"scenario", "--broker-bin", brokerBin, "--json", "testdata/short-crash.toml"}, &stdout, &stderr)
	if code != 0 {
		t.Errorf("exit status %d; want 0 (stderr %q)\n%s", code, stderr.String(), stdout.String())
	}
	var out struct {
		Agree bool
		Rows  []struct {
			Name, Sim, Live string
			Agree           bool
		}
		Sim  struct{ Metrics struct{ Requests uint64 } }
		Live struct {
			Metrics struct{ Requests, Requeues uint64 }
			Faults  []struct{ Kind, Node string }
		}
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("the JSON output does not parse: %v\n%s", err, stdout.String())
	}
	if !out.Agree || len(out.Rows) != 10 {
		t.Errorf("agree %v with %d rows; want agreement on 10 rows: %+v", out.Agree, len(out.Rows), out.Rows)
	}
	if out.Sim.Metrics.Requests != 180 || out.Live.Metrics.Requests != 180 {
		t.Errorf("requests sim %d, live %d; want 180 each", out.Sim.Metrics.Requests, out.Live.Metrics.Requests)
	}
	if len(out.Live.Faults) < 3 || out.Live.Metrics.Requeues == 0 {
		t.Errorf("faults applied %+v, requeues %d: want the two crashes and a comeback, and requeues", out.Live.Faults, out.Live.Metrics.Requeues)
	}
}

// TestScenarioBrokerDiesOnMalformed runs the shortened malformed scenario against
// the tiny broker that dies at the first unknown command byte (--exec): the live
// checker reports the broker's death and the exit status is 1.
func TestScenarioBrokerDiesOnMalformed(t *testing.T) {
	exec := "env " + crashEnv + "=1 " + os.Args[0] + " --frontend {frontend} --backend {backend}"
	var stdout, stderr bytes.Buffer
	code := run([]string{"scenario", "--exec", exec, "testdata/short-malformed.toml"}, &stdout, &stderr)
	if code != 1 {
		t.Errorf("exit status %d; want 1 (stderr %q)", code, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{"live violation: G7 no-panic", "broker process died by itself", "DIFFERS", "DO NOT agree",
		"no broker events (--exec)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the output does not say %q:\n%s", want, out)
		}
	}
}

func TestScenarioUsage(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		code int
		want string
	}{
		{"help", []string{"scenario", "-h"}, 0, "Usage: ebconform scenario"},
		{"no scenario", []string{"scenario"}, 2, "give a scenario name or file"},
		{"two", []string{"scenario", "a", "b"}, 2, "give one scenario"},
		{"unknown", []string{"scenario", "nosuch"}, 2, "no scenario \"nosuch\" in the catalogue"},
		{"bad exec", []string{"scenario", "--exec", "true", "baseline"}, 2, "no {frontend} placeholder"},
		{"bad flag", []string{"scenario", "--nope", "baseline"}, 2, "flag provided but not defined"},
		{"swarm", []string{"scenario", "--broker-bin", "/bin/true", "swarm"}, 2, "swarm scenarios"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("exit status %d; want %d (stderr %q)", code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String()+stderr.String(), tc.want) {
				t.Errorf("output does not say %q:\nstdout %s\nstderr %s", tc.want, stdout.String(), stderr.String())
			}
		})
	}
}
