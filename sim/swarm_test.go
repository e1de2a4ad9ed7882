package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestSummarizeShards: the summaries of the parts of a sweep, their seed results
// put back together, equal the sweep's own summary; Progress counts every seed.
func TestSummarizeShards(t *testing.T) {
	sc := mustLookup(t, "swarm")
	sc.Clients.Duration = 3 * time.Second
	var calls []SweepProgress
	whole, err := Sweep(t.Context(), sc, SweepOptions{First: 5, Seeds: 9, Parallel: 2, Source: "swarm",
		Progress: func(p SweepProgress) { calls = append(calls, p) }})
	if err != nil {
		t.Fatal(err)
	}
	var all []SeedResult
	for _, part := range [][2]int{{5, 3}, {8, 3}, {11, 3}} {
		res, err := Sweep(t.Context(), sc, SweepOptions{First: uint64(part[0]), Seeds: part[1], Source: "swarm"})
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, res.Results...)
	}
	if d := cmp.Diff(whole, Summarize(sc.Name, all), cmpopts.IgnoreFields(SweepResult{}, "Wall")); d != "" {
		t.Errorf("summary of the parts differs from the sweep's (-sweep +parts):\n%s", d)
	}
	if len(whole.Results) != 9 || whole.Results[0].Seed != 5 || whole.Results[8].Seed != 13 {
		t.Errorf("Results are not the seeds 5..13 in order: %+v", whole.Results)
	}
	if len(calls) != 9 || calls[8] != (SweepProgress{Done: 9, Failed: len(whole.Failed), Total: 9}) {
		t.Errorf("progress calls %+v, want 9 ending at 9/9", calls)
	}
}

// TestSummarizeFailures: failing seeds are listed in seed order and counted once per
// guarantee however many times they broke it.
func TestSummarizeFailures(t *testing.T) {
	v := func(g string) Violation { return Violation{Guarantee: g} }
	got := Summarize("x", []SeedResult{
		{Seed: 1, Requests: 3, Successes: 2, Failures: 1, Events: 10},
		{Seed: 2, Requests: 1, Events: 5, Violations: []Violation{v(GHeld), v(GHeld), v(GNoPanic)}},
		{Seed: 3, Violations: []Violation{v(GHeld)}},
	})
	want := &SweepResult{Scenario: "x", Seeds: 3, Passed: 1, Requests: 4, Successes: 2, Failures: 1, Events: 15,
		Violations: map[string]int{GHeld: 2, GNoPanic: 1}}
	if d := cmp.Diff(want, got, cmpopts.IgnoreFields(SweepResult{}, "Failed", "Results")); d != "" {
		t.Errorf("Summarize (-want +got):\n%s", d)
	}
	if len(got.Failed) != 2 || got.Failed[0].Seed != 2 || got.Failed[1].Seed != 3 {
		t.Errorf("Failed = %+v, want seeds 2 and 3", got.Failed)
	}
}
