package sim

import (
	"errors"
	"fmt"
	"strconv"
	"time"
)

// ErrNoFailure is returned by Shrink when the run it is given does not fail.
var ErrNoFailure = errors.New("sim: shrink: the run does not violate any guarantee")

// ShrinkOptions bounds and reports a shrink.
type ShrinkOptions struct {
	// SwarmFlag runs the scenario with a fault profile drawn from the seed, as
	// `ebsim run --swarm` does.
	SwarmFlag bool
	// MaxRuns bounds the runs the search may make; zero means 2000.
	MaxRuns int
	// Progress, when set, is called after every run with the number of fault events
	// the smallest failing schedule so far has.
	Progress func(runs, events int)
}

// ShrinkResult is a minimal failing fault schedule.
type ShrinkResult struct {
	// Scenario replays the failure: the original scenario with only the fault events
	// kept, and the random decisions kept as a replay (Faults.Replay).
	Scenario  Scenario
	Seed      uint64
	Guarantee string // the guarantee the original run broke, which every kept run breaks
	Before    int    // fault events of the original run: timed events plus decisions
	After     int    // fault events of Scenario
	Runs      int    // simulation runs the search made
	Result    *Result
}

// Shrink reduces the faults of a failing run of sc with seed to a minimal list that
// still breaks the same guarantee, by delta debugging (Zeller's ddmin) over the units
// of the fault schedule: the scenario's timed events and the random decisions the run
// recorded (Result.Decisions). A candidate keeps a subset of both: its events stay
// timed events, its decisions are replayed (Faults.Replay), and the seed is kept, so
// the workload is the original one. The result is 1-minimal: removing any one of its
// fault events makes the failure go away (or change guarantee).
func Shrink(sc Scenario, seed uint64, opt ShrinkOptions) (*ShrinkResult, error) {
	if opt.MaxRuns <= 0 {
		opt.MaxRuns = 2000
	}
	res, err := Run(sc, seed, Options{SwarmFlag: opt.SwarmFlag})
	if err != nil {
		return nil, err
	}
	if res.OK() {
		return nil, ErrNoFailure
	}
	s := newShrinker(sc, seed)
	s.guarantee, s.max, s.progress, s.runs = res.Violations[0].Guarantee, opt.MaxRuns, opt.Progress, 1
	units := scheduleUnits(sc, res)
	before := len(units)
	if !s.fails(units) {
		return nil, fmt.Errorf("sim: shrink: replaying the %d fault events of %s seed %d does not break %s again", before, sc.Name, seed, s.guarantee)
	}
	kept := s.prune(units, res.Violations)
	kept = ddmin(kept, s.fails)
	out := s.scenario(kept)
	out.Name = sc.Name + "-shrunk"
	out.Description = fmt.Sprintf("shrunk by ebsim shrink from %s seed %d: %d of %d fault events still break %s; replay: ebsim run FILE --seed %d",
		sc.Name, seed, len(kept), before, s.guarantee, seed)
	final, err := Run(out, seed, Options{})
	if err != nil {
		return nil, err
	}
	return &ShrinkResult{Scenario: out, Seed: seed, Guarantee: s.guarantee, Before: before, After: len(kept), Runs: s.runs + 1, Result: final}, nil
}

// prune makes the cheap cuts before ddmin. A run is identical to the original up to
// its first violation as long as the faults before it are the same (decisions after
// it number later messages), so the faults after the first violation of the
// guarantee go first. Then each fault family is dropped whole while the failure
// stays: a family of hundreds of message delays is often irrelevant, and ddmin
// alone, whose message-numbered decisions shift when others are removed, would spend
// its budget finding that out.
func (s *shrinker) prune(units []unit, vs []Violation) []unit {
	for _, v := range vs {
		if v.Guarantee != s.guarantee {
			continue
		}
		var before []unit
		for _, u := range units {
			if u.at() <= v.At {
				before = append(before, u)
			}
		}
		if len(before) < len(units) && s.fails(before) {
			units = before
		}
		break
	}
	for _, fam := range Families {
		var rest []unit
		for _, u := range units {
			if u.family() != fam {
				rest = append(rest, u)
			}
		}
		if len(rest) < len(units) && s.fails(rest) {
			units = rest
		}
	}
	return units
}

// at returns when the unit's fault happens.
func (u unit) at() time.Duration {
	if u.event != nil {
		return u.event.At
	}
	return u.decision.At
}

