package zmq

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// defaultHWM is the high-water mark, in messages, of every socket this package opens
// when its options leave it at zero: ten times ZeroMQ's default, so that a pipelining
// client does not meet it in normal use.
const defaultHWM = 10000

// defaultLinger bounds how long closing sockets may wait to flush what was sent last
// (a broker's shutdown replies, a worker's DISCONNECT).
const defaultLinger = time.Second

// newContext opens a ZeroMQ context whose zmq4 calls retry EINTR themselves: every
// call this package makes through zmq4 (socket options aside, which libzmq never
// interrupts) is then restarted after a signal, as libzmq's own calls are not. zmq4
// turns this on for new contexts; it is set here so that the package never depends on
// that default. The hot path does not go through zmq4 (msg.go) and retries itself.
func newContext() (*zmq4.Context, error) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq: new context: %w", err)
	}
	zctx.SetRetryAfterEINTR(true)
	return zctx, nil
}

// newSocket opens a socket of type t in zctx with the given high-water mark (both
// directions) and linger.
func newSocket(zctx *zmq4.Context, t zmq4.Type, hwm int, linger time.Duration) (*zmq4.Socket, error) {
	s, err := zctx.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("zmq: new %v socket: %w", t, err)
	}
	for _, set := range []func() error{
		func() error { return s.SetSndhwm(hwm) },
		func() error { return s.SetRcvhwm(hwm) },
		func() error { return s.SetLinger(linger) },
	} {
		if err := set(); err != nil {
			closeErr := s.Close()
			return nil, errors.Join(fmt.Errorf("zmq: set %v socket option: %w", t, err), closeErr)
		}
	}
	return s, nil
}

// isAgain reports whether err is ZeroMQ's EAGAIN: nothing to receive right now, or no
// room to send without blocking.
func isAgain(err error) bool { return zmq4.AsErrno(err) == zmq4.Errno(syscall.EAGAIN) }

// isInterrupted reports whether err is EINTR: a signal interrupted the call.
func isInterrupted(err error) bool { return zmq4.AsErrno(err) == zmq4.Errno(syscall.EINTR) }

// isUnreachable reports whether err is EHOSTUNREACH: a ROUTER_MANDATORY socket has no
// peer of that identity, which is gone.
func isUnreachable(err error) bool { return zmq4.AsErrno(err) == zmq4.Errno(syscall.EHOSTUNREACH) }

// readBatch is how many messages the client's and the worker's loops take in a row
// before they look at their other work.
const readBatch = 64

// maxIdleWait caps the blocking receive of an idle Worker, which nothing else can
// wake, so that it notices the end of its context. A message ends the wait at once,
// so the cap adds no latency to it.
const maxIdleWait = 50 * time.Millisecond

// pollTimeout turns a deadline into a ZeroMQ timeout (poll, RCVTIMEO): the time
// left, at most max (negative: no cap; with the zero deadline, -1 means wait
// forever), rounded up to the millisecond ZeroMQ counts in, so the loop never wakes
// just before its deadline and spins.
func pollTimeout(deadline, now time.Time, max time.Duration) time.Duration {
	d := max
	if !deadline.IsZero() {
		d = deadline.Sub(now)
		if d <= 0 {
			return 0
		}
		if max >= 0 && d > max {
			d = max
		}
	}
	if d < 0 {
		return -1
	}
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}
