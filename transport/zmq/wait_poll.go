//go:build !linux || ebwrk_zmqpoll

package zmq

import (
	"fmt"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// sockWaiter blocks a loop until its socket may have input, its deadline
// passes or another goroutine kicks it. This one, for systems without epoll (and for
// tests with the build tag ebwrk_zmqpoll), waits in zmq poll, with a waker in the poll
// set for kicks.
type sockWaiter struct {
	poller *zmq4.Poller
	wake   *waker
}

// newSockWaiter returns a waiter on s; its waker lives in zctx.
func newSockWaiter(zctx *zmq4.Context, s *zmq4.Socket) (*sockWaiter, error) {
	wake, err := newWaker(zctx)
	if err != nil {
		return nil, err
	}
	w := &sockWaiter{wake: wake}
	return w, w.replace(s)
}

// replace watches s instead of the socket before (a new connection).
func (w *sockWaiter) replace(s *zmq4.Socket) error {
	w.poller = zmq4.NewPoller()
	w.poller.Add(s, zmq4.POLLIN)
	w.poller.Add(w.wake.recv, zmq4.POLLIN)
	return nil
}

// wait polls until the socket has input, the deadline (the zero time: none) or a
// kick; the caller receives after. The second argument is the Linux waiter's choice
// (wait_netpoll.go); this one always blocks its thread.
func (w *sockWaiter) wait(deadline time.Time, _ bool) error {
	// EINTR: zmq4 retries the poll itself (newContext), with the whole timeout
	// again, so a signal storm can make this wait outlast the deadline; the default
	// waiter on Linux (wait_netpoll.go) recomputes it.
	polled, err := w.poller.Poll(pollTimeout(deadline, time.Now(), -1))
	if err != nil && !isInterrupted(err) {
		return fmt.Errorf("zmq: poll: %w", err)
	}
	for _, p := range polled {
		if p.Socket == w.wake.recv {
			w.wake.clear()
		}
	}
	return nil
}

// kick ends the current or next wait; it is safe for concurrent use.
func (w *sockWaiter) kick() { w.wake.Wake() }

// close stops the waker; the sockets are the caller's.
func (w *sockWaiter) close() error { return w.wake.close() }
