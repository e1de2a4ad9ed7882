package core

import (
	"encoding/binary"
	"time"
)

// ClientStats counts what a Client did.
type ClientStats struct {
	Requests  uint64             // Request calls
	Sends     uint64             // attempts sent, first sends and retries
	Retries   uint64             // sends after a timeout
	Replies   uint64             // replies accepted and delivered
	Failures  [NumReasons]uint64 // requests failed, by reason (TimedOut, QueueFull, ...)
	Discarded [NumReasons]uint64 // replies discarded, by reason (Stale, Duplicate, Malformed, WrongService)
}

// Client is the client side of ebwrk on one connection to a broker, as a pure state
// machine. See the package doc for the driver loop.
//
// Every request gets the next sequence number (1, 2, ...) and ends exactly once: with a
// DeliverOutput carrying the reply, or with a FailOutput saying why.
//
// Attempts and time to failure. A request is sent at most cfg.Attempts times in all
// (the default 3 gives one send and two retries; 1 gives no retry). Each attempt waits
// cfg.Timeout for a reply; when the last attempt times out the request fails with
// Reason TimedOut and Attempts = cfg.Attempts. With no reply at all, the FailOutput
// therefore comes exactly Attempts × Timeout after the request was first sent (the
// defaults: 3 × 1 s = 3 s), at the Advance call for that deadline. A broker-made
// failure (queue full, expired in the queue, worker died, broker shut down) ends the
// request at once, whichever attempt it answers.
//
// Ebwrk mode (the default). Each request travels with the ebwrk envelope
// (seq, "", "MDPC01", service, body...); many requests may be outstanding at once
// (pipelining) and a retry resends the same frames with the same sequence number on
// the same connection. A reply is accepted only for an outstanding sequence number and
// the service of its request, whichever attempt it answers (MDP assumes idempotent
// workers), so each request is accepted at most once. Other replies are discarded and
// counted: Duplicate when the sequence number was answered recently (the client
// remembers the last 64 answered numbers, so its memory stays bounded), Stale
// otherwise, WrongService when the service differs, Malformed when the reply does not
// parse or carries no envelope.
//
// Standard mode (cfg.Standard, for any MDP/0.1 broker). No envelope is sent; as RFC 7
// recommends, only one request is on the wire at a time, and every retry goes on a
// fresh connection (ConnectOutput before the resend). Further requests wait in a FIFO
// inside the client and their timeout clock starts only when they are sent, so in
// standard mode a request fails Attempts × Timeout after it was sent, which may be
// later than Attempts × Timeout after Request. After a request timed out, the next one
// is also sent on a fresh connection, so a late reply can never be taken for the answer
// to another request. A reply (without envelope) is matched to the request on the wire;
// it must name that request's service.
//
// MMI lookups are ordinary requests: Request(now, "mmi.service", [][]byte{name}) or
// Request(now, "mmi."+name, nil); the answer comes back as a DeliverOutput.
type Client struct {
	cfg   ClientConfig
	out   outputs
	seq   uint64       // the last sequence number given out
	reqs  []clientReq  // outstanding requests in increasing seq order
	done  answeredRing // recently answered sequence numbers
	fresh bool         // standard mode: the next send needs a new connection
	stats ClientStats
	alloc frameAllocator // envelopes and frame slices
}

// clientReq is one outstanding request.
type clientReq struct {
	seq      uint64
	service  string
	body     [][]byte
	frames   [][]byte  // what is sent; built at the first send, resent as is
	attempts int       // sends so far
	deadline time.Time // when the current attempt times out; zero while not sent yet
}

// NewClient returns a client with the given configuration (zero fields: defaults).
func NewClient(cfg ClientConfig) *Client {
	return &Client{cfg: cfg.withDefaults()}
}

// Request starts a request to service with the given body frames and returns its
// sequence number (1, 2, ...). The body is not copied.
func (c *Client) Request(now time.Time, service string, body [][]byte) uint64 {
	c.seq++
	c.stats.Requests++
	c.reqs = append(c.reqs, clientReq{seq: c.seq, service: service, body: body})
	if !c.cfg.Standard || len(c.reqs) == 1 {
		c.send(now, &c.reqs[len(c.reqs)-1])
	}
	return c.seq
}

