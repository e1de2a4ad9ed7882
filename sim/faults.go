package sim

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// window is a timed message or handler fault active until a virtual time.
type window struct {
	kind  string
	node  string
	until time.Duration
	prob  float64
	delay time.Duration
	dir   string
	rng   *rand.Rand
}

// decisionKey finds a scripted decision of a message family or of slow.
type decisionKey struct {
	family string
	n      uint64
}

// faultState runs the fault schedule: timed events, random rates (or, with
// Faults.Replay, the scripted decisions) and the network filter. Every random
// decision that fires is recorded in decisions.
type faultState struct {
	r         *run
	ev        []FaultEvent
	rnd       RandomFaults
	replay    bool
	script    map[decisionKey]Decision
	windows   []*window
	decisions []Decision
	netRng    *rand.Rand
	slowRng   *rand.Rand
	parted    map[string]int // partition depth per node
	nodeIdx   map[string]int
	filtering bool // the network filter is installed
}

func newFaultState(r *run) *faultState {
	f := &faultState{
		r:       r,
		ev:      r.sc.Faults.Events,
		rnd:     r.sc.Faults.Random,
		replay:  r.sc.Faults.Replay,
		netRng:  r.streams.Stream("fault/net"),
		slowRng: r.streams.Stream("fault/slow"),
		parted:  map[string]int{},
		nodeIdx: map[string]int{},
	}
	for i, n := range r.tr.names {
		f.nodeIdx[n] = i
	}
	if f.replay {
		f.rnd = RandomFaults{}
		f.script = map[decisionKey]Decision{}
		for _, d := range r.sc.Faults.Decisions {
			f.script[decisionKey{d.Family, d.N}] = d
		}
	}
	return f
}

// none reports whether the schedule injects nothing at all.
func (f *faultState) none() bool {
	z := RandomFaults{HeartbeatDirection: f.rnd.HeartbeatDirection, PauseFor: f.rnd.PauseFor, SlowTime: f.rnd.SlowTime,
		DelayMax: f.rnd.DelayMax, ReorderMax: f.rnd.ReorderMax, PartitionFor: f.rnd.PartitionFor,
		BrokerDown: f.rnd.BrokerDown, RestartAfter: f.rnd.RestartAfter}
	return len(f.ev) == 0 && f.rnd == z && len(f.script) == 0
}

// begin schedules the timed events and the random processes, and installs the
// network filter when some message fault can fire.
func (f *faultState) begin() {
	r := f.r
	for _, e := range f.ev {
		r.clock.At(Epoch.Add(e.At), func() { f.apply(e) })
	}
	netFaults := f.rnd.HeartbeatLoss > 0 || f.rnd.Drop > 0 || f.rnd.Duplicate > 0 || f.rnd.Delay > 0 || f.rnd.Reorder > 0
	for _, e := range f.ev {
		switch e.Kind {
		case FamHeartbeatLoss, FamDrop, FamDuplicate, FamDelay, FamReorder:
			netFaults = true
		}
	}
	if f.replay {
		for _, d := range r.sc.Faults.Decisions {
			switch d.Family {
			case FamHeartbeatLoss, FamDrop, FamDuplicate, FamDelay, FamReorder:
				netFaults = true
			case FamSlow:
			case FamSkew:
				f.skew(d.Node, d.Rate, false)
			default:
				r.clock.At(Epoch.Add(d.At), func() { f.fireProcess(d, false) })
			}
		}
	} else {
		f.beginRandom()
	}
	if netFaults {
		f.filterOn()
	}
}

// filterOn installs the network filter of the message faults.
func (f *faultState) filterOn() {
	if !f.filtering {
		f.filtering = true
		f.r.net.SetFilter(f.filter)
	}
}

