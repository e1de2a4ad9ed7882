package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/sim"
)

// TestShrinkUsage checks the shrink subcommand's help, usage errors and the answer
// to a run that breaks nothing.
func TestShrinkUsage(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{[]string{"shrink", "-h"}, exitOK, "Usage: ebsim shrink", ""},
		{[]string{"shrink"}, exitUsage, "", "want one scenario"},
		{[]string{"shrink", "nosuch"}, exitUsage, "", "no scenario"},
		{[]string{"shrink", "baseline", "--seed", "x"}, exitUsage, "", "invalid value"},
		{[]string{"shrink", "worker-crash", "--seed", "1"}, exitViolation, "", "nothing to shrink"},
	} {
		code, out, errs := call(tc.args...)
		if code != tc.code || !strings.Contains(out, tc.stdout) || !strings.Contains(errs, tc.stderr) {
			t.Errorf("ebsim %v: exit %d, stdout %q, stderr %q; want %d, %q, %q", tc.args, code, out, errs, tc.code, tc.stdout, tc.stderr)
		}
	}
}

// TestShrinkWrites checks the success path with a stand-in shrinker: the scenario it
// returns is written as TOML that loads back, and the replay command is printed.
func TestShrinkWrites(t *testing.T) {
	defer func(f func(sim.Scenario, uint64, sim.ShrinkOptions) (*sim.ShrinkResult, error)) { simShrink = f }(simShrink)
	var gotSeed uint64
	simShrink = func(sc sim.Scenario, seed uint64, opt sim.ShrinkOptions) (*sim.ShrinkResult, error) {
		gotSeed = seed
		out := sc
		out.Name = sc.Name + "-shrunk"
		out.Faults = sim.Faults{Replay: true, Decisions: []sim.Decision{{Family: sim.FamCrash, At: time.Second, Node: "w1"}}}
		return &sim.ShrinkResult{Scenario: out, Seed: seed, Guarantee: "G5 held-request-not-lost", Before: 40, After: 1, Runs: 9}, nil
	}
	path := filepath.Join(t.TempDir(), "s.toml")
	code, out, errs := call("shrink", "worker-crash", "--seed", "7", "--out", path)
	if code != exitOK {
		t.Fatalf("exit %d, stderr %q", code, errs)
	}
	if gotSeed != 7 {
		t.Errorf("shrinker got seed %d, want 7", gotSeed)
	}
	for _, want := range []string{"1 of 40 fault events", "decision crash", "replay: ebsim run " + path + " --seed 7"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	sc, err := sim.LoadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Name != "worker-crash-shrunk" || !sc.Faults.Replay || len(sc.Faults.Decisions) != 1 || sc.Faults.Decisions[0].Node != "w1" {
		t.Errorf("written scenario %q replay=%t decisions %+v", sc.Name, sc.Faults.Replay, sc.Faults.Decisions)
	}
}
