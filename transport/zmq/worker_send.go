package zmq

import (
	"fmt"
	"log/slog"

	"github.com/ebwrk/ebwrk/core"
)

// send sends one message of the core's on the worker's connection.
//
// EINTR never comes here: out.send retries it. EAGAIN means the connection is at its
// high-water mark: the broker is not reading (stopped, or the connection is down
// while ZeroMQ reconnects), but may again. A REPLY is then never dropped unseen, or
// the broker would hold the worker busy for ever: it is held, and sent again before
// anything else each time the loop or the keeper comes round (at least every
// maxIdleWait while idle, every keepEvery while a handler runs), until the socket
// takes it or the connection is replaced (ConnectOutput, after the broker was lost,
// which then requeues the request). Any other message of the core's meeting EAGAIN,
// or coming while a reply is held, is dropped: a HEARTBEAT stands for the ones after
// it and is moot while the broker does not read; the DISCONNECT of a stopping worker
// leaves the broker to expire it. Any other error is a socket error: the loop starts
// over on a new connection (recoverFrom).
func (l *workerLoop) send(o *core.Output) error {
	if err := l.sendHeld(); err != nil {
		return err
	}
	if len(l.held) > 0 {
		if o.Command == core.Reply {
			l.held = append(l.held, copyFrames(o.Frames))
		}
		return nil
	}
	err := l.out.send(l.dealer, o.Frames)
	l.countSend()
	switch {
	case err == nil:
		return nil
	case !isAgain(err):
		return fmt.Errorf("zmq: worker send %v: %w", o.Command, err)
	case o.Command == core.Reply:
		// The frames are the core's until its next Drain: keep a copy.
		l.held = append(l.held, copyFrames(o.Frames))
		if l.w.log != nil {
			l.w.log.Warn("worker reply waits: the connection to the broker is at its high-water mark",
				slog.String("service", l.w.cfg.Service))
		}
	case l.w.log != nil:
		l.w.log.Debug("worker message dropped: the connection to the broker is at its high-water mark",
			slog.String("service", l.w.cfg.Service), slog.String("command", o.Command.String()))
	}
	return nil
}

// sendHeld sends the held replies, in order, as far as the socket takes them.
func (l *workerLoop) sendHeld() error {
	for len(l.held) > 0 {
		err := l.out.send(l.dealer, l.held[0])
		l.countSend()
		switch {
		case isAgain(err):
			return nil // still at the high-water mark: next time round
		case err != nil:
			return fmt.Errorf("zmq: worker send REPLY: %w", err)
		}
		l.held[0] = nil
		l.held = l.held[1:]
		if l.w.log != nil {
			l.w.log.Info("worker reply sent after waiting", slog.String("service", l.w.cfg.Service))
		}
	}
	return nil
}

// dropHeld drops the held replies: their connection is gone (why), and with it the
// broker's hold on their requests, which it requeues.
func (l *workerLoop) dropHeld(why string) {
	if len(l.held) == 0 {
		return
	}
	if l.w.log != nil {
		l.w.log.Warn("worker reply dropped: "+why, slog.String("service", l.w.cfg.Service),
			slog.Int("replies", len(l.held)))
	}
	l.held = nil
}

// countSend notes a send tried on the socket, for the loop of a Worker with
// Concurrency: a send may consume ZMQ_FD's signal (see sockWaiter).
func (l *workerLoop) countSend() {
	if l.conc != nil {
		l.conc.sends++
	}
}
