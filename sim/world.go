package sim

import (
	"fmt"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// World is one simulated system: the virtual clock, the in-memory network, the broker
// node, the worker and client nodes, the hostile peer and the fault schedule, built
// from a Scenario and a seed. It is the one driver of the core machines on
// transport/mem: Run builds a World and runs it until the scenario's workload is over;
// a step-by-step driver (conformance's rapid state machine, its fuzz targets and wire
// cases) builds one, usually Empty, and acts on it: add workers and clients, make
// requests, inject faults, let virtual time pass. An Observer sees every broker step.
//
// A World is used by one goroutine. Every action that runs state machines catches a
// panic of one: the World then records it (Panic) and ignores further actions.
type World struct {
	r       *run
	profile *RandomFaults
}

// NewWorld validates sc and builds its World at time zero with seed: the broker is up,
// the scenario's workers started and its clients' workloads begun (none of either in
// an Empty World), and its fault schedule armed. Nothing has run yet.
func NewWorld(sc Scenario, seed uint64, opt Options) (*World, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	sc = sc.withDefaults()
	var profile *RandomFaults
	if sc.Swarm || opt.SwarmFlag {
		sc, profile = applySwarm(sc, seed)
	}
	source := opt.Source
	if source == "" {
		source = sc.Name
	}
	r := newRun(sc, seed, opt)
	r.replay = ReplayCommand(source, seed, opt.SwarmFlag && !sc.Swarm)
	r.begin()
	return &World{r: r, profile: profile}, nil
}

// Scenario returns the scenario the World runs, with its defaults filled in (and a
// swarm run's drawn faults).
func (w *World) Scenario() Scenario { return w.r.sc }

// Now returns the virtual time.
func (w *World) Now() time.Time { return w.r.clock.Now() }

// Elapsed returns the virtual time since the start.
func (w *World) Elapsed() time.Duration { return w.r.now() }

// BrokerConfig returns the configuration the broker runs with.
func (w *World) BrokerConfig() core.BrokerConfig { return w.r.broker.cfg }

// Broker returns the running core broker, or nil while it is down.
func (w *World) Broker() *core.Broker { return w.r.broker.m }

// Panic returns the panic that stopped the World (its value and stack), or "".
func (w *World) Panic() string { return w.r.panicked }

// Done reports whether every client of the scenario's workload has finished.
func (w *World) Done() bool { return w.r.done }

// Result returns the figures of the run so far, as Run returns them at its end.
func (w *World) Result() *Result {
	r := w.r
	if !r.done {
		r.end = r.now()
	}
	res := r.result()
	res.Profile = w.profile
	return res
}

// guard runs f unless the World has stopped, turning a panic into a stop.
func (w *World) guard(f func()) {
	r := w.r
	if r.panicked != "" {
		return
	}
	defer r.catch()
	f()
}

// Advance lets d of virtual time pass, running every event due in it.
func (w *World) Advance(d time.Duration) {
	w.guard(func() { w.r.clock.RunUntil(w.r.clock.Now().Add(d)) })
}

// Next returns the time of the next event, if there is one.
func (w *World) Next() (time.Time, bool) { return w.r.clock.Next() }

// Step runs the next event and reports whether there was one (false also once the
// World has stopped on a panic).
func (w *World) Step() bool {
	ran := false
	w.guard(func() { ran = w.r.clock.Step() })
	return ran && w.r.panicked == ""
}

// RunWhile runs events while cond holds and the next event is not after until; it
// reports whether cond still holds. With cond "requests are open" it runs until the
// World is quiet or the bound has passed.
func (w *World) RunWhile(cond func() bool, until time.Time) bool {
	for cond() {
		next, ok := w.Next()
		if !ok || next.After(until) || !w.Step() {
			return cond()
		}
	}
	return false
}

// String names the World's scenario and seed and where it stands.
func (w *World) String() string {
	return fmt.Sprintf("world %s seed %d at %s", w.r.sc.Name, w.r.seed, formatTime(w.r.now()))
}