// family returns the unit's fault family.
func (u unit) family() string {
	if u.event != nil {
		return u.event.Kind
	}
	return u.decision.Family
}

// unit is one fault event of a schedule: a timed event or a recorded decision.
type unit struct {
	event    *FaultEvent
	decision *Decision
}

// scheduleUnits returns the fault schedule of a run of sc: its timed events and the
// random decisions res recorded. A skew decision made after the start comes from a
// timed skew event, which stands for it.
func scheduleUnits(sc Scenario, res *Result) []unit {
	var units []unit
	for i := range sc.Faults.Events {
		units = append(units, unit{event: &sc.Faults.Events[i]})
	}
	for i, d := range res.Decisions {
		if d.Family == FamSkew && d.At > 0 {
			continue
		}
		units = append(units, unit{decision: &res.Decisions[i]})
	}
	return units
}

// newShrinker returns a shrinker whose candidates are sc, without its faults,
// replaying a subset of them with seed.
func newShrinker(sc Scenario, seed uint64) *shrinker {
	s := &shrinker{base: sc, seed: seed}
	s.base.Swarm = false
	s.base.Faults = Faults{Replay: true}
	return s
}

type shrinker struct {
	base      Scenario // the scenario with no faults, replay on
	seed      uint64
	guarantee string
	max       int
	runs      int
	best      int
	progress  func(runs, events int)
}

// scenario is the base scenario with the faults of units.
func (s *shrinker) scenario(units []unit) Scenario {
	sc := s.base
	sc.Faults.Events = nil
	sc.Faults.Decisions = nil
	for _, u := range units {
		if u.event != nil {
			sc.Faults.Events = append(sc.Faults.Events, *u.event)
		} else {
			sc.Faults.Decisions = append(sc.Faults.Decisions, *u.decision)
		}
	}
	return sc
}

// fails runs the schedule of units and reports whether it breaks the guarantee.
// Past the run budget every candidate counts as passing, so the search ends with
// what it has.
func (s *shrinker) fails(units []unit) bool {
	if s.runs >= s.max {
		return false
	}
	s.runs++
	res, err := Run(s.scenario(units), s.seed, Options{})
	ok := err == nil && res.Panic == "" && broke(res, s.guarantee)
	if ok && (s.best == 0 || len(units) < s.best) {
		s.best = len(units)
	}
	if s.progress != nil {
		s.progress(s.runs, s.best)
	}
	return ok
}

func broke(res *Result, guarantee string) bool {
	for _, v := range res.Violations {
		if v.Guarantee == guarantee {
			return true
		}
	}
	return false
}

// ddmin is Zeller's delta debugging minimisation: it tries each of n chunks alone,
// then each complement, and refines the split when neither fails. fails(nil) is tried
// first: a failure that needs no fault at all shrinks to nothing.
func ddmin[T any](units []T, fails func([]T) bool) []T {
	if len(units) > 0 && fails(nil) {
		return nil
	}
	n := 2
	for len(units) >= 2 {
		chunks := split(units, n)
		reduced := false
		for _, c := range chunks {
			if fails(c) {
				units, n, reduced = c, 2, true
				break
			}
		}
		if !reduced && n > 2 {
			for i := range chunks {
				if c := complement(chunks, i); fails(c) {
					units, n, reduced = c, max(n-1, 2), true
					break
				}
			}
		}
		if !reduced {
			if n >= len(units) {
				break
			}
			n = min(2*n, len(units))
		}
	}
	return units
}

// split cuts units into n chunks of nearly equal size.
func split[T any](units []T, n int) [][]T {
	chunks := make([][]T, 0, n)
	start := 0
	for i := range n {
		end := start + (len(units)-start)/(n-i)
		chunks = append(chunks, units[start:end:end])
		start = end
	}
	return chunks
}

// complement returns every chunk but chunks[i], joined.
func complement[T any](chunks [][]T, i int) []T {
	var out []T
	for j, c := range chunks {
		if j != i {
			out = append(out, c...)
		}
	}
	return out
}

// String describes a shrink in one line.
func (r *ShrinkResult) String() string {
	return r.Scenario.Name + ": " + strconv.Itoa(r.After) + " of " + strconv.Itoa(r.Before) +
		" fault events still break " + r.Guarantee + " (" + strconv.Itoa(r.Runs) + " runs)"
}
