package conformance

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// orphan is a request that lost its worker in this step: death (the worker was
// removed) or a REPLY with the wrong client address.
type orphan struct {
	r     *mRequest
	death bool
	from  core.Peer // the worker that held it
}

// takeOrphan removes from the step's orphans the one that match selects and returns
// it. G5: a dead worker's requests are requeued or failed in the order it got them,
// so an orphan taken while an earlier one of the same worker waits is a violation.
func (k *Checker) takeOrphan(now time.Time, match func(*mRequest) bool) (orphan, bool) {
	st := &k.step
	i := slices.IndexFunc(st.orphans, func(x orphan) bool { return match(x.r) })
	if i < 0 {
		return orphan{}, false
	}
	x := st.orphans[i]
	if j := slices.IndexFunc(st.orphans, func(y orphan) bool { return y.from == x.from }); j < i {
		k.violate(now, G5HeldNotLost, "request %s of %v taken care of before %s, which %v got first", x.r, x.from, st.orphans[j].r, x.from)
	}
	st.orphans = slices.Delete(st.orphans, i, i+1)
	return x, true
}

// output follows one output of the broker, in order.
func (k *Checker) output(now time.Time, o *core.Output) {
	switch o.Kind {
	case core.SendOutput:
		k.send(now, o)
	case core.EventOutput:
		k.event(now, o)
	default:
		k.violate(now, L1Ledger, "the broker produced %v", o)
	}
}

// send checks one message the broker sends.
func (k *Checker) send(now time.Time, o *core.Output) {
	st := &k.step
	p := o.To
	m, err := core.Parse(o.Frames)
	if err != nil {
		k.violate(now, R7Format, "the broker sent %v a malformed message %q: %v", p, o.Frames, err)
		return
	}
	if w := k.byPeer[p]; w != nil {
		w.lastSent = now
	}
	// RFC 7: nothing more goes to a worker after DISCONNECT either way. A peer that
	// is also a client still gets its replies.
	isWorker := m.Protocol == core.WorkerProtocol
	switch {
	case isWorker && k.gone[p]:
		k.violate(now, R7Disconnect, "the broker sent %v to %v after its DISCONNECT", o, p)
	case isWorker && k.disc[p] && m.Command != core.Disconnect:
		k.violate(now, R7Unexpected, "the broker sent %v to %v after sending it DISCONNECT", o, p)
	}
	if m.Protocol == core.WorkerProtocol {
		switch m.Command {
		case core.Heartbeat:
			if k.byPeer[p] == nil {
				k.violate(now, L1Ledger, "HEARTBEAT to %v, which is not a registered worker", p)
			}
		case core.Disconnect:
			delete(st.wantDisc, p)
			k.disc[p] = true
		case core.Request:
			if st.dispatch != nil {
				k.violate(now, L1Ledger, "REQUEST to %v without a dispatched event", st.dispTo)
			}
			st.dispatch, st.dispTo = &m, p
		default:
			k.violate(now, R7Format, "the broker sent %v to a worker", m.Command)
		}
		return
	}
	if st.mmiWant != nil && !st.mmiSeen && p == st.in.Peer && bytes.HasPrefix(m.Service, []byte("mmi.")) {
		k.mmiReply(now, &m)
		return
	}
	if st.sendReply != nil {
		k.violate(now, L1Ledger, "reply to %v without an answered or failed event", st.replyTo)
	}
	st.sendReply, st.replyTo = &m, p
}

// mmiReply checks the reply to this step's mmi. request (RFC 8 and guarantee 6).
func (k *Checker) mmiReply(now time.Time, m *core.Message) {
	st := &k.step
	st.mmiSeen = true
	in := &st.msg
	if m.Envelope != in.Envelope || m.Seq != in.Seq || m.Status != core.StatusOK {
		k.violate(now, E2Envelope, "mmi reply envelope=%t seq=%d status=%v to a request with envelope=%t seq=%d",
			m.Envelope, m.Seq, m.Status, in.Envelope, in.Seq)
	}
	if !bytes.Equal(m.Service, in.Service) {
		k.violate(now, R8Replies, "mmi reply names service %q, want %q", m.Service, in.Service)
	}
	want := st.mmiWant
	if slices.EqualFunc(want, m.Body, bytes.Equal) {
		return
	}
	n := len(want)
	if n > 0 && len(m.Body) == n && isCode(want[n-1]) && isCode(m.Body[n-1]) &&
		slices.EqualFunc(want[:n-1], m.Body[:n-1], bytes.Equal) {
		k.violate(now, G6MMIRegistry, "%s answered %q, but the registry says %q", in.Service, m.Body, want)
		return
	}
	k.violate(now, R8Replies, "%s %q answered %q, want %q", in.Service, in.Body, m.Body, want)
}

