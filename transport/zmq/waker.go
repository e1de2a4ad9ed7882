//go:build !linux || ebwrk_zmqpoll

package zmq

import (
	"errors"
	"fmt"
	"sync/atomic"

	zmq4 "github.com/pebbe/zmq4"
)

// wakerSeq numbers the inproc endpoints of wakers, which must be unique per context.
var wakerSeq atomic.Uint64

// waker lets any goroutine wake a loop blocked in zmq poll, which cannot wait on Go
// channels. The loop polls the receiving end of an inproc PAIR; the sending end
// belongs to the waker's own goroutine (one goroutine per socket), which turns each
// Wake into one byte. Wakes coalesce: at most one is pending on the channel.
type waker struct {
	recv *zmq4.Socket // polled and drained by the loop that owns it
	kick chan struct{}
	quit chan struct{}
	done chan struct{}
	err  error // the sending end's close error; read after done
}

// newWaker opens the socket pair in zctx and starts the sending goroutine.
func newWaker(zctx *zmq4.Context) (*waker, error) {
	ep := fmt.Sprintf("inproc://ebwrk-wake-%d", wakerSeq.Add(1))
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
	w := &waker{recv: recv, kick: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go w.run(snd)
	return w, nil
}

// run owns the sending end: one byte per kick until quit.
func (w *waker) run(snd *zmq4.Socket) {
	defer close(w.done)
	for {
		select {
		case <-w.kick:
			if _, err := snd.SendBytes([]byte{1}, zmq4.DONTWAIT); err != nil {
				w.err = fmt.Errorf("zmq: wake: %w", err)
			}
		case <-w.quit:
			if err := snd.Close(); err != nil {
				w.err = errors.Join(w.err, fmt.Errorf("zmq: close waker: %w", err))
			}
			return
		}
	}
}

// Wake makes the loop's next or current poll return. It never blocks and is safe for
// concurrent use.
func (w *waker) Wake() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// clear consumes the wake bytes received so far; only the loop calls it.
func (w *waker) clear() {
	for {
		if _, err := w.recv.RecvBytes(zmq4.DONTWAIT); err != nil {
			return
		}
	}
}

// close stops the sending goroutine and closes both ends; only the loop calls it.
func (w *waker) close() error {
	close(w.quit)
	<-w.done
	err := w.err
	if cerr := w.recv.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("zmq: close waker: %w", cerr))
	}
	return err
}
