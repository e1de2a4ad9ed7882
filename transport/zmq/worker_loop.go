package zmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// emptyBody is the reply body sent for an empty reply: RFC 7's REPLY has at least one
// body frame.
var emptyBody = [][]byte{{}}

// workerLoop is the state of a Worker's loop. Two goroutines share it: the loop,
// which runs the handler itself (no goroutine hand-off per request), and the keeper,
// which heartbeats while a handler runs. mu passes the socket and the core between
// them, one at a time: the loop holds it except while its handler runs.
type workerLoop struct {
	w         *Worker
	ctx       context.Context
	handler   Handler
	keepEvery time.Duration // how often the keeper looks in

	mu       sync.Mutex // guards every field below
	core     *core.Worker
	zctx     *zmq4.Context
	dealer   *zmq4.Socket
	scratch  recvScratch
	out      sendScratch
	job      *job       // the request held, not yet answered; nil when idle
	handling bool       // the loop is in the handler and has let go of mu
	keepErr  error      // the socket error that stopped the keeper
	held     [][][]byte // replies the socket would not take yet (worker_send.go)
	failures int        // socket errors since a message was last received

	// With Concurrency above 1 (worker_concurrent.go): the handlers in flight, and
	// the waiter the loop blocks in, which they kick. Nil otherwise.
	conc   *concurrent
	waiter *sockWaiter
}

// job is one request for the handler.
type job struct {
	ctx    context.Context
	cancel context.CancelFunc
	body   [][]byte
}

// workerFaults, when a test sets it, gives the injected faults of the receives of
// every Worker that starts serving after (see faults).
var workerFaults func() faults

