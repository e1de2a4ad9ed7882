package live

import (
	"bytes"
	"slices"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// Metrics are the figures of a live run, named as the sim's.
type Metrics struct {
	Requests uint64            `json:"requests"`
	OK       uint64            `json:"ok"`
	Failed   map[string]uint64 `json:"failed"` // by reason; "hung" is a request the run had to cut off
	Retries  uint64            `json:"retries"`
	// Requeues and Purged come from the broker's events: with a broker started by
	// --exec there are none and Events is false.
	Events    bool               `json:"events"`
	Requeues  uint64             `json:"requeues"`
	Purged    uint64             `json:"purged"`  // workers removed as silent or unreachable
	Dropped   uint64             `json:"dropped"` // inputs the broker refused
	Latency   sim.LatencyFigures `json:"latency"`
	Elapsed   time.Duration      `json:"elapsed"`
	Malformed int                `json:"malformed_sent"`
	Proxy     ProxyStats         `json:"proxy"` // summed over every proxy
}

// Violation is one broken guarantee of a live run.
type Violation struct {
	Guarantee string        `json:"guarantee"` // sim's name, e.g. sim.GReply
	At        time.Duration `json:"at"`        // since the run's start
	Detail    string        `json:"detail"`
}

// Result is what a live run yields, with the sim run of the same scenario and seed.
type Result struct {
	Scenario   string      `json:"scenario"`
	Seed       uint64      `json:"seed"`
	Metrics    Metrics     `json:"metrics"`
	Violations []Violation `json:"violations"`
	// Skipped names the fault families of the scenario that stay sim-only.
	Skipped []string `json:"skipped"`
	// NotJudged names the guarantees the live checker does not judge, with why.
	NotJudged []string     `json:"not_judged"`
	Faults    []FaultNote  `json:"faults"` // the faults applied, in order
	Samples   []sim.Sample `json:"-"`
	Outcomes  []Outcome    `json:"-"`
	Sim       *sim.Result  `json:"-"`
}

// OK reports whether every judged guarantee held.
func (r *Result) OK() bool { return len(r.Violations) == 0 }

// Tolerances of the live checker: the wall clock of a loaded 2-core machine is late
// by scheduler noise, and the sim's bounds (1 ms for G2) are for virtual time.
const (
	// EndTolerance is G2's slack over timeout × attempts.
	EndTolerance = 300 * time.Millisecond
	// PurgeTolerance is G4's slack over liveness × interval + one interval.
	PurgeTolerance = 300 * time.Millisecond
)

// collect stops the processes, reads the broker's events and judges the run.
func (r *run) collect(end time.Duration) *Result {
	res := &Result{Scenario: r.sc.Name, Seed: r.seed, Violations: []Violation{}, Skipped: []string{}}
	m := &res.Metrics
	m.Elapsed = end
	m.Failed = map[string]uint64{}
	var lat []time.Duration
	for _, c := range r.clients {
		c.mu.Lock()
		res.Outcomes = append(res.Outcomes, c.outcomes...)
		c.mu.Unlock()
		m.Retries += c.stats().Retries
	}
	slices.SortFunc(res.Outcomes, func(a, b Outcome) int { return int(a.Start - b.Start) })
	for _, o := range res.Outcomes {
		m.Requests++
		if o.OK {
			m.OK++
			lat = append(lat, o.Latency)
			res.Samples = append(res.Samples, sim.Sample{End: o.Start + o.Latency, Latency: o.Latency})
		} else {
			m.Failed[o.Reason]++
		}
	}
	m.Latency = latencyFigures(lat)
	for _, fam := range sim.Families {
		if r.skipped[fam] {
			res.Skipped = append(res.Skipped, fam)
		}
	}
	r.mu.Lock()
	res.Faults = append([]FaultNote(nil), r.applied...)
	r.mu.Unlock()
	r.hostile.mu.Lock()
	m.Malformed = r.hostile.sent
	r.hostile.mu.Unlock()
	for _, p := range append(append([]*Proxy(nil), r.cprox...), r.proxiesOfWorkers()...) {
		s := p.Stats()
		m.Proxy.Forwarded += s.Forwarded
		m.Proxy.HeartbeatsToBroker += s.HeartbeatsToBroker
		m.Proxy.HeartbeatsFromBrkr += s.HeartbeatsFromBrkr
		m.Proxy.Cut += s.Cut
		m.Proxy.Connections += s.Connections
	}
	// Process lifetimes: a process that ended by itself is a crash of the software
	// under test, whichever it is.
	for _, w := range r.workers {
		w.mu.Lock()
		deaths := append([]string(nil), w.deaths...)
		if d := w.p.died(); d != "" {
			deaths = append(deaths, d)
		}
		w.mu.Unlock()
		for _, d := range deaths {
			res.violate(sim.GNoPanic, end, "worker "+w.name+" process died by itself: "+d)
		}
	}
	r.mu.Lock()
	for _, f := range r.failures {
		res.violate(sim.GNoPanic, end, f)
	}
	r.mu.Unlock()
	brokerDeaths := r.broker.stop()
	for _, d := range brokerDeaths {
		res.violate(sim.GNoPanic, end, "the broker process died by itself: "+d)
	}
	var evs [][]brokerEvent
	if r.broker.events() {
		var err error
		if evs, err = r.broker.readEvents(); err != nil {
			res.violate(sim.GNoPanic, end, "the broker's events could not be read: "+err.Error())
		}
		m.Events = true
		for _, inc := range evs {
			for _, e := range inc {
				switch e.Event {
				case core.RequestRequeued.String():
					m.Requeues++
				case core.WorkerRemoved.String():
					if e.Reason == core.Silent.String() || e.Reason == core.Unreachable.String() {
						m.Purged++
					}
				case core.InputDropped.String():
					m.Dropped++
				}
			}
		}
	}
	r.check(res, evs, len(brokerDeaths) > 0)
	return res
}

func (r *run) proxiesOfWorkers() []*Proxy {
	ps := make([]*Proxy, len(r.workers))
	for i, w := range r.workers {
		ps[i] = w.proxy
	}
	return ps
}

func (res *Result) violate(g string, at time.Duration, detail string) {
	res.Violations = append(res.Violations, Violation{Guarantee: g, At: at, Detail: detail})
}

// latencyFigures summarises latencies (nearest rank, as the sim); it sorts ls.
func latencyFigures(ls []time.Duration) sim.LatencyFigures {
	if len(ls) == 0 {
		return sim.LatencyFigures{}
	}
	slices.Sort(ls)
	pct := func(q float64) time.Duration {
		i := int(q*float64(len(ls))+0.999999999) - 1
		return ls[min(max(i, 0), len(ls)-1)]
	}
	var sum float64
	for _, l := range ls {
		sum += float64(l)
	}
	return sim.LatencyFigures{Count: uint64(len(ls)), Min: ls[0], P50: pct(0.5), P90: pct(0.9), P99: pct(0.99),
		P999: pct(0.999), Max: ls[len(ls)-1], Mean: time.Duration(sum / float64(len(ls)))}
}

// equalFrames reports whether two messages have the same frames.
func equalFrames(a, b [][]byte) bool {
	return slices.EqualFunc(a, b, bytes.Equal)
}

// joinNames joins names with ", ".
func joinNames(s []string) string { return strings.Join(s, ", ") }
