//go:build !linux || ebwrk_zmqpoll

package zmq

import (
	"errors"
	"fmt"

	zmq4 "github.com/pebbe/zmq4"
)

// waker lets any goroutine wake a loop blocked in zmq poll: the loop polls the
// receiving end of an inproc PAIR, whose sending end belongs to a kicker.
type waker struct {
	recv *zmq4.Socket // polled and drained by the loop that owns it
	send *kicker
}

// newWaker opens the socket pair in zctx and starts the kicker.
func newWaker(zctx *zmq4.Context) (*waker, error) {
	ep := inprocEndpoint("wake")
	// No high-water mark: a sender that has not yet processed the reader's progress
	// would see a full pipe (EAGAIN) that the reader has emptied, and a wake would be
	// lost. Wakes cannot pile up: the loop consumes them all at every poll.
	recv, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		return nil, err
	}
	if err := recv.Bind(ep); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: bind %s: %w", ep, err), recv.Close())
	}
	snd, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		return nil, errors.Join(err, recv.Close())
	}
	if err := snd.Connect(ep); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: connect %s: %w", ep, err), snd.Close(), recv.Close())
	}
	return &waker{recv: recv, send: startKicker(snd)}, nil
}

// Wake makes the loop's next or current poll return. It never blocks and is safe for
// concurrent use.
func (w *waker) Wake() { w.send.kick() }

// clear consumes the wake bytes received so far; only the loop calls it.
func (w *waker) clear() {
	for {
		// EINTR: zmq4 retries it (newContext). EAGAIN: none left.
		if _, err := w.recv.RecvBytes(zmq4.DONTWAIT); err != nil {
			return
		}
	}
}

// close stops the kicker and closes both ends; only the loop calls it.
func (w *waker) close() error {
	err := w.send.close()
	if cerr := w.recv.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("zmq: close waker: %w", cerr))
	}
	return err
}