// send sends one attempt of r and starts its timeout.
func (c *Client) send(now time.Time, r *clientReq) {
	if r.frames == nil {
		r.frames = c.buildFrames(r)
	}
	if c.cfg.Standard && c.fresh {
		c.out.add(Output{Kind: ConnectOutput})
		c.fresh = false
	}
	r.attempts++
	r.deadline = now.Add(c.cfg.Timeout)
	c.stats.Sends++
	c.out.add(Output{Kind: SendOutput, Frames: r.frames, Protocol: ClientProtocol,
		Command: Request, Service: r.service, Seq: r.seq})
}

// buildFrames lays out r's message: [envelope] "" "MDPC01" service body...
func (c *Client) buildFrames(r *clientReq) [][]byte {
	n := 3 + len(r.body)
	if !c.cfg.Standard {
		n++
	}
	frames := c.alloc.frames(n)[:0]
	if c.cfg.Standard {
		svc := c.alloc.bytes(len(r.service))
		copy(svc, r.service)
		frames = append(frames, emptyFrame, clientHeaderFrame, svc)
	} else {
		b := c.alloc.bytes(8 + len(r.service))
		binary.BigEndian.PutUint64(b, r.seq)
		copy(b[8:], r.service)
		frames = append(frames, b[:8:8], emptyFrame, clientHeaderFrame, b[8:])
	}
	return append(frames, r.body...)
}

// Advance lets time pass: attempts past their timeout are retried or failed, in
// sequence order.
func (c *Client) Advance(now time.Time) {
	removed := false
	for i := 0; i < len(c.reqs); {
		r := &c.reqs[i]
		if r.deadline.IsZero() || now.Before(r.deadline) {
			i++
			continue
		}
		// RFC 7: the connection of a timed-out request is not trusted again.
		c.fresh = c.cfg.Standard
		if r.attempts < c.cfg.Attempts {
			c.stats.Retries++
			c.out.add(Output{Kind: EventOutput, Event: RequestRetried, Service: r.service, Seq: r.seq})
			c.send(now, r)
			i++
			continue
		}
		c.stats.Failures[TimedOut]++
		c.out.add(Output{Kind: FailOutput, Service: r.service, Seq: r.seq, Reason: TimedOut, Attempts: r.attempts})
		c.remove(i)
		removed = true
	}
	if removed {
		c.sendNext(now)
	}
}

// sendNext sends the next waiting request in standard mode, where only the first
// outstanding request is on the wire.
func (c *Client) sendNext(now time.Time) {
	if c.cfg.Standard && len(c.reqs) > 0 && c.reqs[0].deadline.IsZero() {
		c.send(now, &c.reqs[0])
	}
}

// remove forgets the request at index i, keeping the others in order.
func (c *Client) remove(i int) {
	copy(c.reqs[i:], c.reqs[i+1:])
	c.reqs[len(c.reqs)-1] = clientReq{}
	c.reqs = c.reqs[:len(c.reqs)-1]
}

// find returns the index of the outstanding request with sequence number seq, or -1.
func (c *Client) find(seq uint64) int {
	lo, hi := 0, len(c.reqs)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.reqs[m].seq < seq {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(c.reqs) && c.reqs[lo].seq == seq {
		return lo
	}
	return -1
}

// NextDeadline returns when Advance must next be called; the zero time means never.
func (c *Client) NextDeadline() time.Time {
	var next time.Time
	for i := range c.reqs {
		d := c.reqs[i].deadline
		if !d.IsZero() && (next.IsZero() || d.Before(next)) {
			next = d
		}
	}
	return next
}

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (c *Client) Drain() []Output { return c.out.drain() }

// Outstanding returns how many requests have neither a reply nor a failure yet.
func (c *Client) Outstanding() int { return len(c.reqs) }

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats { return c.stats }

// answeredRing remembers the last answeredMemory answered sequence numbers, so that a
// second reply can be told from a stale one in bounded memory.
type answeredRing struct {
	seqs [answeredMemory]uint64
	next int
}

// answeredMemory is how many answered sequence numbers a Client remembers.
const answeredMemory = 64

func (a *answeredRing) add(seq uint64) {
	a.seqs[a.next] = seq
	a.next = (a.next + 1) % answeredMemory
}

func (a *answeredRing) has(seq uint64) bool {
	if seq == 0 {
		return false
	}
	for _, s := range a.seqs {
		if s == seq {
			return true
		}
	}
	return false
}