func isCode(b []byte) bool { return string(b) == "200" || string(b) == "404" }

// event follows one event of the broker and the model with it.
func (k *Checker) event(now time.Time, o *core.Output) {
	st := &k.step
	switch o.Event {
	case core.WorkerJoined:
		k.joined(now, o)
	case core.WorkerRemoved:
		k.removed(now, o)
	case core.RequestQueued:
		r := st.fresh
		if r == nil || st.placed || r.client != o.Peer || r.seq != o.Seq || r.service != o.Service {
			k.violate(now, L1Ledger, "queued %v seq=%d %s, which is not this step's request", o.Peer, o.Seq, o.Service)
			return
		}
		s := k.service(o.Service)
		if len(s.idle) > 0 {
			k.violate(now, L4Queue, "request %s queued while %v idles", r, s.idle[0].peer)
		}
		r.queuedAt = now
		s.queue = append(s.queue, r)
		st.placed = true
	case core.RequestDispatched:
		k.dispatched(now, o)
	case core.RequestRequeued:
		x, ok := k.takeOrphan(now, func(r *mRequest) bool { return r.client == o.Peer && r.seq == o.Seq })
		if !ok {
			k.violate(now, L1Ledger, "requeued %v seq=%d, which no worker lost in this step", o.Peer, o.Seq)
			return
		}
		if x.death && k.cfg.OnWorkerDeath == core.FailRequest {
			k.violate(now, G5HeldNotLost, "request %s requeued although the policy is fail", x.r)
		}
		x.r.queuedAt = now
		// The requests one worker lost go to the head in the order it got them.
		s := k.service(x.r.service)
		at := 0
		for at < len(s.queue) && s.queue[at].requeued == k.stepN && s.queue[at].requeuedFrom == x.from {
			at++
		}
		x.r.requeued, x.r.requeuedFrom = k.stepN, x.from
		s.queue = slices.Insert(s.queue, at, x.r)
	case core.RequestAnswered:
		k.answered(now, o)
	case core.RequestFailed:
		k.failed(now, o)
	case core.MMIAnswered:
		if st.mmiWant == nil {
			k.violate(now, R8Replies, "mmi event without an mmi. request")
		}
	case core.InputDropped:
		k.dropped(now, o)
	}
}

func (k *Checker) joined(now time.Time, o *core.Output) {
	st := &k.step
	p := o.Peer
	if k.byPeer[p] != nil {
		k.violate(now, R7ReadyOnce, "%v joined %s while registered", p, o.Service)
		return
	}
	if strings.HasPrefix(o.Service, "mmi.") {
		k.violate(now, R8Reserved, "worker %v registered the reserved service %q", p, o.Service)
	}
	if !st.parsed || st.in.Peer != p || st.msg.Protocol != core.WorkerProtocol || st.msg.Command != core.Ready || string(st.msg.Service) != o.Service {
		k.violate(now, L1Ledger, "worker %v joined %s without sending READY for it", p, o.Service)
	}
	w := &mWorker{peer: p, service: o.Service, lastHeard: now, lastSent: now, credit: max(st.msg.Credit, 1)}
	k.workers = append(k.workers, w)
	k.byPeer[p] = w
	k.service(o.Service).workers++
	k.becomeIdle(w)
}

func (k *Checker) removed(now time.Time, o *core.Output) {
	st := &k.step
	w := k.byPeer[o.Peer]
	if w == nil {
		k.violate(now, L1Ledger, "removed %v, which is not registered", o.Peer)
		return
	}
	if o.Reason == core.Silent && now.Sub(w.lastHeard) < k.expiry {
		k.violate(now, R7AnyCommand, "%v removed as silent %v after its last command, before liveness × interval = %v", o.Peer, now.Sub(w.lastHeard), k.expiry)
	}
	if o.Reason == core.HeldTooLong && !k.holdExpired(now, w) {
		k.violate(now, E3HoldLimit, "%v removed as held too long (holding %s, limit due %v), hold limit %v", o.Peer, w.heldString(), k.heldUntil(w).Sub(k.start), k.cfg.HoldLimit)
	}
	delete(st.wantGone, o.Peer)
	delete(k.byPeer, o.Peer)
	k.workers = slices.DeleteFunc(k.workers, func(x *mWorker) bool { return x == w })
	s := k.service(w.service)
	s.idle = slices.DeleteFunc(s.idle, func(x *mWorker) bool { return x == w })
	s.workers--
	for _, h := range w.held {
		st.orphans = append(st.orphans, orphan{r: h.r, death: true, from: w.peer})
	}
	w.held = nil
}

