package core

import (
	"bytes"
	"encoding/binary"
	"time"
)

// mmiPrefix starts every service name the broker answers itself (RFC 8).
const mmiPrefix = "mmi."

func isMMI(service []byte) bool { return bytes.HasPrefix(service, []byte(mmiPrefix)) }

// workerMessage handles one parsed worker-protocol message.
func (b *Broker) workerMessage(now time.Time, from Peer, key string, m *Message) {
	w := b.workers[from]
	switch m.Command {
	case Ready:
		switch {
		case w != nil:
			// RFC 7: a worker must not send READY twice.
			b.disconnect(now, w, DuplicateReady)
		case isMMI(m.Service):
			// RFC 8: the mmi. namespace is the broker's own.
			b.sendDisconnect(from)
			b.drop(from, ReservedService, nil)
		case !b.access.mayServe(key, string(m.Service)):
			// Access: this key may not serve this service; the peer stays unknown.
			b.sendDisconnect(from)
			b.stats.Dropped[NotAuthorized]++
			b.event(Output{Event: InputDropped, Peer: from, Key: key, Service: string(m.Service), Reason: NotAuthorized})
		default:
			b.register(now, from, string(m.Service), max(m.Credit, 1))
		}
	case Heartbeat:
		if w == nil {
			b.refuseUnknown(from)
			return
		}
		w.expiry = now.Add(b.expiry)
	case Reply:
		if w == nil {
			b.refuseUnknown(from)
			return
		}
		w.expiry = now.Add(b.expiry)
		b.workerReply(now, w, m)
	case Disconnect:
		// RFC 7: after DISCONNECT the broker sends nothing more to that worker. One
		// from a peer that never sent READY needs nothing.
		if w != nil {
			b.removeWorker(now, w, Disconnected)
		}
	default:
		// REQUEST is a broker-to-worker command: valid, but never expected here.
		if w != nil {
			b.disconnect(now, w, UnexpectedCommand)
			return
		}
		b.sendDisconnect(from)
		b.drop(from, UnexpectedCommand, nil)
	}
}

// refuseUnknown answers a HEARTBEAT or REPLY from a peer that is not a registered
// worker with DISCONNECT, so it reconnects and registers (RFC 7). This is how workers
// come back after a broker restart.
func (b *Broker) refuseUnknown(from Peer) {
	b.sendDisconnect(from)
	b.drop(from, UnknownWorker, nil)
}

// register adds a worker that sent READY for name, announcing credit.
func (b *Broker) register(now time.Time, p Peer, name string, credit int) {
	s := b.services[name]
	if s == nil {
		s = b.addService(name)
	}
	w := &worker{peer: p, service: s, expiry: now.Add(b.expiry), credit: credit}
	b.workers[p] = w
	b.order = append(b.order, w)
	s.workers++
	b.stats.WorkersJoined++
	b.event(Output{Event: WorkerJoined, Peer: p, Service: name})
	b.refill(now, w)
}

// workerReply passes the reply of w to the client of the request it answers. A plain
// worker answers the one request it holds: a reply naming another client drops that
// request back into the queue, since the worker has let go of it. A credit worker's
// reply names the request by the tag in its address frame; one that names no request
// it holds is dropped, and what it holds stays held.
func (b *Broker) workerReply(now time.Time, w *worker, m *Message) {
	if len(w.held) == 0 {
		b.drop(w.peer, NotHolding, nil)
		return
	}
	wasFull := w.full()
	if w.credit > 1 {
		i := w.match(m.Address)
		if i < 0 {
			b.drop(w.peer, AddressMismatch, nil)
			return
		}
		r := w.held[i].r
		b.release(w, i)
		b.answer(now, r, m.Body)
	} else {
		r := w.held[0].r
		b.release(w, 0)
		if string(m.Address) != r.client.ID {
			// The reply answers something else; the request is still unanswered.
			b.drop(w.peer, AddressMismatch, nil)
			b.orphan(now, []*request{r})
		} else {
			b.answer(now, r, m.Body)
		}
	}
	if wasFull {
		b.refill(now, w)
	}
}

// match returns the index of the held request a credit worker's reply address names
// (the client identity, then the dispatch tag), or -1.
func (w *worker) match(addr []byte) int {
	if len(addr) < 8 {
		return -1
	}
	id, tag := addr[:len(addr)-8], binary.BigEndian.Uint64(addr[len(addr)-8:])
	for i, h := range w.held {
		if h.tag == tag && h.r.client.ID == string(id) {
			return i
		}
	}
	return -1
}

