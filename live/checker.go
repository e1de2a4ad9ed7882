package live

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// check judges the guarantees from what the live parts reported: the clients'
// outcomes, the broker's events (evs, one slice per broker incarnation; nil with
// --exec) and the processes' lifetimes (judged in collect).
func (r *run) check(res *Result, evs [][]brokerEvent, brokerDied bool) {
	cs := &r.sc.Clients
	bound := cs.Timeout*time.Duration(cs.Attempts) + EndTolerance
	registered := map[string]bool{}
	for _, sv := range r.sc.Services {
		registered[sv.Name] = true
	}
	for _, o := range res.Outcomes {
		id := o.Client + " request " + strconv.FormatUint(o.K, 10) + " (" + o.Service + ")"
		switch {
		case o.OK && o.MMIName != "":
			got := ""
			if len(o.Reply) == 1 {
				got = string(o.Reply[0])
			}
			if got != "200" && got != "404" {
				res.violate(sim.GMMI, o.Start, fmt.Sprintf("%s: mmi.service %s answered %q, want 200 or 404", id, o.MMIName, o.Reply))
			} else if !registered[o.MMIName] && got != "404" {
				res.violate(sim.GMMI, o.Start, fmt.Sprintf("%s: mmi.service %s answered %s for a service no worker ever serves", id, o.MMIName, got))
			}
		case o.OK && !equalFrames(o.Reply, o.Expect):
			res.violate(sim.GReply, o.Start, fmt.Sprintf("%s: reply %q does not echo the request %q", id, o.Reply, o.Expect))
		}
		switch {
		case o.Reason == "hung":
			res.violate(sim.GEnds, o.Start, fmt.Sprintf("%s did not end within timeout × attempts + %v: cut off", id, hangBound))
		case o.Reason == "error":
			res.violate(sim.GEnds, o.Start, id+" ended with an error, not a reply or a failure: "+o.Err)
		case o.Latency > bound:
			res.violate(sim.GEnds, o.Start, fmt.Sprintf("%s ended after %v, past timeout × attempts + %v = %v",
				id, o.Latency.Round(time.Millisecond), EndTolerance, bound))
		case o.Reason == core.TimedOut.String() && o.Attempts != cs.Attempts:
			res.violate(sim.GEnds, o.Start, fmt.Sprintf("%s timed out after %d attempts, want %d", id, o.Attempts, cs.Attempts))
		case o.Reason == core.WorkerDied.String() && r.sc.Broker.OnWorkerDeath != "fail":
			res.violate(sim.GHeld, o.Start, id+" failed as worker-died although the broker requeues")
		}
	}
	if m := res.Metrics.Malformed; m > 0 && !brokerDied && res.Metrics.Events && res.Metrics.Dropped == 0 {
		res.violate(sim.GMalformed, res.Metrics.Elapsed, fmt.Sprintf("the hostile peer sent %d malformed messages and the broker reported no dropped input", m))
	}
	res.NotJudged = append(res.NotJudged,
		sim.GExact+": sim-only (live latency includes the real network and scheduler)",
		sim.GHoldLimit+": sim-only (the hold limit's timing is checked against the sim's trace)")
	if evs == nil {
		res.NotJudged = append(res.NotJudged,
			sim.GDispatch+": no broker events (--exec)", sim.GPurge+": no broker events (--exec)")
		return
	}
	r.checkDispatch(res, evs)
	r.checkPurge(res, evs)
}

// checkDispatch judges G3 from the events: no request goes to a worker the broker
// had removed (and that did not join again since).
func (r *run) checkDispatch(res *Result, evs [][]brokerEvent) {
	for _, inc := range evs {
		removed := map[string]bool{}
		for _, e := range inc {
			switch e.Event {
			case core.WorkerJoined.String():
				delete(removed, e.Peer)
			case core.WorkerRemoved.String():
				removed[e.Peer] = true
			case core.RequestDispatched.String():
				if removed[e.Peer] {
					res.violate(sim.GDispatch, e.Time.Sub(r.epoch), "request "+strconv.FormatUint(e.Seq, 10)+
						" dispatched to "+e.Peer+" after the broker removed it")
				}
			}
		}
	}
}

// silencing reports whether a fault leaves a worker silent to the broker: its
// process killed or stopped, cut off, or its heartbeats to the broker lost.
func (r *run) silencing(f FaultNote) bool {
	if r.worker(f.Node) == nil {
		return false
	}
	switch f.Kind {
	case sim.FamCrash, sim.FamRestart, sim.FamPause, sim.FamPartition:
		return true
	case sim.FamHeartbeatLoss:
		for _, e := range r.sc.Faults.Events {
			if e.Kind == sim.FamHeartbeatLoss && e.Node == f.Node && e.Prob >= 1 && e.Direction != sim.FromBroker &&
				e.For > r.purgeBound() {
				return true
			}
		}
	}
	return false
}

// purgeBound is G4's bound: liveness × interval + one interval + PurgeTolerance.
func (r *run) purgeBound() time.Duration {
	hb, liveness := r.liveness()
	return time.Duration(liveness+1)*hb + PurgeTolerance
}

// checkPurge judges G4 from the events: after each fault that silences a worker, the
// broker removes a worker within the bound. The events do not say which process a
// peer is (ZeroMQ identities are the broker's own), so the check counts removals:
// as many as the silencing faults that start in one bound's window. A broker
// restart in the window voids it (the new broker never knew the worker).
func (r *run) checkPurge(res *Result, evs [][]brokerEvent) {
	bound := r.purgeBound()
	var removals []time.Duration
	for _, inc := range evs {
		for _, e := range inc {
			if e.Event == core.WorkerRemoved.String() {
				removals = append(removals, e.Time.Sub(r.epoch))
			}
		}
	}
	var restarts []time.Duration
	for _, f := range res.Faults {
		if f.Kind == sim.FamBrokerRestart {
			restarts = append(restarts, f.At)
		}
	}
	for i, f := range res.Faults {
		if !r.silencing(f) || f.At+bound > res.Metrics.Elapsed {
			continue
		}
		void := false
		for _, t := range restarts {
			if t >= f.At-bound && t <= f.At+bound {
				void = true
			}
		}
		if void {
			continue
		}
		want := 0
		for _, g := range res.Faults[:i+1] {
			if r.silencing(g) && g.At >= f.At-bound && g.At <= f.At {
				want++
			}
		}
		got := 0
		for _, t := range removals {
			if t >= f.At-bound && t <= f.At+bound {
				got++
			}
		}
		if got < want {
			res.violate(sim.GPurge, f.At, fmt.Sprintf("%s of %s at %v: %d worker removals within %v, want %d",
				f.Kind, f.Node, f.At.Round(time.Millisecond), got, bound, want))
		}
	}
}
