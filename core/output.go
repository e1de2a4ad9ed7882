package core

import (
	"strconv"
	"strings"
	"time"
)

// OutputKind says what an Output asks of the driver or reports to it.
type OutputKind uint8

// The kinds of output.
const (
	// SendOutput: send Frames, in order with the other sends. At the broker To names the
	// peer (the driver prefixes its ROUTER identity); a client or worker sends on its
	// one connection to the broker.
	SendOutput OutputKind = iota + 1
	// ConnectOutput: close the connection to the broker, if any, and open a new one (a
	// new socket, so a new identity). Sends that follow go on the new connection.
	ConnectOutput
	// DeliverOutput: at a worker, a request for the application (Service, Body); at a
	// client, the reply to request Seq (Service, Body).
	DeliverOutput
	// FailOutput: at a client, request Seq ended without a reply (Reason, Attempts).
	FailOutput
	// EventOutput: something happened (Event, Peer, Service, Seq, Reason, Err); for
	// traces, logs and counters. The driver needs to do nothing.
	EventOutput
)

// Output is one effect of a state machine, returned by Drain in the order it happened.
// Which fields are set depends on Kind. Frames and Body may share memory with the
// frames given to Receive and with the shared header frames: the driver must not
// modify them.
type Output struct {
	Kind     OutputKind
	To       Peer     // SendOutput at the broker
	Frames   [][]byte // SendOutput
	Protocol Protocol // SendOutput: which sub-protocol, for String
	Command  Command  // SendOutput: the command, for String (client messages: Request or Reply)
	Event    EventKind
	Peer     Peer // EventOutput: the peer concerned, when there is one
	Service  string
	Seq      uint64
	Body     [][]byte // DeliverOutput; SendOutput: set only where a trace should show it (MMI replies)
	Reason   Reason   // FailOutput and EventOutput
	Attempts int      // FailOutput: how many times the request was sent
	Err      error    // EventOutput: the parse error of a dropped message
	// Key is the peer's authenticated key on an InputDropped event for NotAuthorized.
	Key string
	// Elapsed is, on the broker's request events (RequestQueued, RequestDispatched,
	// RequestRequeued, RequestAnswered, RequestFailed), how long ago the broker took
	// the request in: on RequestAnswered, the request's duration at the broker.
	Elapsed time.Duration
	// Waited is, on RequestDispatched, how long the request waited in its queue before
	// this dispatch; zero when an idle worker took it at once.
	Waited time.Duration
	// First marks the first event of each request the broker took in (a
	// RequestDispatched, RequestQueued or RequestFailed): counting them counts requests.
	First bool
}

// String describes the output in one stable line, as traces and golden files show it:
// "→back:w1 REQUEST echo seq=7".
func (o Output) String() string {
	var b strings.Builder
	switch o.Kind {
	case SendOutput:
		b.WriteString("→")
		if o.To != (Peer{}) {
			b.WriteString(o.To.String())
		} else {
			b.WriteString("broker")
		}
		b.WriteString(" ")
		b.WriteString(o.Command.String())
		if o.Service != "" {
			b.WriteString(" ")
			b.WriteString(o.Service)
		}
		writeSeq(&b, o.Seq)
		writeBody(&b, o.Body)
		if o.Reason != ReasonNone {
			b.WriteString(" (")
			b.WriteString(o.Reason.String())
			b.WriteString(")")
		}
	case ConnectOutput:
		b.WriteString("connect")
	case DeliverOutput:
		b.WriteString("deliver ")
		b.WriteString(o.Service)
		writeSeq(&b, o.Seq)
		writeBody(&b, o.Body)
	case FailOutput:
		b.WriteString("fail ")
		b.WriteString(o.Service)
		b.WriteString(" seq=")
		b.WriteString(strconv.FormatUint(o.Seq, 10))
		b.WriteString(": ")
		b.WriteString(o.Reason.String())
		b.WriteString(" after ")
		b.WriteString(strconv.Itoa(o.Attempts))
		if o.Attempts == 1 {
			b.WriteString(" attempt")
		} else {
			b.WriteString(" attempts")
		}
	case EventOutput:
		b.WriteString("event ")
		b.WriteString(o.Event.String())
		if o.Peer != (Peer{}) {
			b.WriteString(" ")
			b.WriteString(o.Peer.String())
		}
		if o.Service != "" {
			b.WriteString(" ")
			b.WriteString(o.Service)
		}
		writeSeq(&b, o.Seq)
		if o.Key != "" {
			b.WriteString(" key=")
			b.WriteString(o.Key)
		}
		if o.Reason != ReasonNone {
			b.WriteString(" (")
			b.WriteString(o.Reason.String())
			if o.Err != nil {
				b.WriteString(": ")
				b.WriteString(o.Err.Error())
			}
			b.WriteString(")")
		}
	default:
		b.WriteString("output?")
	}
	return b.String()
}

// writeSeq appends " seq=N" unless seq is 0 (no sequence: a standard MDP client).
func writeSeq(b *strings.Builder, seq uint64) {
	if seq != 0 {
		b.WriteString(" seq=")
		b.WriteString(strconv.FormatUint(seq, 10))
	}
}

// writeBody appends the body frames, quoted and cut at 32 bytes each.
func writeBody(b *strings.Builder, body [][]byte) {
	for _, f := range body {
		b.WriteString(" ")
		if len(f) > 32 {
			b.WriteString(strconv.Quote(string(f[:32])))
			b.WriteString("…")
			continue
		}
		b.WriteString(strconv.Quote(string(f)))
	}
}

// outputs is the double buffer behind Drain: machines append to cur, and Drain hands
// cur out and starts on the other, so a drained slice stays valid until the next Drain.
type outputs struct {
	cur, spare []Output
}

func (q *outputs) add(o Output) { q.cur = append(q.cur, o) }

func (q *outputs) drain() []Output {
	out := q.cur
	q.cur = q.spare[:0]
	q.spare = out
	return out
}
