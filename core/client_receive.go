package core

import (
	"fmt"
	"time"
)

// Errors in the Err of a client's ReplyDiscarded event for a message that parses but is
// no reply the client can take. Each matches ErrMalformed.
var (
	errWorkerCommand      = fmt.Errorf("%w: worker command at a client", ErrMalformed)
	errNoEnvelope         = fmt.Errorf("%w: reply without sequence envelope", ErrMalformed)
	errUnexpectedEnvelope = fmt.Errorf("%w: sequence envelope in standard mode", ErrMalformed)
	errUnknownStatus      = fmt.Errorf("%w: unknown envelope status", ErrMalformed)
)

// Receive takes one message the client's connection received.
func (c *Client) Receive(now time.Time, frames [][]byte) {
	m, err := Parse(frames)
	switch {
	case err != nil:
		c.discard(Malformed, 0, nil, err)
		return
	case m.Protocol != ClientProtocol:
		c.discard(Malformed, 0, nil, errWorkerCommand)
		return
	case c.cfg.Standard && m.Envelope:
		c.discard(Malformed, m.Seq, m.Service, errUnexpectedEnvelope)
		return
	case !c.cfg.Standard && !m.Envelope:
		c.discard(Malformed, 0, m.Service, errNoEnvelope)
		return
	}
	i := -1
	if c.cfg.Standard {
		// Standard mode: the reply answers the one request on the wire, if any.
		if len(c.reqs) > 0 && !c.reqs[0].deadline.IsZero() {
			i = 0
		}
	} else {
		i = c.find(m.Seq)
	}
	if i < 0 {
		if !c.cfg.Standard && c.done.has(m.Seq) {
			c.discard(Duplicate, m.Seq, m.Service, nil)
		} else {
			c.discard(Stale, m.Seq, m.Service, nil)
		}
		return
	}
	r := &c.reqs[i]
	if string(m.Service) != r.service {
		c.discard(WrongService, r.seq, m.Service, nil)
		return
	}
	if m.Status != StatusOK {
		reason := statusReason(m.Status)
		if reason == Malformed {
			c.discard(Malformed, m.Seq, m.Service, fmt.Errorf("%w %d", errUnknownStatus, m.Status))
			return
		}
		c.stats.Failures[reason]++
		c.out.add(Output{Kind: FailOutput, Service: r.service, Seq: r.seq, Reason: reason, Attempts: r.attempts})
	} else {
		c.stats.Replies++
		c.out.add(Output{Kind: DeliverOutput, Service: r.service, Seq: r.seq, Body: m.Body})
	}
	c.done.add(r.seq)
	c.remove(i)
	c.sendNext(now)
}

// discard reports and counts a reply the client does not accept.
func (c *Client) discard(reason Reason, seq uint64, service []byte, err error) {
	c.stats.Discarded[reason]++
	c.out.add(Output{Kind: EventOutput, Event: ReplyDiscarded, Service: string(service),
		Seq: seq, Reason: reason, Err: err})
}