// beginRandom starts the Poisson processes of the random process faults, each on its
// own stream, and draws the clock skews.
func (f *faultState) beginRandom() {
	r, rnd := f.r, f.rnd
	for _, w := range r.workers {
		f.poisson(FamCrash, w.name, rnd.Crash, func(*rand.Rand) Decision { return Decision{Dur: rnd.RestartAfter} })
		f.poisson(FamRestart, w.name, rnd.Restart, func(*rand.Rand) Decision { return Decision{} })
		f.poisson(FamPause, w.name, rnd.Pause, func(g *rand.Rand) Decision { return Decision{Dur: drawDur(g, rnd.PauseFor)} })
	}
	for _, n := range r.tr.names[1 : len(r.tr.names)-1] {
		f.poisson(FamPartition, n, rnd.Partition, func(g *rand.Rand) Decision { return Decision{Dur: drawDur(g, rnd.PartitionFor)} })
	}
	f.poisson(FamBrokerRestart, "broker", rnd.BrokerRestart, func(g *rand.Rand) Decision { return Decision{Dur: drawDur(g, rnd.BrokerDown)} })
	f.poisson(FamMalformed, hostileName, rnd.Malformed, func(*rand.Rand) Decision { return Decision{} })
	if rnd.Skew > 0 {
		for _, n := range r.tr.names[:len(r.tr.names)-1] {
			g := r.streams.Stream("fault/skew/" + n)
			rate := 1 + (2*g.Float64()-1)*rnd.Skew
			f.skew(n, rate, true)
		}
	}
}

// drawDur draws a duration uniformly from (0, max].
func drawDur(g *rand.Rand, max time.Duration) time.Duration {
	return 1 + time.Duration(g.Int64N(int64(max)))
}

// poisson fires family on node at the arrivals of a Poisson process of rate per
// second, drawn from the stream "fault/<family>/<node>".
func (f *faultState) poisson(family, node string, rate float64, draw func(*rand.Rand) Decision) {
	if rate <= 0 {
		return
	}
	g := f.r.streams.Stream("fault/" + family + "/" + node)
	gap := func() time.Duration { return time.Duration(g.ExpFloat64() / rate * float64(time.Second)) }
	var next func()
	next = func() {
		d := draw(g)
		d.Family, d.Node, d.At = family, node, f.r.now()
		f.fireProcess(d, true)
		f.r.clock.After(gap(), next)
	}
	f.r.clock.After(gap(), next)
}

// record keeps a decision that fired, counts it and traces it.
func (f *faultState) record(d Decision, node string) {
	f.decisions = append(f.decisions, d)
	f.count(d.Family, node, d.N, d.Dur)
}

// count counts and traces a fault action.
func (f *faultState) count(family, node string, n uint64, dur time.Duration) {
	r := f.r
	r.m.faults[family]++
	idx := f.nodeIdx[node]
	code := uint64(slices.Index(Families, family) + 1)
	r.tr.note(r.now(), idx, code, n, uint64(dur), func() string {
		s := "fault " + family
		if n != 0 {
			s += " #" + strconv.FormatUint(n, 10)
		}
		if dur != 0 {
			s += " " + dur.String()
		}
		return s
	})
}

// worker returns the worker node named name, or nil.
func (f *faultState) worker(name string) *workerNode {
	if i, ok := f.nodeIdx[name]; ok {
		return f.r.workerAt(i)
	}
	return nil
}

// fireProcess carries out a process-family decision; random ones are recorded only
// when they change something.
func (f *faultState) fireProcess(d Decision, random bool) {
	r := f.r
	note := func() {
		if random {
			f.record(d, d.Node)
		} else {
			f.decisions = append(f.decisions, d)
			f.count(d.Family, d.Node, 0, d.Dur)
		}
	}
	switch d.Family {
	case FamCrash, FamRestart, FamPause:
		w := f.worker(d.Node)
		if w == nil || w.crashed || w.paused {
			return
		}
		note()
		f.processFault(d.Family, w, d.Dur)
	case FamPartition:
		if _, ok := f.nodeIdx[d.Node]; !ok || d.Node == "broker" {
			return
		}
		note()
		f.partition(d.Node, d.Dur)
	case FamBrokerRestart:
		if !r.broker.isUp {
			return
		}
		note()
		f.brokerRestart(d.Dur)
	case FamMalformed:
		note()
		r.hostile.send()
	}
}

// processFault crashes, restarts or pauses worker w.
func (f *faultState) processFault(kind string, w *workerNode, d time.Duration) {
	r := f.r
	switch kind {
	case FamCrash:
		w.crash()
		if d > 0 {
			inc := w.inc
			r.clock.After(d, func() {
				if w.inc == inc && w.crashed {
					f.count("restart", w.name, 0, 0)
					w.restart()
				}
			})
		}
	case FamRestart:
		w.restart()
	case FamPause:
		w.pause()
		inc := w.inc
		r.clock.After(d, func() {
			if w.inc == inc {
				w.resume()
			}
		})
	}
}

