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

// recvScratch collects the frames of one message before they are copied to a slice of
// the exact length, so that what a state machine keeps holds no spare capacity.
type recvScratch struct{ frames [][]byte }

// recv receives one whole message; EAGAIN (see isAgain) means there is none. With
// wait it waits for one as long as the socket's RCVTIMEO says. The returned slice and
// frames are new and owned by the caller.
func (r *recvScratch) recv(s *zmq4.Socket, wait bool) ([][]byte, error) {
	if err := r.read(s, wait); err != nil {
		return nil, err
	}
	return r.take(0), nil
}

// recvRouted is recv at a ROUTER: it returns the identity frame apart from the rest.
func (r *recvScratch) recvRouted(s *zmq4.Socket, wait bool) ([]byte, [][]byte, error) {
	if err := r.read(s, wait); err != nil {
		return nil, nil, err
	}
	// A ROUTER always prefixes the identity, so there is at least one frame.
	return r.frames[0], r.take(1), nil
}

// read receives the frames of one message into r.frames.
func (r *recvScratch) read(s *zmq4.Socket, wait bool) error {
	clear(r.frames)
	r.frames = r.frames[:0]
	flags := zmq4.DONTWAIT
	if wait {
		flags = 0
	}
	for {
		f, err := s.RecvBytes(flags)
		if err != nil {
			return err
		}
		r.frames = append(r.frames, f)
		more, err := s.GetRcvmore()
		if err != nil {
			return err
		}
		if !more {
			return nil
		}
		// The rest of a message arrives with its first frame: no frame waits.
		flags = zmq4.DONTWAIT
	}
}

// take copies r.frames[from:] to a new slice of the exact length.
func (r *recvScratch) take(from int) [][]byte {
	out := make([][]byte, len(r.frames)-from)
	copy(out, r.frames[from:])
	return out
}

// send sends frames as one message without blocking.
func send(s *zmq4.Socket, frames [][]byte) error { return sendParts(s, nil, false, frames) }

// sendRouted sends frames as one message to the peer id of a ROUTER, without
// blocking. With ROUTER_MANDATORY the error of an undeliverable message comes from the
// identity frame, before anything is queued: EHOSTUNREACH when the peer is gone,
// EAGAIN when its queue is at the high-water mark.
func sendRouted(s *zmq4.Socket, id []byte, frames [][]byte) error {
	return sendParts(s, id, true, frames)
}

// sendParts sends the identity frame when routed, then frames. Only the first part
// can meet the high-water mark: ZeroMQ admits or refuses a message as a whole.
func sendParts(s *zmq4.Socket, id []byte, routed bool, frames [][]byte) error {
	last := len(frames) - 1
	if routed {
		flags := zmq4.DONTWAIT
		if last >= 0 {
			flags |= zmq4.SNDMORE
		}
		if _, err := s.SendBytes(id, flags); err != nil {
			return err
		}
	}
	for i, f := range frames {
		flags := zmq4.DONTWAIT
		if i < last {
			flags |= zmq4.SNDMORE
		}
		if _, err := s.SendBytes(f, flags); err != nil {
			return err
		}
	}
	return nil
}

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
