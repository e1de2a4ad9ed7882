package zmq

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// concurrent is the state of a Worker whose Concurrency is above 1. The loop keeps
// the socket and the core to itself and never runs a handler: each request the core
// delivers gets a goroutine of its own, which hands its reply back through done and
// kicks the loop's waiter. The core holds at most Concurrency requests (its credit),
// so at most that many handlers run. There is no keeper: the loop never blocks in a
// handler, so it heartbeats itself.
type concurrent struct {
	mu   sync.Mutex // guards done
	done []handled  // replies the loop has not sent yet
	used []handled  // the loop's: what take returned last, reused by the next take

	wg sync.WaitGroup // the handlers running
	// The loop's alone: the handlers' context, one for all the requests of a
	// connection, since they are lost together (the connection is replaced, the
	// broker lost, the worker stops); it is made at the first request.
	ctx    context.Context
	cancel context.CancelFunc
	gen    uint64 // bumped when the connection's requests are lost
	sends  uint64 // sends tried on the socket (ZMQ_FD, see sockWaiter)
	busy   int    // handlers started whose reply the loop has not taken yet
}

// handled is the reply of one handler.
type handled struct {
	gen  uint64 // the generation the request came in
	n    uint64 // the core's number for it (core.Output.Seq of its DeliverOutput)
	body [][]byte
}

func newConcurrent() *concurrent {
	return &concurrent{}
}

// start runs the handler of request n in a goroutine of its own. The body is copied:
// the frames of a DeliverOutput are the receive buffers, reused by the next receive.
func (c *concurrent) start(l *workerLoop, n uint64, body [][]byte) {
	if c.ctx == nil {
		c.ctx, c.cancel = context.WithCancel(l.ctx)
	}
	ctx, gen := c.ctx, c.gen
	body = copyFrames(body)
	c.busy++
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		rep := l.handler(ctx, body)
		c.mu.Lock()
		c.done = append(c.done, handled{gen: gen, n: n, body: rep})
		c.mu.Unlock()
		l.waiter.kick()
	}()
}

// endAll lets go of every request held: their connection is gone (the broker
// requeues them) or the worker stops. Their handlers see their ctx end, and their
// replies, when they come, are dropped.
func (c *concurrent) endAll() {
	if c.cancel != nil {
		c.cancel()
		c.ctx, c.cancel = nil, nil
	}
	c.gen++
}

// take returns the replies handed back since the last take, valid until the next.
func (c *concurrent) take() []handled {
	clear(c.used) // the bodies sent
	c.mu.Lock()
	c.done, c.used = c.used[:0], c.done
	c.mu.Unlock()
	c.busy -= len(c.used)
	return c.used
}

// runConcurrent is run for a Worker with Concurrency above 1: send the replies the
// handlers handed back, receive until the socket is empty, let time pass in the core,
// then wait on the socket, a handler's kick or the next deadline (at most
// maxIdleWait, so that a held reply is tried again that often). Socket errors are
// dealt with as run deals with them.
func (l *workerLoop) runConcurrent() error {
	now := time.Now()
	l.core.Start(now)
	err := l.flush(now)
	if err == nil && l.waiter != nil {
		stop := context.AfterFunc(l.ctx, l.waiter.kick)
		defer stop()
	}
	for l.ctx.Err() == nil {
		if err != nil {
			if l.failures++; l.failures >= maxFailures {
				return fmt.Errorf("%w (%d socket errors in a row)", err, l.failures)
			}
			err = l.restart(err)
			continue
		}
		err = l.stepConcurrent()
	}
	return nil
}

// stepConcurrent is one round of runConcurrent.
func (l *workerLoop) stepConcurrent() error {
	c := l.conc
	now := time.Now()
	for _, r := range c.take() {
		if r.gen != c.gen {
			continue // its request went with an old connection
		}
		body := r.body
		if len(body) == 0 {
			body = emptyBody
		}
		l.core.ReplyTo(now, r.n, body)
		if err := l.flush(now); err != nil {
			return err
		}
	}
	if err := l.sendHeld(); err != nil {
		return err
	}
	drained, err := l.recvAll(now)
	if err != nil {
		return err
	}
	sends := c.sends
	if err := l.advance(now); err != nil {
		return err
	}
	if !drained || c.sends != sends {
		// More to read, or a send since the receive that found the socket empty:
		// ZMQ_FD may have been consumed, so receive again before waiting.
		return nil
	}
	// With handlers running, the loop parks, so that they run on its thread and
	// hand their replies back with no thread wake-up. With none, it blocks its
	// thread: the next request wakes that thread directly, and the Go runtime's
	// monitor (sysmon) backs off, where a parked wait lets the process go idle and
	// the first cgo call after wakes the monitor to a 20 µs rhythm again.
	return l.waiter.wait(earliest(l.core.NextDeadline(), now.Add(maxIdleWait)), c.busy == 0)
}

// recvAll gives the core the messages waiting on the connection, up to readBatch;
// drained says it stopped because the socket had no more (EAGAIN).
func (l *workerLoop) recvAll(now time.Time) (drained bool, err error) {
	for range readBatch {
		// EINTR: recv retries it (non-blocking). EAGAIN: nothing more.
		frames, err := l.scratch.recv(l.dealer, false)
		if err != nil {
			if isAgain(err) {
				return true, nil
			}
			return false, fmt.Errorf("zmq: worker receive: %w", err)
		}
		l.failures = 0
		l.core.Receive(now, frames)
		if err := l.flush(now); err != nil {
			return false, err
		}
	}
	return false, nil
}

// earliest returns the earlier of a and b; the zero time counts as never.
func earliest(a, b time.Time) time.Time {
	if a.IsZero() || b.Before(a) {
		return b
	}
	return a
}