// serve is Serve once the worker is marked serving.
func (w *Worker) serve(ctx context.Context, h Handler) error {
	zctx, err := newContext()
	if err != nil {
		return err
	}
	every := w.cfg.HeartbeatInterval
	if every <= 0 {
		every = core.DefaultHeartbeatInterval
	}
	l := &workerLoop{w: w, ctx: ctx, handler: h, keepEvery: every / 2, core: core.NewWorker(w.cfg), zctx: zctx}
	if workerFaults != nil {
		l.scratch.faults = workerFaults()
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if w.cfg.Credit > 1 {
		l.conc = newConcurrent()
		err = l.runConcurrent()
		// Serve returns once every handler has: their ctx ends now.
		l.conc.endAll()
		l.conc.wg.Wait()
	} else {
		quit, kept := make(chan struct{}), make(chan struct{})
		go l.keep(quit, kept)
		err = l.run()
		// The keeper cannot hold mu now; it ends at its next look.
		close(quit)
		<-kept
	}
	now := time.Now()
	l.core.Stop(now)
	var stopErr error
	if l.dealer != nil {
		stopErr = l.flush(now)
	}
	closeErr := l.close()
	if err != nil {
		err = &EndedError{Worker: true, Cause: errors.Join(err, stopErr, closeErr)}
		if w.log != nil {
			w.log.Error("worker ended", slog.String("service", w.cfg.Service), slog.String("err", err.Error()))
		}
		return err
	}
	return errors.Join(stopErr, closeErr)
}

// run is the driver loop: while idle, wait in a blocking receive for a request until
// the next deadline (fewer system calls per request than a poll), looking at ctx at
// least every maxIdleWait; with a request, run the handler and send its reply. A
// socket error makes it start over on a new connection (restart); it returns only
// when ctx ends, or with the last of maxFailures socket errors that came in a row
// with no message received between them: reconnecting did not help.
func (l *workerLoop) run() error {
	now := time.Now()
	l.core.Start(now)
	err := l.flush(now)
	for l.ctx.Err() == nil {
		if err != nil {
			if l.failures++; l.failures >= maxFailures {
				return fmt.Errorf("%w (%d socket errors in a row)", err, l.failures)
			}
			err = l.restart(err)
			continue
		}
		if l.job != nil {
			err = l.handle()
		} else {
			err = l.waitIdle()
		}
	}
	return nil
}

// restart starts over on a new connection after the socket error err (EINTR and
// EAGAIN never come here: they are handled where they happen): the request held is
// lost with the connection (the broker requeues it when the old connection expires),
// and a new core.Worker sends READY on a new socket. From the second error in a row
// on, it waits the reconnect backoff first. It returns the error of opening the new
// connection, if any, and nil when ctx ended meanwhile.
func (l *workerLoop) restart(err error) error {
	l.logErr("worker reconnects after a socket error", err)
	l.endJob()
	l.keepErr = nil
	l.dropHeld("the connection failed")
	if l.failures > 1 {
		wait := l.w.cfg.ReconnectInitial
		if wait <= 0 {
			wait = core.DefaultReconnectInitial
		}
		t := time.NewTimer(wait << (l.failures - 2))
		select {
		case <-t.C:
		case <-l.ctx.Done():
			t.Stop()
			return nil
		}
	}
	now := time.Now()
	l.core = core.NewWorker(l.w.cfg)
	l.core.Start(now)
	return l.flush(now)
}

// waitIdle receives the next message, waiting until the next deadline at most (and
// at most maxIdleWait, so that a held reply is tried again that often).
func (l *workerLoop) waitIdle() error {
	if err := l.sendHeld(); err != nil {
		return err
	}
	if err := l.dealer.SetRcvtimeo(pollTimeout(l.core.NextDeadline(), time.Now(), maxIdleWait)); err != nil {
		return fmt.Errorf("zmq: worker set RCVTIMEO: %w", err)
	}
	frames, err := l.scratch.recv(l.dealer, true)
	now := time.Now()
	switch {
	case err == nil:
		l.failures = 0
		l.core.Receive(now, frames)
		if err := l.flush(now); err != nil {
			return err
		}
	case !isAgain(err) && !isInterrupted(err):
		// EAGAIN: the wait timed out; EINTR: a signal ended it early. Both go
		// round again with the timeout recomputed.
		return fmt.Errorf("zmq: worker receive: %w", err)
	}
	return l.advance(now)
}

// handle runs the handler of the request held without holding mu, so that the
// keeper heartbeats meanwhile, then sends its reply, unless the request was lost
// (DISCONNECT, the broker lost) or the worker is stopping: its reply is dropped.
func (l *workerLoop) handle() error {
	j := l.job
	l.handling = true
	l.mu.Unlock()
	body := l.handler(j.ctx, j.body)
	l.mu.Lock()
	l.handling = false
	if l.keepErr != nil {
		return l.keepErr
	}
	if l.job != j || l.ctx.Err() != nil {
		return nil
	}
	l.endJob()
	if len(body) == 0 {
		body = emptyBody
	}
	now := time.Now()
	l.core.Reply(now, body)
	return l.flush(now)
}

// keep is the keeper: every keepEvery, or at the core's deadline when that is
// sooner, it takes mu if the loop is in a handler, and then reads the socket and
// advances the core as the loop would (heartbeats, the broker's liveness,
// reconnecting). A socket error ends the handler's context and waits for the loop.
func (l *workerLoop) keep(quit <-chan struct{}, done chan<- struct{}) {
	defer close(done)
	t := time.NewTimer(l.keepEvery)
	defer t.Stop()
	for {
		select {
		case <-quit:
			return
		case <-t.C:
		}
		next := l.keepEvery
		if l.mu.TryLock() {
			if l.handling && l.keepErr == nil {
				now := time.Now()
				err := l.sendHeld()
				if err == nil {
					err = l.readAll(now)
				}
				if err == nil {
					err = l.advance(now)
				}
				if err != nil {
					l.keepErr = err
					l.endJob()
				} else if d := l.core.NextDeadline(); !d.IsZero() {
					next = min(next, max(d.Sub(now), time.Millisecond))
				}
			}
			l.mu.Unlock()
		}
		t.Reset(next)
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
		// EINTR: recv retries it (non-blocking). EAGAIN: nothing more.
		frames, err := l.scratch.recv(l.dealer, false)
		if err != nil {
			if isAgain(err) {
				return nil
			}
			return fmt.Errorf("zmq: worker receive: %w", err)
		}
		l.failures = 0
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
				if err := l.send(o); err != nil {
					return err
				}
			case core.ConnectOutput:
				// The request held, if any, and a reply not yet sent went with the
				// old connection; the broker requeues the request.
				l.endJob()
				l.dropHeld("the connection was replaced")
				if err := l.reconnect(); err != nil {
					return err
				}
			case core.DeliverOutput:
				if l.conc != nil {
					l.conc.start(l, o.Seq, o.Body)
				} else {
					l.startJob(o.Body)
				}
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

// startJob holds a request for the handler, which the loop runs next.
func (l *workerLoop) startJob(body [][]byte) {
	l.endJob()
	ctx, cancel := context.WithCancel(l.ctx)
	l.job = &job{ctx: ctx, cancel: cancel, body: body}
}

// endJob lets go of the request held, if any (with Concurrency, every one): it has
// been answered, or it is lost and the ctx of its handler ends.
func (l *workerLoop) endJob() {
	if l.conc != nil {
		l.conc.endAll()
	}
	if l.job != nil {
		l.job.cancel()
		l.job = nil
	}
}

// reconnect closes the connection, if any, and opens a new one (a new identity).
func (l *workerLoop) reconnect() error {
	if l.dealer != nil {
		// Nothing on the old connection is worth waiting for. An error closing it
		// is logged: the new connection goes on all the same.
		if err := errors.Join(l.dealer.SetLinger(0), l.dealer.Close()); err != nil {
			l.logErr("worker close", fmt.Errorf("zmq: worker close: %w", err))
		}
		l.dealer = nil
	}
	s, err := newSocket(l.zctx, zmq4.DEALER, l.w.hwm, l.w.linger)
	if err != nil {
		return err
	}
	if err := l.w.curve.apply(s); err != nil {
		return errors.Join(err, s.Close())
	}
	if err := s.Connect(l.w.endpoint); err != nil {
		return errors.Join(fmt.Errorf("zmq: connect %s: %w", l.w.endpoint, err), s.Close())
	}
	l.dealer = s
	if l.conc == nil {
		return nil
	}
	if l.waiter == nil {
		wt, err := newSockWaiter(l.zctx, s)
		if err != nil {
			return err
		}
		l.waiter = wt
		return nil
	}
	return l.waiter.replace(s)
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
	if l.waiter != nil {
		if err := l.waiter.close(); err != nil {
			errs = append(errs, err)
		}
	}
	if err := l.zctx.Term(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: terminate context: %w", err))
	}
	return errors.Join(errs...)
}

// logErr logs, at Warn, an error the worker recovers from.
func (l *workerLoop) logErr(msg string, err error) {
	if l.w.log != nil {
		l.w.log.Warn(msg, slog.String("service", l.w.cfg.Service), slog.String("err", err.Error()))
	}
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
