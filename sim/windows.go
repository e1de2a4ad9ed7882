package sim

import (
	"cmp"
	"slices"
	"time"
)

// FaultWindow is one fault as it shows on a timeline: its family, the node it hit
// and when, in virtual time since the start. A fault that lasts (a crash until its
// restart, a pause, a partition, a broker's downtime, a timed message fault, a skew)
// spans From to To; one that happens at an instant (a restart, a malformed message,
// a random decision about one message or one request) has To == From.
type FaultWindow struct {
	Family string
	Node   string // "" when a timed message fault hits every node
	From   time.Duration
	To     time.Duration
	Rate   float64 // the clock rate of a skew
}

// Instant reports whether the fault happened at an instant rather than over a span.
func (w FaultWindow) Instant() bool { return w.To == w.From }

// FaultWindows returns the faults of a run of sc, ordered by start, then family, then
// node: the timed events of the schedule and every decision the run recorded
// (res.Decisions: the random faults that fired, or the replayed ones). A fault that
// never ends (a crash without restart, a skew) lasts until the end of the run. A
// timed event is shown as scheduled even when it changed nothing (a pause of a
// worker that had crashed).
func FaultWindows(sc Scenario, res *Result) []FaultWindow {
	end := res.Metrics.Virtual
	span := func(at, d time.Duration) time.Duration {
		if d <= 0 {
			return max(end, at)
		}
		return at + d
	}
	var ws []FaultWindow
	for _, e := range sc.Faults.Events {
		w := FaultWindow{Family: e.Kind, Node: e.Node, From: e.At, To: e.At + e.For}
		switch e.Kind {
		case FamSkew:
			continue // every skew is in the decisions, timed ones included
		case FamCrash:
			w.To = span(e.At, e.For)
		case FamRestart, FamMalformed:
			w.To = e.At
		case FamBrokerRestart:
			w.Node = "broker"
		}
		ws = append(ws, w)
	}
	for _, d := range res.Decisions {
		w := FaultWindow{Family: d.Family, Node: d.Node, From: d.At, To: d.At}
		switch d.Family {
		case FamCrash, FamSkew:
			w.To = span(d.At, d.Dur)
			w.Rate = d.Rate
		case FamPause, FamPartition, FamBrokerRestart:
			w.To = d.At + d.Dur
		}
		ws = append(ws, w)
	}
	slices.SortStableFunc(ws, func(a, b FaultWindow) int {
		return cmp.Or(cmp.Compare(a.From, b.From), cmp.Compare(a.Family, b.Family), cmp.Compare(a.Node, b.Node))
	})
	return ws
}
