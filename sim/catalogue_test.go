package sim

import (
	"fmt"
	"testing"
)

// TestCatalogueEffects runs every catalogue scenario and checks that it shows the
// effect it names, and that every guarantee held.
func TestCatalogueEffects(t *testing.T) {
	failed := func(m Metrics) uint64 { return total(m.Failures) }
	checks := map[string]func(m Metrics) error{
		"baseline": func(m Metrics) error {
			return want(m.Successes == m.Requests && m.Retries == 0, "every request succeeds at once")
		},
		"worker-crash": func(m Metrics) error {
			return want(m.Requeues > 0 && m.Purged >= 2 && failed(m) == 0, "requeues, 2 purged, no failure")
		},
		"worker-restart": func(m Metrics) error {
			return want(m.Removed["unreachable"] > 0 && m.Requeues > 0 && failed(m) == 0, "unreachable workers removed, requeues, no failure")
		},
		"worker-pause": func(m Metrics) error {
			return want(m.Purged > 0 && m.Retries > 0 && total(m.Discarded) > 0 && failed(m) == 0, "purge, retries, late reply discarded, no failure")
		},
		"slow-handler": func(m Metrics) error {
			return want(m.Faults[FamSlow] > 0 && m.Retries > 0 && total(m.Discarded) > 0 && failed(m) == 0, "retries and discarded replies, no failure")
		},
		"heartbeat-loss": func(m Metrics) error {
			return want(m.Purged > 0 && m.Removed["unreachable"] > 0 && failed(m) == 0, "a purge and a reconnect, no failure")
		},
		"message-loss": func(m Metrics) error {
			return want(m.Retries > 0 && m.Discarded["duplicate"] > 0 && m.Network.Duplicated > 0 && m.Network.Dropped > 0, "retries, duplicates discarded")
		},
		"reorder": func(m Metrics) error {
			return want(m.Network.Delayed > 0 && failed(m) == 0, "delayed messages, no failure")
		},
		"partition": func(m Metrics) error {
			return want(m.Purged > 0 && m.Failures["timed out"] > 0, "a purge and a request timed out")
		},
		"broker-restart": func(m Metrics) error {
			return want(m.Retries > 0 && m.Dropped["unknown worker"] > 0 && failed(m) == 0, "retries, workers told to reconnect, no failure")
		},
		"clock-skew": func(m Metrics) error {
			return want(m.Faults[FamSkew] == 3 && m.Purged > 0 && failed(m) == 0, "3 skewed clocks, the slow one purged")
		},
		"malformed": func(m Metrics) error {
			return want(m.Dropped["malformed"] > 0 && failed(m) == 0, "malformed input dropped, no failure")
		},
		"overload": func(m Metrics) error {
			return want(m.Failures["queue full"] > 0 && m.Failures["expired in queue"] > 0, "queue-full and expiry refusals")
		},
		"hung-handler": func(m Metrics) error {
			return want(m.Removed["held too long"] > 0 && m.Requeues > 0 && m.StuckBusy == 0 && m.Purged == 0 && failed(m) == 0,
				"workers removed as held too long (none as silent), requeues, none stuck busy, no failure")
		},
		"swarm": func(m Metrics) error {
			return want(total(m.Faults) > 0 && m.StuckBusy == 0, "some faults, no worker stuck busy")
		},
		"credit": func(m Metrics) error {
			// One worker purged, more requests requeued: it held several at once.
			return want(m.Purged == 1 && m.Requeues >= 2 && failed(m) == 0 && m.Successes == m.Requests,
				"one credit worker purged holding several requests, each requeued, all succeed")
		},
		"scale": func(m Metrics) error {
			return want(m.Successes == m.Requests && m.Virtual >= 60e9 && m.Requests > 100000, "60 virtual seconds, all succeed")
		},
	}
	cat := Catalogue()
	if len(cat) < 12 {
		t.Errorf("catalogue has %d scenarios, want at least 12", len(cat))
	}
	for _, sc := range cat {
		t.Run(sc.Name, func(t *testing.T) {
			if testing.Short() && sc.Name == "scale" {
				t.Skip("long")
			}
			check, ok := checks[sc.Name]
			if !ok {
				t.Fatalf("no effect check for %s", sc.Name)
			}
			res, err := Run(sc, 1, Options{})
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range res.Violations {
				t.Errorf("violation: %s", v)
			}
			if err := check(res.Metrics); err != nil {
				t.Errorf("%v; got %+v", err, res.Metrics)
			}
		})
	}
}

func want(ok bool, what string) error {
	if ok {
		return nil
	}
	return fmt.Errorf("want %s", what)
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// TestSwarmHoldLimit shows what the swarm's hold limit is for: without it, seeds under
// message loss end with workers the broker holds busy for a reply that was lost; with
// it, none.
func TestSwarmHoldLimit(t *testing.T) {
	sc, ok := Lookup("swarm")
	if !ok {
		t.Fatal("no swarm scenario")
	}
	off := sc
	off.Broker.HoldLimit = 0
	for _, tc := range []struct {
		name      string
		sc        Scenario
		wantStuck bool
	}{
		{"limit off", off, true},
		{"catalogue", sc, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Sweep(t.Context(), tc.sc, SweepOptions{First: 1, Seeds: 20})
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Failed) > 0 {
				t.Errorf("%d seeds failed: %+v", len(res.Failed), res.Failed[0].Violations)
			}
			if got := res.StuckBusy > 0; got != tc.wantStuck {
				t.Errorf("workers stuck busy at end = %d over 20 seeds (%d seeds), want stuck: %v", res.StuckBusy, res.StuckSeeds, tc.wantStuck)
			}
		})
	}
}