// dispatched checks a RequestDispatched event and the REQUEST sent before it.
func (k *Checker) dispatched(now time.Time, o *core.Output) {
	st := &k.step
	req := st.dispatch
	st.dispatch = nil
	if req == nil || st.dispTo != o.Peer {
		k.violate(now, R7Format, "dispatched to %v without a REQUEST sent to it", o.Peer)
		return
	}
	w := k.byPeer[o.Peer]
	// A credit worker's address frame is the client identity and an 8-byte tag.
	client, tag := req.Address, []byte(nil)
	if w != nil && w.credit > 1 {
		if len(client) < 8 {
			k.violate(now, R7Format, "REQUEST to credit worker %v has address %q, too short for its tag", o.Peer, req.Address)
			return
		}
		client, tag = client[:len(client)-8], client[len(client)-8:]
	}
	var r *mRequest
	s := k.service(o.Service)
	// A request requeued in this very step goes out first: taking this step's
	// request to a worker, the broker may forget an expired credit worker that held
	// requests and hand them on (popIdle) before it places the new one.
	requeuedNow := len(s.queue) > 0 && s.queue[0].requeued == k.stepN &&
		s.queue[0].client.ID == string(client) && s.queue[0].seq == o.Seq
	if st.fresh != nil && !st.placed && !requeuedNow {
		r = st.fresh
		st.placed = true
		if r.seq != o.Seq || r.service != o.Service {
			k.violate(now, L1Ledger, "dispatched seq=%d %s, but this step's request is %s", o.Seq, o.Service, r)
		}
	} else {
		i := slices.IndexFunc(s.queue, func(x *mRequest) bool { return x.client.ID == string(client) && x.seq == o.Seq })
		if i < 0 {
			k.violate(now, L1Ledger, "dispatched %q seq=%d %s to %v, which is not queued", req.Address, o.Seq, o.Service, o.Peer)
			return
		}
		if i != 0 {
			k.violate(now, L4Queue, "dispatched %s from queue position %d, not the head %s", s.queue[i], i, s.queue[0])
		}
		r = s.queue[i]
		s.queue = slices.Delete(s.queue, i, i+1)
	}
	if string(client) != r.client.ID || joinBody(req.Body) != r.body {
		k.violate(now, R7Format, "REQUEST to %v has address %q body %q, want %q and the request's body", o.Peer, req.Address, req.Body, r.client.ID)
	}
	switch {
	case w == nil:
		k.violate(now, G3Dispatch, "request %s dispatched to %v, which is not a registered worker", r, o.Peer)
		return
	case k.disc[o.Peer]:
		k.violate(now, G3Dispatch, "request %s dispatched to %v after the broker sent it DISCONNECT", r, o.Peer)
	case w.service != r.service:
		k.violate(now, G3Dispatch, "request %s dispatched to %v, a worker of %s", r, o.Peer, w.service)
	case w.full():
		k.violate(now, G3Dispatch, "request %s dispatched to %v beyond its credit %d: it holds %s", r, o.Peer, w.credit, w.heldString())
	case now.Sub(w.lastHeard) > k.bound:
		k.violate(now, G3Dispatch, "request %s dispatched to %v, silent for %v (purge bound %v)", r, o.Peer, now.Sub(w.lastHeard), k.bound)
	}
	ws := k.service(w.service)
	if i := slices.Index(ws.idle, w); i > 0 {
		k.violate(now, L3LRU, "request %s dispatched to %v while %v idled longer", r, o.Peer, ws.idle[0].peer)
	}
	ws.idle = slices.DeleteFunc(ws.idle, func(x *mWorker) bool { return x == w })
	if tag != nil && slices.ContainsFunc(w.held, func(h mHeld) bool { return bytes.Equal(h.tag, tag) }) {
		k.violate(now, R7Format, "REQUEST to %v reuses the tag %x of a request it holds", o.Peer, tag)
	}
	w.held = append(w.held, mHeld{r: r, at: now, tag: slices.Clone(tag)})
	if !w.full() {
		// Still credit left: it is now the most recently used.
		ws.idle = append(ws.idle, w)
	}
}

