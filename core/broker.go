package core

import (
	"encoding/binary"
	"errors"
	"time"
)

// errStatusOnRequest is the Err of a dropped client request whose envelope carries a
// status byte, which only broker replies may carry.
var errStatusOnRequest = errors.New("core: envelope status on a request")

// Broker is the ebwrk broker as a pure state machine: it routes client requests to the
// least recently used idle worker of their service, queues them while none is idle,
// heartbeats and expires workers, re-dispatches the request of a dead worker and
// answers mmi. requests itself. See the package doc for the driver loop.
type Broker struct {
	cfg      BrokerConfig
	access   access
	expiry   time.Duration // Liveness × HeartbeatInterval
	out      outputs
	services map[string]*service
	svcOrder []*service // creation order, for deterministic scans
	workers  map[Peer]*worker
	order    []*worker // join order
	beatAt   time.Time // next heartbeat tick
	holdAt   time.Time // earliest held-until of a held request; zero when none (or no HoldLimit)
	tags     uint64    // the last tag given to a dispatch to a credit worker
	stats    BrokerStats
}

// service is a name with its idle workers and waiting requests. It exists while it has
// registered workers or queued requests.
type service struct {
	name    string
	frame   []byte    // name as a frame, shared by every reply
	waiting []*worker // workers with credit left, least recently used first
	queue   requestQueue
	workers int // registered workers, idle or busy
}

// worker is a registered worker.
type worker struct {
	peer    Peer
	service *service
	expiry  time.Time // removed at the first tick at or after it, unless heard from
	credit  int       // how many requests it may hold at once; 1 for a plain MDP worker
	held    []held    // the requests it works on, in dispatch order
}

// held is one request a worker holds.
type held struct {
	r      *request
	tag    uint64    // a credit worker's dispatch tag, in its address frame; 0 for plain workers
	heldTo time.Time // with a HoldLimit: the worker is removed at or after it while still holding r
}

// full reports whether w holds as many requests as its credit allows.
func (w *worker) full() bool { return len(w.held) >= w.credit }

// request is a client request the broker has accepted and not yet answered or failed.
type request struct {
	client   Peer
	seq      uint64
	envelope bool // an ebwrk client: replies carry the envelope, failures are sent
	service  *service
	body     [][]byte
	one      [1][]byte // holds a one-frame body, so the received frames can be freed
	deadline int64     // queue expiry in Unix nanoseconds; 0 means never
	accepted int64     // when the broker took it in, in Unix nanoseconds
	queued   int64     // when it last entered its queue, in Unix nanoseconds
	reported bool      // its first event is out (Output.First)
}

// NewBroker returns a broker with the given configuration (zero fields: defaults),
// started at now: its first heartbeat tick is one interval later.
func NewBroker(cfg BrokerConfig, now time.Time) *Broker {
	cfg = cfg.withDefaults()
	return &Broker{
		cfg:      cfg,
		access:   newAccess(cfg.Access),
		expiry:   time.Duration(cfg.Liveness) * cfg.HeartbeatInterval,
		services: make(map[string]*service),
		workers:  make(map[Peer]*worker),
		beatAt:   now.Add(cfg.HeartbeatInterval),
	}
}

// Config returns the configuration in force, defaults filled in.
func (b *Broker) Config() BrokerConfig { return b.cfg }

// Receive takes one message from a peer: the frames after the ROUTER identity. Either
// sub-protocol is accepted from either socket; the header frame tells them apart. It
// is ReceiveKey with no key: a broker whose Access restricts anything refuses such a
// peer's READY and requests.
func (b *Broker) Receive(now time.Time, from Peer, frames [][]byte) {
	b.ReceiveKey(now, from, "", frames)
}

// ReceiveKey is Receive for a message that came on a connection the transport
// authenticated with key (for CURVE, the peer's public key in Z85). BrokerConfig.Access
// decides what the key allows: serving a service (READY) and sending requests.
func (b *Broker) ReceiveKey(now time.Time, from Peer, key string, frames [][]byte) {
	m, err := Parse(frames)
	if err != nil {
		b.drop(from, Malformed, err)
		return
	}
	if m.Protocol == WorkerProtocol {
		b.workerMessage(now, from, key, &m)
		return
	}
	if m.Status != StatusOK {
		b.drop(from, Malformed, errStatusOnRequest)
		return
	}
	if !b.access.mayRequest(key) {
		b.stats.Dropped[NotAuthorized]++
		b.event(Output{Event: InputDropped, Peer: from, Key: key, Service: string(m.Service), Reason: NotAuthorized})
		return
	}
	if isMMI(m.Service) {
		b.mmi(now, from, &m)
		return
	}
	b.stats.Requests++
	r := &request{client: from, seq: m.Seq, envelope: m.Envelope, accepted: now.UnixNano()}
	if len(m.Body) == 1 {
		r.one[0] = m.Body[0]
		r.body = r.one[:]
	} else {
		r.body = m.Body
	}
	s := b.services[string(m.Service)]
	if s == nil {
		s = b.addService(string(m.Service))
	}
	r.service = s
	if w := b.popIdle(now, s); w != nil {
		b.use(now, w, r)
		return
	}
	if b.cfg.QueueLimit > 0 && s.queue.len() >= b.cfg.QueueLimit {
		b.fail(now, r, QueueFull)
		b.removeIfUnused(s)
		return
	}
	if b.cfg.QueueExpiry > 0 {
		r.deadline = now.Add(b.cfg.QueueExpiry).UnixNano()
	}
	r.queued = r.accepted
	s.queue.pushBack(r)
	b.requestEvent(now, r, Output{Event: RequestQueued, Peer: from, Service: s.name, Seq: r.seq})
}