// refill gives w, which is not on the waiting list and has credit left, queued
// requests of its service while both last, then puts it at the back of the waiting
// list if credit is left.
func (b *Broker) refill(now time.Time, w *worker) {
	s := w.service
	for !w.full() && s.queue.len() > 0 {
		b.dispatch(now, w, s.queue.popFront())
	}
	if !w.full() {
		s.waiting = append(s.waiting, w)
	}
}

// disconnect sends DISCONNECT to w and forgets it (RFC 7: a valid but unexpected
// command).
func (b *Broker) disconnect(now time.Time, w *worker, why Reason) {
	b.sendDisconnect(w.peer)
	b.drop(w.peer, why, nil)
	b.removeWorker(now, w, why)
}

func (b *Broker) sendDisconnect(p Peer) {
	b.out.add(Output{Kind: SendOutput, To: p, Protocol: WorkerProtocol, Command: Disconnect,
		Frames: [][]byte{emptyFrame, workerHeaderFrame, commandFrames[Disconnect]}})
}

// removeWorker forgets w, then the service too if nothing is left of it.
func (b *Broker) removeWorker(now time.Time, w *worker, why Reason) {
	if b.forget(now, w, why) {
		b.removeIfUnused(w.service)
	}
}

// forget removes w from the registry; every request it held is requeued or failed per
// configuration, in the order they were dispatched. It reports false for a worker already forgotten (a purge may meet a
// worker that a requeue earlier in the same purge removed at dispatch, in popIdle).
// The service stays, even when empty: the caller decides, so that a service is never
// removed under an operation that is about to queue into it.
func (b *Broker) forget(now time.Time, w *worker, why Reason) bool {
	if b.workers[w.peer] != w {
		return false
	}
	delete(b.workers, w.peer)
	for i, x := range b.order {
		if x == w {
			b.order = append(b.order[:i], b.order[i+1:]...)
			break
		}
	}
	s := w.service
	for i, x := range s.waiting {
		if x == w {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			break
		}
	}
	s.workers--
	b.stats.WorkersRemoved[why]++
	b.event(Output{Event: WorkerRemoved, Peer: w.peer, Service: s.name, Reason: why})
	if len(w.held) == 0 {
		return true
	}
	held := w.held
	b.releaseAll(w)
	rs := make([]*request, 0, len(held))
	for _, h := range held {
		rs = append(rs, h.r)
	}
	if b.cfg.OnWorkerDeath == FailRequest {
		for _, r := range rs {
			b.fail(now, r, WorkerDied)
		}
	} else {
		b.orphan(now, rs)
	}
	return true
}

// orphan puts requests of one service that lost their worker back at the head of its
// queue, in the order given (they are the oldest there), after handing each in turn to
// a worker with credit left while there is one.
func (b *Broker) orphan(now time.Time, rs []*request) {
	s := rs[0].service
	var left []*request
	for _, r := range rs {
		// popIdle first: it may forget an expired worker and requeue what that one
		// held, which then goes behind r (events in the order of the queue's head).
		var w *worker
		if len(left) == 0 {
			w = b.popIdle(now, s)
		}
		b.stats.Requeued++
		if b.cfg.QueueExpiry > 0 {
			r.deadline = now.Add(b.cfg.QueueExpiry).UnixNano()
		}
		b.requestEvent(now, r, Output{Event: RequestRequeued, Peer: r.client, Service: s.name, Seq: r.seq})
		r.queued = now.UnixNano()
		if w != nil {
			b.use(now, w, r)
			continue
		}
		left = append(left, r)
	}
	for i := len(left) - 1; i >= 0; i-- {
		s.queue.pushFront(left[i])
	}
}

// Unreachable tells the broker that a message to p could not be delivered (the peer is
// gone or its queue is full). A worker is removed as if it had died; for a client the
// loss is reported, since only its own retry can recover it.
func (b *Broker) Unreachable(now time.Time, p Peer) {
	if w := b.workers[p]; w != nil {
		b.removeWorker(now, w, Unreachable)
		return
	}
	b.stats.Dropped[Unreachable]++
	b.event(Output{Event: InputDropped, Peer: p, Reason: Unreachable})
}
