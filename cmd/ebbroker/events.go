package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// EventLine is one line of --events: a core.Broker event, or a message the broker
// could not deliver ("undeliverable"), with the broker's wall-clock time.
type EventLine struct {
	Time    time.Time `json:"t"`
	Event   string    `json:"event"`             // core.EventKind's name, or "undeliverable"
	Peer    string    `json:"peer,omitempty"`    // e.g. "back:0080e3..."
	Service string    `json:"service,omitempty"` // the service, when the event has one
	Seq     uint64    `json:"seq,omitempty"`
	Reason  string    `json:"reason,omitempty"`
	Err     string    `json:"err,omitempty"`
}

// openEvents opens the --events file ("-": stdout) for eventsHook.
func openEvents(path string, stdout io.Writer) (io.Writer, func() error, error) {
	if path == "-" {
		return stdout, func() error { return nil }, nil
	}
	f, err := os.Create(path)
	if err != nil {
		return nil, nil, fmt.Errorf("--events: %w", err)
	}
	return f, f.Close, nil
}

// eventsHook writes each event as one JSON line, in one write each, so that a broker
// killed with SIGKILL leaves every event it reported before in the file. It costs a
// system call per event: a diagnostic for tests and live scenario runs
// (ebconform scenario), not for production load.
func eventsHook(w io.Writer) func(zmq.Event) {
	return func(e zmq.Event) {
		o := &e.Output
		l := EventLine{Time: e.Time, Event: o.Event.String(), Service: o.Service, Seq: o.Seq}
		if o.Peer != (core.Peer{}) {
			l.Peer = o.Peer.String()
		}
		if o.Reason != core.ReasonNone {
			l.Reason = o.Reason.String()
		}
		if o.Err != nil {
			l.Err = o.Err.Error()
		}
		if e.Undeliverable != nil {
			l.Event, l.Peer, l.Err = "undeliverable", o.To.String(), e.Undeliverable.Error()
		}
		b, err := json.Marshal(l)
		if err != nil {
			return // an EventLine always marshals
		}
		_, _ = w.Write(append(b, '\n')) // the log is best effort: the broker goes on
	}
}

// chainHooks calls a then b.
func chainHooks(a, b func(zmq.Event)) func(zmq.Event) {
	if a == nil {
		return b
	}
	return func(e zmq.Event) { a(e); b(e) }
}
