//go:build linux && !ebwrk_zmqpoll

package zmq

import (
	"errors"
	"fmt"
	"sync"
	"time"

	zmq4 "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"
)

// sockWaiter blocks a loop until one of its sockets may have input, its deadline
// passes or another goroutine kicks it. This one blocks in poll(2) on the ZMQ_FD of
// each socket (a descriptor ZeroMQ signals when the socket's state may have changed)
// and on an eventfd that kick writes: one system call per wait, and a kick is one
// write, never lost (the eventfd stays readable until the next wait reads it).
//
// ZMQ_FD is edge-like: it is signalled when commands reach the socket, and ZeroMQ
// consumes the signal in any call that processes commands (a receive that finds
// nothing, and now and then a send). So before wait, the loop must have received
// on every socket until EAGAIN, with no send on that socket since.
type sockWaiter struct {
	fds []unix.PollFd // the eventfd, then the sockets' ZMQ_FDs
	kfd int           // the eventfd

	mu     sync.RWMutex // kick holds it to read, close to write
	closed bool         // the eventfd is closed: its number may be reused
}

// newSockWaiter returns a waiter on socks. zctx is not needed here.
func newSockWaiter(_ *zmq4.Context, socks ...*zmq4.Socket) (*sockWaiter, error) {
	kfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("zmq: eventfd: %w", err)
	}
	w := &sockWaiter{kfd: kfd, fds: []unix.PollFd{{Fd: int32(kfd), Events: unix.POLLIN}}}
	for i, s := range socks {
		w.fds = append(w.fds, unix.PollFd{Events: unix.POLLIN})
		if err := w.replace(i, s); err != nil {
			return nil, errors.Join(err, w.close())
		}
	}
	return w, nil
}

// replace watches s instead of the i-th socket (a new connection).
func (w *sockWaiter) replace(i int, s *zmq4.Socket) error {
	fd, err := s.GetFd()
	if err != nil {
		return fmt.Errorf("zmq: get ZMQ_FD: %w", err)
	}
	w.fds[i+1].Fd = int32(fd)
	return nil
}

// wait blocks until a socket may have input, the deadline (the zero time: none) or
// a kick, whichever comes first; a signal may end it early too. The caller must have
// received on every socket until EAGAIN (see the type's doc), and receives after.
func (w *sockWaiter) wait(deadline time.Time) error {
	ms := -1
	if !deadline.IsZero() {
		ms = int(pollTimeout(deadline, time.Now(), -1) / time.Millisecond)
	}
	for i := range w.fds {
		w.fds[i].Revents = 0
	}
	// EINTR: a signal ended the wait early; the caller receives, then waits again
	// with its timeout recomputed.
	if _, err := unix.Poll(w.fds, ms); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("zmq: poll: %w", err)
	}
	if w.fds[0].Revents != 0 {
		var buf [8]byte
		// EINTR: read again (a non-blocking read is not interrupted on Linux, but
		// nothing promises it). EAGAIN: another wait read it first; nothing else can
		// fail here.
		for {
			if _, err := unix.Read(w.kfd, buf[:]); !errors.Is(err, unix.EINTR) {
				break
			}
		}
	}
	return nil
}

// kick ends the current or next wait; it is safe for concurrent use, also with close
// and after it.
func (w *sockWaiter) kick() {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		return
	}
	one := [8]byte{1}
	// EINTR: write again, or the kick would be lost. EAGAIN: the counter is full, a
	// kick is pending anyway.
	for {
		if _, err := unix.Write(w.kfd, one[:]); !errors.Is(err, unix.EINTR) {
			break
		}
	}
}

// close releases the eventfd; the sockets are the caller's.
func (w *sockWaiter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	// EINTR is not retried: Linux releases the descriptor even then.
	if err := unix.Close(w.kfd); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("zmq: close waiter: %w", err)
	}
	return nil
}