// partition cuts node from the broker for d.
func (f *faultState) partition(node string, d time.Duration) {
	r := f.r
	f.parted[node]++
	r.net.Partition(node, "broker")
	r.clock.After(d, func() {
		if f.parted[node]--; f.parted[node] == 0 {
			r.net.Heal(node, "broker")
		}
	})
}

// brokerRestart kills the broker and starts an empty one after d.
func (f *faultState) brokerRestart(d time.Duration) {
	r := f.r
	r.broker.down()
	r.clock.After(d, func() { r.broker.up() })
}

// skew sets node's clock rate from now on and re-arms its timer.
func (f *faultState) skew(node string, rate float64, random bool) {
	r := f.r
	i, ok := f.nodeIdx[node]
	if !ok {
		return
	}
	d := Decision{Family: FamSkew, At: r.now(), Node: node, Rate: rate}
	f.decisions = append(f.decisions, d)
	r.m.faults[FamSkew]++
	r.tr.note(r.now(), i, uint64(slices.Index(Families, FamSkew)+1), uint64(rate*1e9), 0, func() string {
		return "fault skew rate " + strconv.FormatFloat(rate, 'f', 6, 64)
	})
	v := int64(r.now())
	if i == brokerIdx {
		r.broker.clk.setRate(v, rate)
		if r.broker.isUp {
			r.broker.arm()
		}
	} else if w := r.workerAt(i); w != nil {
		w.clk.setRate(v, rate)
		if w.m != nil && !w.crashed && !w.paused {
			w.arm()
		}
	} else if c := r.clientAt(i); c != nil {
		c.clk.setRate(v, rate)
		c.arm()
	}
}

// apply carries out a timed fault event.
func (f *faultState) apply(e FaultEvent) {
	r := f.r
	switch e.Kind {
	case FamCrash, FamRestart:
		if w := f.worker(e.Node); w != nil {
			f.count(e.Kind, e.Node, 0, e.For)
			if e.Kind == FamRestart && w.crashed {
				w.restart()
				return
			}
			f.processFault(e.Kind, w, e.For)
		}
	case FamPause:
		if w := f.worker(e.Node); w != nil && !w.crashed && !w.paused {
			f.count(e.Kind, e.Node, 0, e.For)
			f.processFault(e.Kind, w, e.For)
		}
	case FamPartition:
		f.count(e.Kind, e.Node, 0, e.For)
		f.partition(e.Node, e.For)
	case FamBrokerRestart:
		if r.broker.isUp {
			f.count(e.Kind, "broker", 0, e.For)
			f.brokerRestart(e.For)
		}
	case FamSkew:
		f.skew(e.Node, e.Rate, false)
	case FamMalformed:
		f.count(e.Kind, hostileName, 0, 0)
		for range e.Count {
			r.hostile.send()
		}
	default: // slow and the message families: a window
		f.count(e.Kind, e.Node, 0, e.For)
		f.windows = append(f.windows, &window{
			kind: e.Kind, node: e.Node, until: r.now() + e.For, prob: e.Prob, delay: e.Delay, dir: e.Direction,
			rng: r.streams.Stream("fault/window/" + strconv.FormatInt(int64(e.At), 10) + "/" + e.Kind + "/" + e.Node),
		})
	}
}

// isHeartbeat reports whether frames are an MDP/Worker HEARTBEAT.
func isHeartbeat(frames [][]byte) bool {
	return len(frames) == 3 && len(frames[0]) == 0 && len(frames[2]) == 1 &&
		core.Command(frames[2][0]) == core.Heartbeat && string(frames[1]) == core.WorkerHeader
}

func dirMatches(dir string, toBroker bool) bool {
	return dir == Both || (dir == ToBroker) == toBroker
}

