package conformance

import (
	"slices"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// clientHost runs a core.Client on the network and reports its outcomes to the
// checker.
type clientHost struct {
	sys   *System
	name  string
	cfg   core.ClientConfig
	c     *core.Client
	conn  *mem.Dealer
	timer *mem.Timer
	n     int // requests made, for unique bodies
}

func (h *clientHost) now() time.Time { return h.sys.now() }

// pump carries out the client's outputs, then re-arms its timer.
func (h *clientHost) pump() {
	for outs := h.c.Drain(); len(outs) > 0; outs = h.c.Drain() {
		for i := range outs {
			h.exec(&outs[i])
		}
	}
	h.timer = rearm(h.sys.clock, h.timer, h.c.NextDeadline(), h.tick)
}

func (h *clientHost) exec(o *core.Output) {
	k := h.sys.k
	switch o.Kind {
	case core.SendOutput:
		if h.conn != nil {
			// A closed connection loses the message; the client's retry recovers.
			_ = h.conn.Send(o.Frames)
		}
	case core.ConnectOutput:
		h.connect()
	case core.DeliverOutput:
		k.ClientDeliver(h.now(), h.name, o.Seq, o.Service, o.Body)
		h.sys.delivered(h, o)
	case core.FailOutput:
		k.ClientFail(h.now(), h.name, o.Seq, o.Reason, o.Attempts)
		h.sys.failedReq(h, o)
	}
}

func (h *clientHost) connect() {
	if h.conn != nil {
		h.conn.Close()
	}
	conn, err := h.sys.net.Connect(h.name, FrontendAddr, func(frames [][]byte) {
		h.c.Receive(h.now(), frames)
		h.pump()
	})
	if err != nil {
		h.sys.k.violate(h.now(), L1Ledger, "connect %s: %v", h.name, err)
		return
	}
	h.conn = conn
}

func (h *clientHost) tick() {
	h.c.Advance(h.now())
	h.pump()
}

// request makes a request with a unique body "<client>#<n>".
func (h *clientHost) request(service string, body [][]byte) uint64 {
	h.n++
	if body == nil {
		body = [][]byte{[]byte(h.name + "#" + strconv.Itoa(h.n))}
	}
	seq := h.c.Request(h.now(), service, body)
	h.sys.k.ClientRequest(h.now(), h.name, h.cfg, seq, service, body)
	h.sys.started[clientKey{h.name, seq}] = h.now()
	h.pump()
	return seq
}

// workerState is what a worker process is doing.
type workerState uint8

const (
	workerRunning workerState = iota
	workerPaused              // frozen: no timers, messages wait in its socket
	workerDead                // crashed: its connection is cut
)

// workerHost runs a core.Worker on the network with an application that answers
// every request after a fixed service time with the request's body followed by the
// worker's name. A credit worker (credit above 1) answers request n after
// svcTime × (1 + n mod 3) / 2, so that its replies overtake one another.
type workerHost struct {
	sys     *System
	name    string
	service string
	svcTime time.Duration
	w       *core.Worker
	conn    *mem.Dealer
	timer   *mem.Timer
	state   workerState
	credit  int
	inbox   [][][]byte      // messages that arrived while paused
	pending []*pendingReply // the application's answers to come, in delivery order
}

// pendingReply is an answer the application will send.
type pendingReply struct {
	n     uint64     // the request's number (DeliverOutput.Seq)
	body  [][]byte   // what it will answer
	timer *mem.Timer // nil while paused
	left  time.Duration
}

// stopReplies cancels every pending answer.
func (h *workerHost) stopReplies() {
	for _, p := range h.pending {
		if p.timer != nil {
			p.timer.Stop()
		}
	}
	h.pending = nil
}

func (h *workerHost) now() time.Time { return h.sys.now() }

func (h *workerHost) pump() {
	if h.state != workerRunning {
		return
	}
	for outs := h.w.Drain(); len(outs) > 0; outs = h.w.Drain() {
		for i := range outs {
			h.exec(&outs[i])
		}
	}
	h.timer = rearm(h.sys.clock, h.timer, h.w.NextDeadline(), h.tick)
}

func (h *workerHost) exec(o *core.Output) {
	switch o.Kind {
	case core.SendOutput:
		if h.conn != nil {
			_ = h.conn.Send(o.Frames)
		}
	case core.ConnectOutput:
		// A new connection: the worker let go of what it held.
		h.stopReplies()
		if h.conn != nil {
			h.conn.Close()
		}
		conn, err := h.sys.net.Connect(h.name, BackendAddr, h.receive)
		if err != nil {
			h.sys.k.violate(h.now(), L1Ledger, "connect %s: %v", h.name, err)
			return
		}
		h.conn = conn
	case core.DeliverOutput:
		body := make([][]byte, 0, len(o.Body)+1)
		body = append(append(body, o.Body...), []byte(h.name))
		p := &pendingReply{n: o.Seq, body: body}
		d := h.svcTime
		if h.credit > 1 {
			d = d * time.Duration(1+o.Seq%3) / 2
		}
		p.timer = h.sys.clock.After(d, func() { h.answer(p) })
		h.pending = append(h.pending, p)
	}
}

// answer is the application replying.
func (h *workerHost) answer(p *pendingReply) {
	if h.state != workerRunning {
		return
	}
	h.pending = slices.DeleteFunc(h.pending, func(x *pendingReply) bool { return x == p })
	h.w.ReplyTo(h.now(), p.n, p.body)
	h.pump()
}

func (h *workerHost) receive(frames [][]byte) {
	switch h.state {
	case workerDead:
		return
	case workerPaused:
		h.inbox = append(h.inbox, frames)
		return
	}
	h.w.Receive(h.now(), frames)
	h.pump()
}

func (h *workerHost) tick() {
	if h.state != workerRunning {
		return
	}
	h.w.Advance(h.now())
	h.pump()
}

// pause freezes the process: no heartbeats, no replies; its connection stays up.
func (h *workerHost) pause() {
	if h.state != workerRunning {
		return
	}
	h.state = workerPaused
	if h.timer != nil {
		h.timer.Stop()
	}
	for _, p := range h.pending {
		if p.timer == nil || !p.timer.Pending() {
			continue
		}
		p.left = p.timer.When().Sub(h.now())
		p.timer.Stop()
		p.timer = nil
	}
}

// resume thaws a paused process: it reads what waited, then carries on.
func (h *workerHost) resume() {
	if h.state != workerPaused {
		return
	}
	h.state = workerRunning
	inbox := h.inbox
	h.inbox = nil
	for _, f := range inbox {
		h.w.Receive(h.now(), f)
	}
	for _, p := range h.pending {
		if p.timer == nil {
			p.timer = h.sys.clock.After(p.left, func() { h.answer(p) })
		}
	}
	h.w.Advance(h.now())
	h.pump()
}

// kill crashes the process: no DISCONNECT, the connection is cut.
func (h *workerHost) kill() {
	if h.state == workerDead {
		return
	}
	h.state = workerDead
	if h.timer != nil {
		h.timer.Stop()
	}
	h.stopReplies()
	h.sys.net.Cut(h.conn)
}

// rearm points a host's one timer at dl (the zero time: no timer).
func rearm(c *mem.Clock, t *mem.Timer, dl time.Time, f func()) *mem.Timer {
	switch {
	case dl.IsZero():
		if t != nil {
			t.Stop()
		}
		return t
	case t == nil:
		return c.At(dl, f)
	}
	t.Reset(dl)
	return t
}
