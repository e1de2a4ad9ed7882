package zmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// emptyBody is the reply body sent for an empty reply: RFC 7's REPLY has at least one
// body frame.
var emptyBody = [][]byte{{}}

// workerLoop is the state of the goroutine that owns a Worker's socket.
type workerLoop struct {
	w       *Worker
	ctx     context.Context
	handler Handler
	core    *core.Worker
	zctx    *zmq4.Context
	dealer  *zmq4.Socket
	scratch recvScratch
	timer   *time.Timer
	job     *job // the handler running for the request held; nil when idle
}

// job is one handler call.
type job struct {
	cancel context.CancelFunc
	result chan [][]byte // buffered: an abandoned handler still ends
}

// serve is Serve once the worker is marked serving.
func (w *Worker) serve(ctx context.Context, h Handler) error {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return fmt.Errorf("zmq: new context: %w", err)
	}
	l := &workerLoop{w: w, ctx: ctx, handler: h, core: core.NewWorker(w.cfg), zctx: zctx}
	l.timer = time.NewTimer(time.Hour)
	l.timer.Stop()
	err = l.run()
	now := time.Now()
	l.core.Stop(now)
	if l.dealer != nil {
		err = errors.Join(err, l.flush(now))
	}
	return errors.Join(err, l.close())
}

// run is the driver loop: while a handler runs, wait on Go channels for its reply or
// the next deadline (and read the socket then); while idle, wait in a blocking
// receive for a request until the next deadline (fewer system calls per request than
// a poll), looking at ctx at least every maxIdleWait.
func (l *workerLoop) run() error {
	now := time.Now()
	l.core.Start(now)
	if err := l.flush(now); err != nil {
		return err
	}
	for l.ctx.Err() == nil {
		var err error
		if l.job != nil {
			err = l.waitBusy()
		} else {
			err = l.waitIdle()
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// waitIdle receives the next message, waiting until the next deadline at most.
func (l *workerLoop) waitIdle() error {
	if err := l.dealer.SetRcvtimeo(pollTimeout(l.core.NextDeadline(), time.Now(), maxIdleWait)); err != nil {
		return fmt.Errorf("zmq: worker set RCVTIMEO: %w", err)
	}
	frames, err := l.scratch.recv(l.dealer, true)
	now := time.Now()
	switch {
	case err == nil:
		l.core.Receive(now, frames)
		if err := l.flush(now); err != nil {
			return err
		}
	case !isAgain(err) && !isInterrupted(err):
		return fmt.Errorf("zmq: worker receive: %w", err)
	}
	return l.advance(now)
}

// waitBusy waits for the handler's reply, the next deadline or the end of ctx. At a
// deadline it reads what arrived (the broker's heartbeats, a DISCONNECT) before
// advancing, so the broker's liveness is judged on everything received.
func (l *workerLoop) waitBusy() error {
	l.timer.Reset(time.Until(l.core.NextDeadline()))
	defer l.timer.Stop()
	select {
	case body := <-l.job.result:
		l.endJob()
		if len(body) == 0 {
			body = emptyBody
		}
		now := time.Now()
		l.core.Reply(now, body)
		return l.flush(now)
	case <-l.timer.C:
		now := time.Now()
		if err := l.readAll(now); err != nil {
			return err
		}
		return l.advance(now)
	case <-l.ctx.Done():
		return nil
	}
}

// advance calls Advance when the core's deadline has come.
func (l *workerLoop) advance(now time.Time) error {
	if d := l.core.NextDeadline(); d.IsZero() || now.Before(d) {
		return nil
	}
	l.core.Advance(now)
	return l.flush(now)
}

// readAll gives the core every message waiting on the connection.
func (l *workerLoop) readAll(now time.Time) error {
	for range readBatch {
		frames, err := l.scratch.recv(l.dealer, false)
		if err != nil {
			if isAgain(err) || isInterrupted(err) {
				return nil
			}
			return fmt.Errorf("zmq: worker receive: %w", err)
		}
		l.core.Receive(now, frames)
		if err := l.flush(now); err != nil {
			return err
		}
	}
	return nil
}

// flush carries out the core's outputs in order.
func (l *workerLoop) flush(now time.Time) error {
	for {
		outs := l.core.Drain()
		if len(outs) == 0 {
			return nil
		}
		for i := range outs {
			o := &outs[i]
			switch o.Kind {
			case core.SendOutput:
				// EAGAIN: the connection is at its high-water mark, the broker is not
				// reading; heartbeat loss will tell the core.
				if err := send(l.dealer, o.Frames); err != nil && !isAgain(err) {
					return fmt.Errorf("zmq: worker send: %w", err)
				}
			case core.ConnectOutput:
				// The request held, if any, went with the old connection.
				l.endJob()
				if err := l.reconnect(); err != nil {
					return err
				}
			case core.DeliverOutput:
				l.startJob(o.Body)
			case core.EventOutput:
				if o.Event == core.BrokerLost {
					// The core dropped the request held; its handler may stop.
					l.endJob()
				}
				l.logEvent(o)
			}
		}
	}
}

// startJob runs the handler for a request on its own goroutine.
func (l *workerLoop) startJob(body [][]byte) {
	l.endJob()
	ctx, cancel := context.WithCancel(l.ctx)
	j := &job{cancel: cancel, result: make(chan [][]byte, 1)}
	l.job = j
	go func() { j.result <- l.handler(ctx, body) }()
}

// endJob lets go of the running handler, if any: it has answered, or its request is
// lost and its ctx ends.
func (l *workerLoop) endJob() {
	if l.job != nil {
		l.job.cancel()
		l.job = nil
	}
}

// reconnect closes the connection, if any, and opens a new one (a new identity).
func (l *workerLoop) reconnect() error {
	if l.dealer != nil {
		// Nothing on the old connection is worth waiting for.
		err := errors.Join(l.dealer.SetLinger(0), l.dealer.Close())
		l.dealer = nil
		if err != nil {
			return fmt.Errorf("zmq: worker close: %w", err)
		}
	}
	s, err := newSocket(l.zctx, zmq4.DEALER, l.w.hwm, l.w.linger)
	if err != nil {
		return err
	}
	if err := s.Connect(l.w.endpoint); err != nil {
		return errors.Join(fmt.Errorf("zmq: connect %s: %w", l.w.endpoint, err), s.Close())
	}
	l.dealer = s
	return nil
}

// close ends the handler, closes the sockets and waits, at most the linger, for the
// DISCONNECT to leave.
func (l *workerLoop) close() error {
	l.endJob()
	var errs []error
	if l.dealer != nil {
		if err := l.dealer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("zmq: worker close: %w", err))
		}
	}
	if err := l.zctx.Term(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: terminate context: %w", err))
	}
	return errors.Join(errs...)
}

// logEvent logs a core.Worker event: refused input at Warn, the rest at Info.
func (l *workerLoop) logEvent(o *core.Output) {
	if l.w.log == nil {
		return
	}
	level := slog.LevelInfo
	if o.Event == core.InputDropped {
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !l.w.log.Enabled(ctx, level) {
		return
	}
	attrs := []slog.Attr{slog.String("service", o.Service)}
	if o.Reason != core.ReasonNone {
		attrs = append(attrs, slog.String("reason", o.Reason.String()))
	}
	if o.Err != nil {
		attrs = append(attrs, slog.String("err", o.Err.Error()))
	}
	l.w.log.LogAttrs(ctx, level, "worker "+o.Event.String(), attrs...)
}