// popIdle takes the least recently used worker with credit left off the waiting list
// of s; nil if none. An idle worker found past its expiry is forgotten on the way rather than sent
// a request (guarantee 3): it would only be purged at the next tick. The service
// stays, since the caller is about to queue into it or dispatch from it.
func (b *Broker) popIdle(now time.Time, s *service) *worker {
	for len(s.waiting) > 0 {
		w := s.waiting[0]
		if w.expiry.After(now) {
			s.waiting = s.waiting[1:]
			return w
		}
		b.forget(now, w, Silent)
	}
	return nil
}

// use dispatches r to w, just taken off the waiting list by popIdle, and puts w back at
// the end of the list (it is now the most recently used) if it has credit left.
func (b *Broker) use(now time.Time, w *worker, r *request) {
	b.dispatch(now, w, r)
	if len(w.held) < w.credit {
		w.service.waiting = append(w.service.waiting, w)
	}
}

// dispatch hands r to w, which has credit left. With a HoldLimit, w must answer by
// now + HoldLimit. A plain worker's address frame is the client's identity (RFC 7); a
// credit worker's is the identity followed by the dispatch's tag, 8 bytes big-endian,
// which the worker echoes and the broker matches its reply by.
func (b *Broker) dispatch(now time.Time, w *worker, r *request) {
	h := held{r: r}
	if b.cfg.HoldLimit > 0 {
		h.heldTo = now.Add(b.cfg.HoldLimit)
		if b.holdAt.IsZero() || h.heldTo.Before(b.holdAt) {
			b.holdAt = h.heldTo
		}
	}
	addr := []byte(r.client.ID)
	if w.credit > 1 {
		b.tags++
		h.tag = b.tags
		addr = binary.BigEndian.AppendUint64(addr, h.tag)
	}
	w.held = append(w.held, h)
	b.stats.Dispatched++
	frames := make([][]byte, 0, 5+len(r.body))
	frames = append(frames, emptyFrame, workerHeaderFrame, commandFrames[Request], addr, emptyFrame)
	frames = append(frames, r.body...)
	b.out.add(Output{Kind: SendOutput, To: w.peer, Frames: frames, Protocol: WorkerProtocol,
		Command: Request, Service: r.service.name, Seq: r.seq})
	var waited time.Duration
	if r.queued != 0 {
		waited = time.Duration(now.UnixNano() - r.queued)
		r.queued = 0
	}
	b.requestEvent(now, r, Output{Event: RequestDispatched, Peer: w.peer, Service: r.service.name, Seq: r.seq, Waited: waited})
}

// answer sends a worker's reply body to the client of r.
func (b *Broker) answer(now time.Time, r *request, body [][]byte) {
	b.stats.Answered++
	b.sendClient(r, StatusOK, body)
	b.requestEvent(now, r, Output{Event: RequestAnswered, Peer: r.client, Service: r.service.name, Seq: r.seq})
}

// fail ends r with a broker-made failure. Only an ebwrk client is told: a standard
// MDP client has no way to read a failure and recovers by its own timeout (RFC 7).
func (b *Broker) fail(now time.Time, r *request, why Reason) {
	b.stats.Failed[why]++
	if r.envelope {
		b.sendClient(r, reasonStatus(why), nil)
	}
	b.requestEvent(now, r, Output{Event: RequestFailed, Peer: r.client, Service: r.service.name, Seq: r.seq, Reason: why})
}

// requestEvent records an event about r, with its Elapsed time and, on the first
// event of r, First.
func (b *Broker) requestEvent(now time.Time, r *request, o Output) {
	o.Elapsed = time.Duration(now.UnixNano() - r.accepted)
	o.First = !r.reported
	r.reported = true
	b.event(o)
}

// sendClient sends a client-protocol reply for r with the given status and body.
func (b *Broker) sendClient(r *request, st Status, body [][]byte) {
	m := Message{Protocol: ClientProtocol, Envelope: r.envelope, Seq: r.seq, Status: st,
		Service: r.service.frame, Body: body}
	frames := m.AppendFrames(make([][]byte, 0, 4+len(body)))
	o := Output{Kind: SendOutput, To: r.client, Frames: frames, Protocol: ClientProtocol,
		Command: Reply, Service: r.service.name, Seq: r.seq}
	if st != StatusOK {
		o.Reason = statusReason(st)
	}
	b.out.add(o)
}

// drop reports and counts an input the broker refused.
func (b *Broker) drop(from Peer, why Reason, err error) {
	b.stats.Dropped[why]++
	b.event(Output{Event: InputDropped, Peer: from, Reason: why, Err: err})
}

// event records an EventOutput; o carries the event's fields.
func (b *Broker) event(o Output) {
	o.Kind = EventOutput
	b.out.add(o)
}

// addService creates the named service.
func (b *Broker) addService(name string) *service {
	s := &service{name: name, frame: []byte(name)}
	b.services[name] = s
	b.svcOrder = append(b.svcOrder, s)
	b.event(Output{Event: ServiceCreated, Service: name})
	return s
}

// removeIfUnused forgets s once it has neither workers nor queued requests, so a
// mistyped name leaves nothing behind.
func (b *Broker) removeIfUnused(s *service) {
	if s.workers > 0 || s.queue.len() > 0 {
		return
	}
	delete(b.services, s.name)
	for i, x := range b.svcOrder {
		if x == s {
			b.svcOrder = append(b.svcOrder[:i], b.svcOrder[i+1:]...)
			break
		}
	}
	b.event(Output{Event: ServiceRemoved, Service: s.name})
}

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (b *Broker) Drain() []Output { return b.out.drain() }
