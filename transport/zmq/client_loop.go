package zmq

import (
	"errors"
	"fmt"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// clientLoop is the state of the goroutine that owns a Client's socket.
type clientLoop struct {
	c       *Client
	core    *core.Client
	calls   map[uint64]*call // outstanding requests by sequence number
	taken   []*call          // the batch taken from c.pending, reused
	scratch recvScratch
	dirty   bool // a send since the last EAGAIN (see sockWaiter)
}

// loop drives core.Client: take new requests, wait for replies, a kick or the next
// deadline, carry out the outputs.
func (c *Client) loop() {
	l := &clientLoop{c: c, core: core.NewClient(c.cfg), calls: make(map[uint64]*call)}
	err := l.run()
	c.err = errors.Join(err, l.close())
	close(c.done)
}

func (l *clientLoop) run() error {
	for {
		if closed, err := l.take(time.Now()); closed || err != nil {
			return err
		}
		if err := l.c.waiter.wait(l.core.NextDeadline(), l.drain); err != nil {
			return err
		}
		if d := l.core.NextDeadline(); !d.IsZero() {
			if now := time.Now(); !now.Before(d) {
				l.core.Advance(now)
				if err := l.flush(now); err != nil {
					return err
				}
			}
		}
	}
}

// drain receives until the connection answers EAGAIN with no send since.
func (l *clientLoop) drain() error {
	l.dirty = true
	for l.dirty {
		if err := l.readAll(); err != nil {
			return err
		}
	}
	return nil
}

// take gives the waiting requests to the core and runs the waiting queries; it
// reports whether the client is closed.
func (l *clientLoop) take(now time.Time) (bool, error) {
	c := l.c
	c.mu.Lock()
	l.taken, c.pending = c.pending, l.taken[:0]
	closed := c.closed
	c.mu.Unlock()
	for i, k := range l.taken {
		l.taken[i] = nil
		if k.query != nil {
			k.query(l.core)
			k.result <- result{}
			continue
		}
		if closed {
			k.result <- result{err: ErrClosed}
			continue
		}
		l.calls[l.core.Request(now, k.service, k.body)] = k
	}
	if closed {
		return true, nil
	}
	return false, l.flush(now)
}

// readAll gives the core up to readBatch messages waiting on the connection.
func (l *clientLoop) readAll() error {
	for range readBatch {
		frames, err := l.scratch.recv(l.c.dealer, false)
		if err != nil {
			if isAgain(err) {
				l.dirty = false
				return nil
			}
			if isInterrupted(err) {
				return nil
			}
			return fmt.Errorf("zmq: client receive: %w", err)
		}
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
				l.dirty = true
				if err := send(l.c.dealer, o.Frames); err != nil {
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
				l.finish(o.Seq, result{body: o.Body})
			case core.FailOutput:
				l.finish(o.Seq, result{err: &RequestError{Service: o.Service, Seq: o.Seq, Reason: o.Reason, Attempts: o.Attempts}})
			}
		}
	}
}

func (l *clientLoop) finish(seq uint64, r result) {
	if k := l.calls[seq]; k != nil {
		delete(l.calls, seq)
		k.result <- r
	}
}

// reconnect replaces the connection with a new socket (core's ConnectOutput).
func (l *clientLoop) reconnect() error {
	c := l.c
	if err := c.dealer.Close(); err != nil {
		return fmt.Errorf("zmq: client close: %w", err)
	}
	s, err := c.connect()
	if err != nil {
		c.dealer = nil
		return err
	}
	c.dealer = s
	l.dirty = true
	return c.waiter.replace(0, s)
}

// close fails what is outstanding with ErrClosed and releases the sockets.
func (l *clientLoop) close() error {
	c := l.c
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	// Closed, take only answers the last queries and fails the last requests.
	_, err := l.take(time.Now())
	c.final = l.core.Stats()
	for seq, k := range l.calls {
		delete(l.calls, seq)
		k.result <- result{err: ErrClosed}
	}
	errs := []error{err}
	if c.dealer != nil {
		if err := c.dealer.Close(); err != nil {
			errs = append(errs, fmt.Errorf("zmq: client close: %w", err))
		}
	}
	errs = append(errs, c.waiter.close())
	if err := c.zctx.Term(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: terminate context: %w", err))
	}
	return errors.Join(errs...)
}