// heldIndex returns which request w holds that a REPLY with address addr answers: a
// plain worker's one request, a credit worker's by client identity and tag; -1 if none.
func (w *mWorker) heldIndex(addr []byte) int {
	if w.credit <= 1 {
		if len(w.held) == 0 {
			return -1
		}
		return 0
	}
	if len(addr) < 8 {
		return -1
	}
	id, tag := addr[:len(addr)-8], addr[len(addr)-8:]
	return slices.IndexFunc(w.held, func(h mHeld) bool { return bytes.Equal(h.tag, tag) && h.r.client.ID == string(id) })
}

// tagOf returns a credit worker's tag in an address frame, for reports.
func tagOf(addr []byte) uint64 {
	if len(addr) < 8 {
		return 0
	}
	return binary.BigEndian.Uint64(addr[len(addr)-8:])
}

// answered checks that a worker's reply reached the client of the request it holds.
func (k *Checker) answered(now time.Time, o *core.Output) {
	st := &k.step
	reply, to := st.sendReply, st.replyTo
	st.sendReply = nil
	var w *mWorker
	if st.parsed && st.msg.Protocol == core.WorkerProtocol && st.msg.Command == core.Reply {
		w = k.byPeer[st.in.Peer]
	}
	i := -1
	if w != nil {
		i = w.heldIndex(st.msg.Address)
	}
	if i < 0 || w.held[i].r.client != o.Peer || w.held[i].r.seq != o.Seq || w.held[i].r.service != o.Service {
		held := "nothing"
		if w != nil {
			held = w.heldString()
		}
		k.violate(now, E1StaleReply, "answered %v seq=%d %s after %s (tag %d), whose sender holds %s", o.Peer, o.Seq, o.Service, inputString(st.in), tagOf(st.msg.Address), held)
		return
	}
	r := w.held[i].r
	switch {
	case w.credit <= 1 && string(st.msg.Address) != r.client.ID:
		k.violate(now, E1StaleReply, "a REPLY addressed to %q reached %s", st.msg.Address, r)
	case reply == nil || to != r.client:
		k.violate(now, G1ReplyMatches, "answered %s without sending it the reply", r)
	case reply.Envelope != r.envelope || (r.envelope && reply.Seq != r.seq) || reply.Status != core.StatusOK:
		k.violate(now, E2Envelope, "reply to %s has envelope=%t seq=%d status=%v", r, reply.Envelope, reply.Seq, reply.Status)
	case string(reply.Service) != r.service:
		k.violate(now, R7Format, "reply to %s names service %q", r, reply.Service)
	case joinBody(reply.Body) != joinBody(st.msg.Body):
		k.violate(now, G1ReplyMatches, "reply to %s has body %q, the worker sent %q", r, reply.Body, st.msg.Body)
	}
	k.ended++
	wasFull := w.full()
	w.held = slices.Delete(w.held, i, i+1)
	if wasFull {
		k.becomeIdle(w)
	}
}

