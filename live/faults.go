package live

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/ebwrk/ebwrk/sim"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// simOnly are the fault families a live run cannot apply: a TCP connection does not
// lose, duplicate or reorder its messages, and the wall clock cannot be skewed per
// process. Delay is left to the sim as well (see the package doc).
var simOnly = []string{sim.FamDrop, sim.FamDuplicate, sim.FamReorder, sim.FamDelay, sim.FamSkew}

// processFamilies are the random fault families whose decisions the sim made are
// replayed live at the same instants.
var processFamilies = []string{sim.FamCrash, sim.FamRestart, sim.FamPause, sim.FamPartition,
	sim.FamBrokerRestart, sim.FamMalformed}

// schedule arms a timer for every timed fault event and every random process-fault
// decision of the sim run, and names the sim-only faults as skipped.
func (r *run) schedule(decisions []sim.Decision) {
	for _, e := range r.sc.Faults.Events {
		if slices.Contains(simOnly, e.Kind) {
			r.skipped[e.Kind] = true
			continue
		}
		r.at(e.At, func() { r.apply(e) })
	}
	rnd := r.sc.Faults.Random
	for fam, rate := range map[string]float64{sim.FamDrop: rnd.Drop, sim.FamDuplicate: rnd.Duplicate,
		sim.FamReorder: rnd.Reorder, sim.FamDelay: rnd.Delay, sim.FamSkew: rnd.Skew} {
		if rate > 0 {
			r.skipped[fam] = true
		}
	}
	for _, d := range decisions {
		if !slices.Contains(processFamilies, d.Family) {
			continue
		}
		e := sim.FaultEvent{At: d.At, Kind: d.Family, Node: d.Node, For: d.Dur, Count: 1}
		if d.Family == sim.FamRestart {
			e.For = 0
		}
		r.at(d.At, func() { r.apply(e) })
	}
}

// at runs f at offset d from the epoch.
func (r *run) at(d time.Duration, f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timers = append(r.timers, time.AfterFunc(time.Until(r.epoch.Add(d)), f))
}

// note records a fault applied.
func (r *run) note(kind, node string, d time.Duration) {
	n := FaultNote{At: time.Since(r.epoch), Kind: kind, Node: node, For: d}
	r.mu.Lock()
	r.applied = append(r.applied, n)
	r.mu.Unlock()
	if r.opt.Log != nil {
		fmt.Fprintf(r.opt.Log, "%8.3fs fault %s %s %v\n", n.At.Seconds(), kind, node, d)
	}
}

// worker returns the slot of worker node name, or nil.
func (r *run) worker(name string) *workerSlot {
	for _, w := range r.workers {
		if w.name == name {
			return w
		}
	}
	return nil
}

// apply carries out one fault on the live processes, as the sim's faultState.apply
// does on its nodes.
func (r *run) apply(e sim.FaultEvent) {
	switch e.Kind {
	case sim.FamCrash, sim.FamRestart, sim.FamPause:
		w := r.worker(e.Node)
		if w == nil {
			return
		}
		r.processFault(e, w)
	case sim.FamSlow:
		r.note(e.Kind, e.Node, e.For) // the worker processes apply it themselves
	case sim.FamHeartbeatLoss:
		r.note(e.Kind, e.Node, e.For)
		for _, w := range r.workers {
			if e.Node == "" || e.Node == w.name {
				w.proxy.LoseHeartbeats(e.Direction, e.Prob, e.For)
			}
		}
	case sim.FamPartition:
		if w := r.worker(e.Node); w != nil {
			r.note(e.Kind, e.Node, e.For)
			w.proxy.Partition(e.For)
			return
		}
		for i, c := range r.clients {
			if c.name == e.Node {
				r.note(e.Kind, e.Node, e.For)
				r.cprox[i].Partition(e.For)
			}
		}
	case sim.FamBrokerRestart:
		r.note(e.Kind, "broker", e.For)
		r.broker.kill()
		r.at(time.Since(r.epoch)+e.For, func() {
			if err := r.broker.start(r.ctx); err != nil {
				r.mu.Lock()
				r.failures = append(r.failures, "the broker could not be started again: "+err.Error())
				r.mu.Unlock()
			}
		})
	case sim.FamMalformed:
		if r.hostile.send(r, e.Count) {
			r.note(e.Kind, "evil", 0)
		}
	}
}

// comeback names the new process of a crashed worker that comes back after the
// crash's For: it silences nothing (the old process is gone already).
const comeback = "comeback"

// processFault crashes, restarts or pauses worker w: SIGKILL, SIGKILL and a new
// process, SIGSTOP and SIGCONT after the pause.
func (r *run) processFault(e sim.FaultEvent, w *workerSlot) {
	w.mu.Lock()
	defer w.mu.Unlock()
	switch e.Kind {
	case sim.FamCrash:
		if w.crashed || w.paused {
			return
		}
		r.note(e.Kind, w.name, e.For)
		w.proxy.HoldOnClose() // as the sim's crash: the connection stays open, silent
		w.p.kill()
		w.crashed = true
		if e.For > 0 {
			inc := w.inc
			r.at(time.Since(r.epoch)+e.For, func() {
				w.mu.Lock()
				defer w.mu.Unlock()
				if w.inc == inc && w.crashed {
					r.note(comeback, w.name, 0)
					r.restart(w)
				}
			})
		}
	case sim.FamRestart:
		if w.paused {
			return
		}
		r.note(e.Kind, w.name, 0)
		r.restart(w)
	case sim.FamPause:
		if w.crashed || w.paused {
			return
		}
		r.note(e.Kind, w.name, e.For)
		w.p.signal(syscall.SIGSTOP)
		w.paused = true
		inc := w.inc
		r.at(time.Since(r.epoch)+e.For, func() {
			w.mu.Lock()
			defer w.mu.Unlock()
			if w.inc == inc && w.paused {
				w.p.signal(syscall.SIGCONT)
				w.paused = false
			}
		})
	}
}

// restart kills w's process if it runs and starts a new one; w.mu is held.
func (r *run) restart(w *workerSlot) {
	if d := w.p.died(); d != "" {
		w.deaths = append(w.deaths, d)
	}
	w.p.kill()
	if err := r.startWorker(w); err != nil {
		w.deaths = append(w.deaths, "restart failed: "+err.Error())
	}
}

// hostile is the hostile peer: raw DEALERs on both broker endpoints sending the
// malformed messages drawn as the sim draws them (sim.DrawMalformed), from a
// seeded stream of its own.
type hostile struct {
	mu          sync.Mutex
	rng         *rand.Rand
	front, back *zmq.RawPeer
	sent        int
	failed      string
}

// send sends n malformed messages; false when the peer could not connect.
func (h *hostile) send(r *run, n int) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.failed != "" {
		return false
	}
	if h.front == nil {
		h.rng = rand.New(rand.NewPCG(r.seed, 0x686f7374696c65))
		var err error
		if h.front, err = zmq.DialRaw(r.broker.frontend); err == nil {
			h.back, err = zmq.DialRaw(r.broker.backend)
		}
		if err != nil {
			h.failed = err.Error()
			return false
		}
	}
	for range n {
		frames := sim.DrawMalformed(h.rng)
		if len(frames) == 0 {
			frames = [][]byte{{}} // a DEALER cannot send no frame at all: one empty frame
		}
		p := h.front
		if h.rng.IntN(2) == 1 {
			p = h.back
		}
		if p.Send(frames) == nil {
			h.sent++
		}
	}
	return true
}

func (h *hostile) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range []*zmq.RawPeer{h.front, h.back} {
		if p != nil {
			_ = p.Close()
		}
	}
}
