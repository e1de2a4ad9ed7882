package core

import "time"

// Advance lets time pass. At each heartbeat tick (every HeartbeatInterval from the
// broker's start) it removes every worker whose expiry has passed — idle or busy, all
// of them, not only those ahead of the first live one — fails the queued requests past
// their expiry, then heartbeats every remaining worker, idle and busy alike. A worker is
// thus removed within Liveness × HeartbeatInterval plus one interval of its last
// message.
//
// With a HoldLimit, Advance first removes every busy worker that has held its request
// for HoldLimit or longer (see BrokerConfig.HoldLimit), whenever that falls.
func (b *Broker) Advance(now time.Time) {
	b.expireHolds(now)
	if now.Before(b.beatAt) {
		return
	}
	for b.beatAt.Compare(now) <= 0 {
		b.beatAt = b.beatAt.Add(b.cfg.HeartbeatInterval)
	}
	b.purge(now)
	b.expireQueued(now)
	for _, w := range b.order {
		b.out.add(Output{Kind: SendOutput, To: w.peer, Protocol: WorkerProtocol, Command: Heartbeat,
			Frames: brokerBeatFrames})
	}
}

// brokerBeatFrames is the HEARTBEAT command, shared by every heartbeat sent.
var brokerBeatFrames = [][]byte{emptyFrame, workerHeaderFrame, commandFrames[Heartbeat]}

// purge removes every worker whose expiry is at or before now.
func (b *Broker) purge(now time.Time) {
	var dead []*worker
	for _, w := range b.order {
		if !w.expiry.After(now) {
			dead = append(dead, w)
		}
	}
	for _, w := range dead {
		b.removeWorker(now, w, Silent)
	}
}

// expireQueued fails every queued request whose deadline has passed.
func (b *Broker) expireQueued(now time.Time) {
	if b.cfg.QueueExpiry <= 0 {
		return
	}
	t := now.UnixNano()
	var emptied []*service
	for _, s := range b.svcOrder {
		if s.queue.len() == 0 {
			continue
		}
		s.queue.filter(func(r *request) bool {
			if r.deadline > t {
				return true
			}
			b.fail(now, r, Expired)
			return false
		})
		if s.queue.len() == 0 {
			emptied = append(emptied, s)
		}
	}
	for _, s := range emptied {
		b.removeIfUnused(s)
	}
}

// NextDeadline returns when Advance must next be called: the next heartbeat tick, or
// the earliest moment a held request reaches its HoldLimit if that comes first.
func (b *Broker) NextDeadline() time.Time {
	if !b.holdAt.IsZero() && b.holdAt.Before(b.beatAt) {
		return b.holdAt
	}
	return b.beatAt
}

// Shutdown stops the broker: every worker gets DISCONNECT, and every request it holds
// or that waits in a queue is failed (ebwrk clients get StatusShutdown). The broker is
// empty afterwards.
func (b *Broker) Shutdown(now time.Time) {
	for _, w := range b.order {
		b.sendDisconnect(w.peer)
		b.stats.WorkersRemoved[Shutdown]++
		b.event(Output{Event: WorkerRemoved, Peer: w.peer, Service: w.service.name, Reason: Shutdown})
		for _, h := range w.held {
			b.fail(now, h.r, Shutdown)
		}
		w.held = nil
	}
	for _, s := range b.svcOrder {
		for s.queue.len() > 0 {
			b.fail(now, s.queue.popFront(), Shutdown)
		}
		b.event(Output{Event: ServiceRemoved, Service: s.name})
	}
	b.order = nil
	b.holdAt = time.Time{}
	b.svcOrder = nil
	b.workers = make(map[Peer]*worker)
	b.services = make(map[string]*service)
}
