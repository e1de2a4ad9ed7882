package sim

import (
	"errors"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDDMin checks that ddmin finds the 1-minimal failing subsets of a synthetic
// failure and that each candidate it tries is a subset of the input.
func TestDDMin(t *testing.T) {
	tests := []struct {
		name  string
		n     int
		needs []int // the failure needs all of these
		want  []int
	}{
		{"one of fifty", 50, []int{23}, []int{23}},
		{"two far apart", 50, []int{7, 41}, []int{7, 41}},
		{"three", 100, []int{0, 50, 99}, []int{0, 50, 99}},
		{"all of four", 4, []int{0, 1, 2, 3}, []int{0, 1, 2, 3}},
		{"none needed", 10, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			units := make([]int, tt.n)
			for i := range units {
				units[i] = i
			}
			runs := 0
			fails := func(c []int) bool {
				runs++
				for _, x := range c {
					if !slices.Contains(units, x) {
						t.Fatalf("candidate %v has %d, not in the input", c, x)
					}
				}
				for _, x := range tt.needs {
					if !slices.Contains(c, x) {
						return false
					}
				}
				return true
			}
			got := ddmin(units, fails)
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("ddmin() mismatch (-want +got):\n%s", d)
			}
			if runs > 4*tt.n*tt.n {
				t.Errorf("ddmin() made %d runs for %d units", runs, tt.n)
			}
		})
	}
}

// TestShrinkNoFailure checks that a passing run is not shrunk.
func TestShrinkNoFailure(t *testing.T) {
	sc, ok := Lookup("worker-crash")
	if !ok {
		t.Fatal("no worker-crash scenario")
	}
	if _, err := Shrink(sc, 1, ShrinkOptions{}); !errors.Is(err, ErrNoFailure) {
		t.Errorf("Shrink() error %v, want ErrNoFailure", err)
	}
}

// TestShrinkReplayAll checks what Shrink rests on: replaying every unit of a run's
// fault schedule (its timed events and recorded decisions) reproduces the run.
func TestShrinkReplayAll(t *testing.T) {
	for _, tt := range []struct {
		name  string
		seed  uint64
		swarm bool
	}{{"message-loss", 3, false}, {"heartbeat-loss", 2, false}, {"slow-handler", 1, false}, {"swarm", 5, false}, {"worker-crash", 4, true}} {
		t.Run(tt.name, func(t *testing.T) {
			sc, ok := Lookup(tt.name)
			if !ok {
				t.Fatalf("no scenario %s", tt.name)
			}
			orig, err := Run(sc, tt.seed, Options{SwarmFlag: tt.swarm})
			if err != nil {
				t.Fatal(err)
			}
			units := scheduleUnits(sc, orig)
			s := newShrinker(sc, tt.seed)
			rep, err := Run(s.scenario(units), tt.seed, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if len(orig.Decisions) == 0 {
				t.Fatalf("%s seed %d made no random decision: the test shows nothing", tt.name, tt.seed)
			}
			if orig.Fingerprint != rep.Fingerprint || orig.Metrics.Events != rep.Metrics.Events {
				t.Errorf("replay of %d units differs: fingerprint %s, replay %s; events %d, replay %d",
					len(units), orig.Fingerprint, rep.Fingerprint, orig.Metrics.Events, rep.Metrics.Events)
			}
			t.Logf("%d decisions; fingerprint %s, replay %s", len(orig.Decisions), orig.Fingerprint, rep.Fingerprint)
		})
	}
}