// failed checks a broker-made failure.
func (k *Checker) failed(now time.Time, o *core.Output) {
	st := &k.step
	reply, to := st.sendReply, st.replyTo
	st.sendReply = nil
	match := func(x *mRequest) bool { return x.client == o.Peer && x.seq == o.Seq && x.service == o.Service }
	var r *mRequest
	switch o.Reason {
	case core.QueueFull:
		if st.fresh != nil && !st.placed && match(st.fresh) {
			r, st.placed = st.fresh, true
			if n := len(k.service(o.Service).queue); k.cfg.QueueLimit < 0 || n < k.cfg.QueueLimit {
				k.violate(now, L4Queue, "request %s refused as queue full with %d queued, limit %d", r, n, k.cfg.QueueLimit)
			}
		}
	case core.Expired:
		// An ebwrk client's retry may queue a second copy of a request; the copy
		// waiting longest is the one that expires.
		s := k.service(o.Service)
		i := -1
		for j, x := range s.queue {
			if match(x) && (i < 0 || x.queuedAt.Before(s.queue[i].queuedAt)) {
				i = j
			}
		}
		if i >= 0 {
			r = s.queue[i]
			s.queue = slices.Delete(s.queue, i, i+1)
			if k.cfg.QueueExpiry < 0 || now.Sub(r.queuedAt) < k.cfg.QueueExpiry {
				k.violate(now, L4Queue, "request %s expired after %v in the queue, expiry %v", r, now.Sub(r.queuedAt), k.cfg.QueueExpiry)
			}
		}
	case core.WorkerDied, core.Shutdown:
		if x, ok := k.takeOrphan(now, match); ok {
			r = x.r
			if o.Reason == core.WorkerDied && k.cfg.OnWorkerDeath != core.FailRequest {
				k.violate(now, G5HeldNotLost, "request %s failed as worker-died under the requeue policy", r)
			}
		} else if o.Reason == core.Shutdown {
			s := k.service(o.Service)
			if i := slices.IndexFunc(s.queue, match); i >= 0 {
				r = s.queue[i]
				s.queue = slices.Delete(s.queue, i, i+1)
			}
		}
	}
	if r == nil {
		k.violate(now, L1Ledger, "failed %v seq=%d %s (%v), which the model does not have there", o.Peer, o.Seq, o.Service, o.Reason)
		return
	}
	k.ended++
	switch {
	case !r.envelope && reply != nil:
		k.violate(now, E2Envelope, "standard client %v was sent a failure (%v)", r.client, o.Reason)
	case r.envelope && (reply == nil || to != r.client):
		k.violate(now, E2Envelope, "ebwrk client of %s was not told of its failure (%v)", r, o.Reason)
	case r.envelope && (!reply.Envelope || reply.Seq != r.seq || reply.Status != failStatus(o.Reason) || len(reply.Body) != 0):
		k.violate(now, E2Envelope, "failure reply to %s: envelope=%t seq=%d status=%v body=%q, want status %v", r, reply.Envelope, reply.Seq, reply.Status, reply.Body, failStatus(o.Reason))
	case r.envelope && string(reply.Service) != r.service:
		k.violate(now, R7Format, "failure reply to %s names service %q", r, reply.Service)
	}
}

// failStatus is the envelope status of a broker-made failure (core's package doc).
func failStatus(r core.Reason) core.Status {
	switch r {
	case core.QueueFull:
		return core.StatusQueueFull
	case core.Expired:
		return core.StatusExpired
	case core.WorkerDied:
		return core.StatusWorkerDied
	case core.Shutdown:
		return core.StatusShutdown
	}
	return core.StatusOK
}

// dropped follows the drops that change the model: replies the broker refuses.
func (k *Checker) dropped(now time.Time, o *core.Output) {
	st := &k.step
	w := k.byPeer[o.Peer]
	switch o.Reason {
	case core.AddressMismatch:
		if w == nil || len(w.held) == 0 {
			k.violate(now, E1StaleReply, "dropped a reply of %v as mismatched, but it holds nothing", o.Peer)
			return
		}
		if w.credit > 1 {
			// A credit worker's stray reply changes nothing: what it holds stays held.
			if st.parsed && w.heldIndex(st.msg.Address) >= 0 {
				k.violate(now, E1StaleReply, "dropped the reply of %v to %s, whose address and tag match", o.Peer, w.held[w.heldIndex(st.msg.Address)].r)
			}
			return
		}
		r := w.held[0].r
		if st.parsed && string(st.msg.Address) == r.client.ID {
			k.violate(now, E1StaleReply, "dropped the reply of %v to %s, whose address matches", o.Peer, r)
		}
		w.held = nil
		st.orphans = append(st.orphans, orphan{r: r, from: w.peer})
		k.becomeIdle(w)
	case core.NotHolding:
		if w != nil && len(w.held) > 0 {
			k.violate(now, E1StaleReply, "dropped the reply of %v as holding nothing, but it holds %s", o.Peer, w.heldString())
		}
	}
}

// service returns the model's service name, created if needed.
func (k *Checker) service(name string) *mService {
	s := k.services[name]
	if s == nil {
		s = &mService{name: name}
		k.services[name] = s
	}
	return s
}

func (k *Checker) becomeIdle(w *mWorker) {
	s := k.service(w.service)
	s.idle = append(s.idle, w)
}

// tidy ends a step: dangling sends are reported and services with neither workers
// nor queued requests are forgotten, as the broker must.
func (k *Checker) tidy(now time.Time) {
	st := &k.step
	if st.sendReply != nil {
		k.violate(now, L1Ledger, "reply to %v without an answered or failed event", st.replyTo)
	}
	if st.dispatch != nil {
		k.violate(now, L1Ledger, "REQUEST to %v without a dispatched event", st.dispTo)
	}
	for name, s := range k.services {
		if s.workers == 0 && len(s.queue) == 0 {
			delete(k.services, name)
		}
	}
}
