package zmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// ErrUndeliverable is matched (errors.Is) by Event.Undeliverable: ZeroMQ refused to
// route a message, because its peer is gone or at its high-water mark.
var ErrUndeliverable = errors.New("zmq: undeliverable message")

// Event is one thing a Broker reports to BrokerOptions.OnEvent.
type Event struct {
	Time time.Time
	// Output is the core.Broker event (Kind core.EventOutput) or, when Undeliverable
	// is set, the send (Kind core.SendOutput) that could not be delivered. Its Frames
	// are valid only during the OnEvent call.
	Output core.Output
	// Undeliverable says why the send in Output was not delivered; it matches
	// ErrUndeliverable and wraps ZeroMQ's error.
	Undeliverable error
}

// String returns the event as core prints it, e.g. "event worker-joined back:w1 echo",
// or "undeliverable →back:w1 HEARTBEAT: ..." for a message that could not be sent.
func (e Event) String() string {
	if e.Undeliverable != nil {
		return "undeliverable " + e.Output.String() + ": " + e.Undeliverable.Error()
	}
	return e.Output.String()
}

// eventLog turns the broker's events into log records and OnEvent calls.
type eventLog struct {
	log  *slog.Logger
	hook func(Event)
}

func newEventLog(log *slog.Logger, hook func(Event)) *eventLog {
	return &eventLog{log: log, hook: hook}
}

// enabled reports whether a record at level would be written, so that the per-request
// path builds no attributes for a disabled level.
func (l *eventLog) enabled(level slog.Level) bool {
	return l.log != nil && l.log.Enabled(context.Background(), level)
}

func (l *eventLog) write(level slog.Level, msg string, attrs ...slog.Attr) {
	l.log.LogAttrs(context.Background(), level, msg, attrs...)
}

// event reports one core event: workers joining and leaving, requeues at Info; refused
// input and failed requests at Warn; the life of each request at Debug.
func (l *eventLog) event(now time.Time, o *core.Output) {
	if l.hook != nil {
		l.hook(Event{Time: now, Output: *o})
	}
	level, msg := slog.LevelDebug, o.Event.String()
	switch o.Event {
	case core.WorkerJoined:
		level, msg = slog.LevelInfo, "worker joined"
	case core.WorkerRemoved:
		level, msg = slog.LevelInfo, "worker left"
	case core.RequestRequeued:
		level, msg = slog.LevelInfo, "request requeued"
	case core.RequestFailed:
		level, msg = slog.LevelWarn, "request failed"
	case core.InputDropped:
		// An unreachable client was logged as undeliverable already.
		if o.Reason != core.Unreachable {
			level, msg = slog.LevelWarn, "input refused"
		}
	}
	if !l.enabled(level) {
		return
	}
	attrs := make([]slog.Attr, 0, 6)
	if o.Peer != (core.Peer{}) {
		attrs = append(attrs, slog.String("peer", peerName(o.Peer)))
	}
	if o.Service != "" {
		attrs = append(attrs, slog.String("service", o.Service))
	}
	if o.Seq != 0 {
		attrs = append(attrs, slog.Uint64("seq", o.Seq))
	}
	if o.Reason != core.ReasonNone {
		attrs = append(attrs, slog.String("reason", o.Reason.String()))
	}
	if o.Err != nil {
		attrs = append(attrs, slog.String("err", o.Err.Error()))
	}
	if o.Key != "" {
		attrs = append(attrs, slog.String("key", o.Key))
	}
	l.write(level, msg, attrs...)
}

// undeliverable reports a send ZeroMQ refused, at Warn.
func (l *eventLog) undeliverable(now time.Time, o *core.Output, err error) {
	err = fmt.Errorf("%w to %s: %w", ErrUndeliverable, peerName(o.To), err)
	if l.hook != nil {
		l.hook(Event{Time: now, Output: *o, Undeliverable: err})
	}
	if l.enabled(slog.LevelWarn) {
		l.write(slog.LevelWarn, "undeliverable", slog.String("peer", peerName(o.To)),
			slog.String("command", o.Command.String()), slog.String("err", err.Error()))
	}
}

// listening reports the endpoints bound; back is empty with NoBackend.
func (l *eventLog) listening(front, back string) {
	if !l.enabled(slog.LevelInfo) {
		return
	}
	if back == "" {
		l.write(slog.LevelInfo, "broker listening", slog.String("endpoint", front))
		return
	}
	l.write(slog.LevelInfo, "broker listening", slog.String("frontend", front), slog.String("backend", back))
}

// stopped reports the final counters.
func (l *eventLog) stopped(st BrokerStats) {
	if !l.enabled(slog.LevelInfo) {
		return
	}
	var failed, dropped uint64
	for i := range st.Failed {
		failed += st.Failed[i]
		dropped += st.Dropped[i]
	}
	l.write(slog.LevelInfo, "broker stopped", slog.Uint64("requests", st.Requests),
		slog.Uint64("answered", st.Answered), slog.Uint64("requeued", st.Requeued),
		slog.Uint64("failed", failed), slog.Uint64("dropped", dropped),
		slog.Uint64("undeliverable", st.Undeliverable))
}

// peerName names a peer by its ROUTER identity alone (printable, or in hex): the
// broker has one socket, so core's socket prefix would call every peer "front".
func peerName(p core.Peer) string {
	return strings.TrimPrefix(p.String(), p.Socket.String()+":")
}