// filter decides the fate of every message when message faults are on: timed
// windows first, then the random rates (or the scripted decisions).
func (f *faultState) filter(m *mem.Envelope) mem.Verdict {
	now := f.r.now()
	peer := m.FromNode
	if !m.ToRouter {
		peer = m.ToNode
	}
	hb := isHeartbeat(m.Frames)
	front := m.Addr == "front"
	if len(f.windows) > 0 {
		if v, ok := f.windowVerdict(now, peer, hb, front, m.ToRouter); ok {
			return v
		}
	}
	if f.replay {
		return f.scripted(m.ID)
	}
	rnd, g := &f.rnd, f.netRng
	switch {
	case hb && rnd.HeartbeatLoss > 0 && dirMatches(rnd.HeartbeatDirection, m.ToRouter) && g.Float64() < rnd.HeartbeatLoss:
		f.record(Decision{Family: FamHeartbeatLoss, N: m.ID, At: now, Node: peer}, peer)
		return mem.Drop
	case rnd.Drop > 0 && g.Float64() < rnd.Drop:
		f.record(Decision{Family: FamDrop, N: m.ID, At: now, Node: peer}, peer)
		return mem.Drop
	case front && rnd.Duplicate > 0 && g.Float64() < rnd.Duplicate:
		f.record(Decision{Family: FamDuplicate, N: m.ID, At: now, Node: peer}, peer)
		return mem.Duplicate
	case rnd.Delay > 0 && g.Float64() < rnd.Delay:
		d := drawDur(g, rnd.DelayMax)
		f.record(Decision{Family: FamDelay, N: m.ID, At: now, Node: peer, Dur: d}, peer)
		return mem.Delay(d)
	case rnd.Reorder > 0 && g.Float64() < rnd.Reorder:
		d := drawDur(g, rnd.ReorderMax)
		f.record(Decision{Family: FamReorder, N: m.ID, At: now, Node: peer, Dur: d}, peer)
		return mem.Delay(d)
	}
	return mem.Deliver
}

// scripted returns the verdict of a replayed decision for message n.
func (f *faultState) scripted(n uint64) mem.Verdict {
	for _, fam := range [...]string{FamHeartbeatLoss, FamDrop, FamDuplicate, FamDelay, FamReorder} {
		d, ok := f.script[decisionKey{fam, n}]
		if !ok {
			continue
		}
		f.record(d, d.Node)
		switch fam {
		case FamDuplicate:
			return mem.Duplicate
		case FamDelay, FamReorder:
			return mem.Delay(d.Dur)
		}
		return mem.Drop
	}
	return mem.Deliver
}

func (f *faultState) windowVerdict(now time.Duration, peer string, hb, front, toBroker bool) (mem.Verdict, bool) {
	live := f.windows[:0]
	for _, w := range f.windows {
		if w.until > now {
			live = append(live, w)
		}
	}
	clear(f.windows[len(live):])
	f.windows = live
	for _, w := range f.windows {
		if w.node != "" && w.node != peer && w.node != "broker" {
			continue
		}
		var v mem.Verdict
		switch w.kind {
		case FamHeartbeatLoss:
			if !hb || !dirMatches(w.dir, toBroker) {
				continue
			}
			v = mem.Drop
		case FamDrop:
			v = mem.Drop
		case FamDuplicate:
			if !front {
				continue
			}
			v = mem.Duplicate
		case FamDelay:
			v = mem.Delay(w.delay)
		case FamReorder:
			v = mem.Delay(drawDur(w.rng, w.delay))
		default:
			continue
		}
		if w.prob < 1 && w.rng.Float64() >= w.prob {
			continue
		}
		f.r.m.faults[w.kind]++
		return v, true
	}
	return mem.Deliver, false
}

// slow returns the handler time of request n at worker w when the slow-handler fault
// hits it.
func (f *faultState) slow(n uint64, w *workerNode) (time.Duration, bool) {
	now := f.r.now()
	for _, win := range f.windows {
		if win.kind == FamSlow && win.until > now && (win.node == "" || win.node == w.name) {
			if win.prob >= 1 || win.rng.Float64() < win.prob {
				f.r.m.faults[FamSlow]++
				return win.delay, true
			}
		}
	}
	if f.replay {
		if d, ok := f.script[decisionKey{FamSlow, n}]; ok {
			f.record(d, w.name)
			return d.Dur, true
		}
		return 0, false
	}
	if f.rnd.Slow > 0 && f.slowRng.Float64() < f.rnd.Slow {
		d := Decision{Family: FamSlow, N: n, At: now, Node: w.name, Dur: f.rnd.SlowTime}
		f.record(d, w.name)
		return d.Dur, true
	}
	return 0, false
}
