package sim

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestFaultWindows(t *testing.T) {
	const s = time.Second
	for _, tc := range []struct {
		name string
		want func(end time.Duration) []FaultWindow
	}{
		{"worker-crash", func(end time.Duration) []FaultWindow {
			return []FaultWindow{
				{Family: FamCrash, Node: "w1", From: 1005 * ms, To: end},
				{Family: FamCrash, Node: "w2", From: 2005 * ms, To: 4005 * ms},
			}
		}},
		{"partition", func(time.Duration) []FaultWindow {
			return []FaultWindow{
				{Family: FamPartition, Node: "w1", From: 2 * s, To: 7 * s},
				{Family: FamPartition, Node: "c1", From: 3 * s, To: 5500 * ms},
			}
		}},
		{"broker-restart", func(time.Duration) []FaultWindow {
			return []FaultWindow{{Family: FamBrokerRestart, Node: "broker", From: 3 * s, To: 3800 * ms}}
		}},
		{"clock-skew", func(end time.Duration) []FaultWindow {
			return []FaultWindow{
				{Family: FamSkew, Node: "broker", To: end, Rate: 1.2},
				{Family: FamSkew, Node: "c1", To: end, Rate: 0.8},
				{Family: FamSkew, Node: "w4", To: end, Rate: 0.3},
			}
		}},
		{"baseline", func(time.Duration) []FaultWindow { return nil }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sc := mustLookup(t, tc.name)
			res, err := Run(sc, 1, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tc.want(res.Metrics.Virtual), FaultWindows(sc, res)); d != "" {
				t.Errorf("FaultWindows (-want +got):\n%s", d)
			}
		})
	}
}

// TestFaultWindowsRandom: random decisions become windows (a pause lasts its drawn
// time) or instants (a restart, a dropped message), ordered by start.
func TestFaultWindowsRandom(t *testing.T) {
	sc := Scenario{}
	res := &Result{Metrics: Metrics{Virtual: 10 * time.Second}, Decisions: []Decision{
		{Family: FamPause, Node: "w2", At: 3 * time.Second, Dur: time.Second},
		{Family: FamDrop, N: 17, Node: "c1", At: 2 * time.Second},
		{Family: FamRestart, Node: "w1", At: 1 * time.Second},
		{Family: FamCrash, Node: "w3", At: 4 * time.Second},
	}}
	want := []FaultWindow{
		{Family: FamRestart, Node: "w1", From: 1 * time.Second, To: 1 * time.Second},
		{Family: FamDrop, Node: "c1", From: 2 * time.Second, To: 2 * time.Second},
		{Family: FamPause, Node: "w2", From: 3 * time.Second, To: 4 * time.Second},
		{Family: FamCrash, Node: "w3", From: 4 * time.Second, To: 10 * time.Second},
	}
	got := FaultWindows(sc, res)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("FaultWindows (-want +got):\n%s", d)
	}
	if !got[0].Instant() || got[2].Instant() {
		t.Errorf("Instant: restart %v, pause %v", got[0].Instant(), got[2].Instant())
	}
}
