package zmq

import (
	"context"
	"errors"
	"fmt"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// clientLoop is the state of a Client's loop, used by the leader alone; it passes
// from leader to leader under Client.mu and the lead channel.
type clientLoop struct {
	c       *Client
	core    *core.Client
	dealer  *zmq4.Socket
	calls   map[uint64]*call // outstanding requests by sequence number
	taken   []*call          // the batch taken from Client.pending, reused
	scratch recvScratch
	out     sendScratch
	clean   bool  // the connection answered EAGAIN with no send since (see sockWaiter)
	closed  bool  // take found the client closed
	closing error // the error requests fail with once closed: ErrClosed or an *EndedError

	failures int // socket errors since a message was last received
}

// maxFailures is how many socket errors in a row, with no message received between
// them, end a Client (or a Worker): reconnecting did not help.
const maxFailures = 3

func newClientLoop(c *Client, dealer *zmq4.Socket) *clientLoop {
	return &clientLoop{c: c, core: core.NewClient(c.cfg), dealer: dealer, calls: make(map[uint64]*call)}
}

// run drives core.Client on the leader's goroutine: take the requests handed in,
// advance the core at its deadline, receive until EAGAIN, wait for input, a kick or
// the next deadline; until the outcome of me is sent, ctx ends or the client is
// closed (closed is then set).
func (l *clientLoop) run(ctx context.Context, me *call) error {
	for {
		if err := l.take(time.Now()); err != nil || l.closed {
			return err
		}
		if me.ended || ctx.Err() != nil {
			return nil
		}
		if d := l.core.NextDeadline(); !d.IsZero() {
			if now := time.Now(); !now.Before(d) {
				l.core.Advance(now)
				if err := l.flush(now); err != nil {
					return err
				}
			}
		}
		if err := l.drain(me); err != nil || me.ended {
			return err
		}
		if !l.clean {
			continue // a batch ended before EAGAIN: look at new requests first
		}
		// A lone caller blocks its thread; with others, the loop parks, so that
		// handing requests and outcomes between callers costs no thread wake-up.
		if err := l.c.waiter.wait(l.core.NextDeadline(), len(l.calls) <= 1); err != nil {
			return err
		}
		l.clean = false
	}
}

// take gives the requests handed in to the core and answers the queries; when the
// client is closed, it fails the requests with ErrClosed and sets closed.
func (l *clientLoop) take(now time.Time) error {
	c := l.c
	c.mu.Lock()
	l.taken, c.pending = c.pending, l.taken[:0]
	l.closed = c.closed
	if l.closed {
		l.closing = c.closedErr()
	}
	c.mu.Unlock()
	for i, k := range l.taken {
		l.taken[i] = nil
		switch {
		case k.query != nil:
			k.query(l.core)
			l.finish(k, result{})
		case l.closed:
			l.finish(k, result{err: l.closing})
		default:
			l.calls[l.core.Request(now, k.service, k.body)] = k
		}
	}
	if l.closed {
		return nil
	}
	return l.flush(now)
}

// drain gives the core up to readBatch messages waiting on the connection, and stops
// early when the outcome of me is sent. The connection is clean once it answers
// EAGAIN.
func (l *clientLoop) drain(me *call) error {
	for range readBatch {
		if l.clean || me.ended {
			return nil
		}
		// EINTR: recv retries it (non-blocking).
		frames, err := l.scratch.recv(l.dealer, false)
		if err != nil {
			if isAgain(err) {
				l.clean = true
				return nil
			}
			return fmt.Errorf("zmq: client receive: %w", err)
		}
		l.failures = 0
		now := time.Now()
		l.core.Receive(now, frames)
		if err := l.flush(now); err != nil {
			return err
		}
	}
	return nil
}

// flush carries out the core's outputs in order.
func (l *clientLoop) flush(now time.Time) error {
	for {
		outs := l.core.Drain()
		if len(outs) == 0 {
			return nil
		}
		for i := range outs {
			o := &outs[i]
			switch o.Kind {
			case core.SendOutput:
				l.clean = false
				// EINTR: send retries it. EAGAIN: the connection is at its high-water
				// mark; the request recovers by its retry or times out.
				if err := l.out.send(l.dealer, o.Frames); err != nil {
					if !isAgain(err) {
						return fmt.Errorf("zmq: client send: %w", err)
					}
					l.c.unsent.Add(1)
				}
			case core.ConnectOutput:
				if err := l.reconnect(); err != nil {
					return err
				}
			case core.DeliverOutput:
				// Body aliases frames received into new memory, now the caller's.
				l.end(o.Seq, result{body: o.Body})
			case core.FailOutput:
				l.end(o.Seq, result{err: &RequestError{Service: o.Service, Seq: o.Seq, Reason: o.Reason, Attempts: o.Attempts}})
			}
		}
	}
}

// end sends the outcome of the request seq to its caller.
func (l *clientLoop) end(seq uint64, r result) {
	if k := l.calls[seq]; k != nil {
		delete(l.calls, seq)
		l.finish(k, r)
	}
}

// finish sends the outcome of k to its caller.
func (l *clientLoop) finish(k *call, r result) {
	k.ended = true
	k.result <- r
}

// reconnect replaces the connection with a new socket (core's ConnectOutput, or
// after a socket error). The old socket's close error, if any, is logged: the new
// connection goes on all the same.
func (l *clientLoop) reconnect() error {
	if l.dealer != nil {
		if err := l.dealer.Close(); err != nil {
			l.c.warn("client close", fmt.Errorf("zmq: client close: %w", err))
		}
		l.dealer = nil
	}
	s, err := l.c.connect()
	if err != nil {
		return err
	}
	l.dealer = s
	l.clean = false
	return l.c.waiter.replace(s)
}

// recoverFrom replaces the connection after the loop failed with err, a socket error
// (EINTR and EAGAIN never come here: they are handled where they happen). The
// requests outstanding stay: their replies, sent to the old connection, are lost, so
// they recover by their retries on the new one, or time out. recoverFrom returns the
// error that ends the client: err, when maxFailures came in a row with no message
// received between them, or the error of reconnecting.
func (l *clientLoop) recoverFrom(err error) error {
	l.failures++
	if l.failures >= maxFailures {
		return fmt.Errorf("%w (%d socket errors in a row)", err, l.failures)
	}
	l.c.warn("client reconnects after a socket error", err)
	if rerr := l.reconnect(); rerr != nil {
		return errors.Join(err, rerr)
	}
	return nil
}

// close fails what is outstanding with ErrClosed (or the *EndedError that says why)
// and releases the sockets; the client is marked closed already.
func (l *clientLoop) close() error {
	c := l.c
	// Closed, take only answers the last queries and fails the last requests.
	err := l.take(time.Now())
	c.final = l.core.Stats()
	for seq, k := range l.calls {
		delete(l.calls, seq)
		l.finish(k, result{err: l.closing})
	}
	errs := []error{err}
	if l.dealer != nil {
		if err := l.dealer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("zmq: client close: %w", err))
		}
	}
	errs = append(errs, c.waiter.close())
	if err := c.zctx.Term(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: terminate context: %w", err))
	}
	return errors.Join(errs...)
}
