//go:build linux && !ebwrk_zmqpoll

package zmq

import (
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"
)

// sockWaiter blocks a loop's goroutine until its socket may have input, its deadline
// passes or another goroutine kicks it, in one of two ways, chosen at each wait:
//
//   - Parked (wait(d, false)): the goroutine parks in the Go runtime's network
//     poller, not in a system call of its own, and its thread runs other goroutines
//     meanwhile (a handler, a caller). A hand-off between the loop and another
//     goroutine of the process then costs no thread wake-up, and a kick is a few
//     atomic operations and a timer change (no system call) that readies the parked
//     goroutine. For loops that other goroutines feed all the time: a Worker with
//     Concurrency, a Client with many callers.
//   - Blocking (wait(d, true)): the thread blocks in poll(2) on ZMQ_FD and an eventfd
//     that a kick writes. For a loop that is alone (a Client with one caller, a
//     Worker with no handler running): the thread that wakes is the one that goes
//     on, with no scheduling in between, which keeps a lone round trip at its
//     fastest (BenchmarkRoundTrip), and the process never looks idle to the Go
//     runtime, whose monitor thread then backs off.
//
// The poller watches an epoll instance of the waiter's own, which holds the socket's
// ZMQ_FD (an eventfd libzmq writes when commands reach the socket) for EPOLLIN alone:
// the runtime would register ZMQ_FD itself for writability too, and libzmq's every
// read of it would then wake the runtime's poller for nothing.
//
// ZMQ_FD is edge-like: libzmq consumes its signal in any call that processes commands
// (a receive, now and then a send, ZMQ_EVENTS). A parked wait therefore asks
// ZMQ_EVENTS first, after the poller's readiness is reset: input already there ends
// the wait at once, and a signal consumed by that call or earlier is not waited for.
// A blocking wait does not ask: its caller must have received until EAGAIN with no
// send since.
type sockWaiter struct {
	ep     *os.File                    // the epoll instance, in the runtime's poller
	rc     syscall.RawConn             // of ep
	sock   atomic.Pointer[zmq4.Socket] // the socket watched; the loop's
	sockFd int                         // its ZMQ_FD, registered in ep
	kfd    int                         // the eventfd a kick writes while blocking is set
	fds    [2]unix.PollFd              // the blocking wait's: ZMQ_FD and the eventfd

	kicked   atomic.Bool // a kick the loop has not woken for yet
	blocking atomic.Bool // the loop waits, or is about to, in poll(2)

	mu     sync.RWMutex // a kick's eventfd write holds it to read, close to write
	closed bool         // the eventfd is closed: its number may be reused
}

// sockWaitEvents is the epoll registration of a socket's ZMQ_FD: input alone, level
// triggered (the waiter's own check of ZMQ_EVENTS is what decides).
const sockWaitEvents = unix.EPOLLIN

// newSockWaiter returns a waiter on s. zctx is not needed here.
func newSockWaiter(_ *zmq4.Context, s *zmq4.Socket) (*sockWaiter, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("zmq: epoll_create1: %w", err)
	}
	// A non-blocking descriptor is one os.NewFile hands to the runtime's poller.
	if err := unix.SetNonblock(epfd, true); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: waiter set non-blocking: %w", err), unix.Close(epfd))
	}
	ep := os.NewFile(uintptr(epfd), "ebwrk-sockwaiter")
	// SetReadDeadline fails on a descriptor the poller did not take.
	if err := ep.SetReadDeadline(time.Time{}); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: waiter not pollable: %w", err), ep.Close())
	}
	rc, err := ep.SyscallConn()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: waiter: %w", err), ep.Close())
	}
	kfd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: eventfd: %w", err), ep.Close())
	}
	w := &sockWaiter{ep: ep, rc: rc, sockFd: -1, kfd: kfd}
	w.fds[1] = unix.PollFd{Fd: int32(kfd), Events: unix.POLLIN}
	if err := w.replace(s); err != nil {
		return nil, errors.Join(err, w.close())
	}
	return w, nil
}

// replace watches s instead of the socket before (a new connection); only the loop
// calls it.
func (w *sockWaiter) replace(s *zmq4.Socket) error {
	fd, err := s.GetFd()
	if err != nil {
		return fmt.Errorf("zmq: get ZMQ_FD: %w", err)
	}
	err = w.control(func(epfd int) error {
		if w.sockFd >= 0 {
			// The old socket's descriptor may be gone already (libzmq closes it when
			// it reaps the socket, and epoll then forgets it) or its number reused:
			// either way there is nothing of ours to remove.
			_ = unix.EpollCtl(epfd, unix.EPOLL_CTL_DEL, w.sockFd, nil)
		}
		ev := unix.EpollEvent{Events: sockWaitEvents, Fd: int32(fd)}
		err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, fd, &ev)
		if errors.Is(err, unix.EEXIST) {
			err = unix.EpollCtl(epfd, unix.EPOLL_CTL_MOD, fd, &ev)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("zmq: waiter epoll_ctl: %w", err)
	}
	w.sockFd = fd
	w.fds[0] = unix.PollFd{Fd: int32(fd), Events: unix.POLLIN}
	w.sock.Store(s)
	return nil
}

// control runs f on the epoll descriptor.
func (w *sockWaiter) control(f func(epfd int) error) error {
	var ferr error
	if err := w.rc.Control(func(fd uintptr) { ferr = f(int(fd)) }); err != nil {
		return err
	}
	return ferr
}

// wait blocks until the socket may have input, the deadline (the zero time: none) or
// a kick, whichever comes first, parked or blocking its thread (see the type's doc);
// the caller receives after. Only the loop calls it.
func (w *sockWaiter) wait(deadline time.Time, block bool) error {
	var err error
	if block {
		err = w.block(deadline)
	} else {
		err = w.park(deadline)
	}
	// Whatever kicked the loop before now, the loop looks at after this.
	w.kicked.Store(false)
	return err
}

// park waits in the runtime's poller.
func (w *sockWaiter) park(deadline time.Time) error {
	// A kick that comes from here on either finds the deadline it sets in the past
	// or is seen by the check below.
	if err := w.ep.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("zmq: waiter set deadline: %w", err)
	}
	s := w.sock.Load()
	first := true
	err := w.rc.Read(func(uintptr) bool {
		// Called once the poller's readiness is reset, and again at each wake-up.
		if !first || w.kicked.Load() {
			return true
		}
		first = false
		// An error (EINTR, a broken socket) ends the wait: the receive after it
		// tells.
		ev, err := s.GetEvents()
		return err != nil || ev&zmq4.POLLIN != 0
	})
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("zmq: wait: %w", err)
	}
	return nil
}

// block waits in poll(2).
func (w *sockWaiter) block(deadline time.Time) error {
	// A kick that comes from here on either sees blocking and writes the eventfd,
	// or is seen by the check below.
	w.blocking.Store(true)
	defer w.blocking.Store(false)
	if w.kicked.Load() {
		return nil
	}
	ms := -1
	if !deadline.IsZero() {
		ms = int(pollTimeout(deadline, time.Now(), -1) / time.Millisecond)
	}
	w.fds[0].Revents, w.fds[1].Revents = 0, 0
	// EINTR: a signal ended the wait early; the caller receives, then waits again
	// with its timeout recomputed.
	if _, err := unix.Poll(w.fds[:], ms); err != nil && !errors.Is(err, unix.EINTR) {
		return fmt.Errorf("zmq: poll: %w", err)
	}
	if w.fds[1].Revents != 0 {
		var buf [8]byte
		// EINTR: read again (a non-blocking read is not interrupted on Linux, but
		// nothing promises it). EAGAIN: nothing else can fail here.
		for {
			if _, err := unix.Read(w.kfd, buf[:]); !errors.Is(err, unix.EINTR) {
				break
			}
		}
	}
	return nil
}

// kick ends the current or next wait. It never blocks and is safe for concurrent use,
// also with close and after it.
func (w *sockWaiter) kick() {
	if w.kicked.Swap(true) {
		return // a kick the loop has not woken for yet stands for this one
	}
	if w.blocking.Load() {
		w.writeKick()
		return
	}
	// A deadline in the past ends the parked wait in progress. An error means the
	// waiter is closed: nobody waits any more.
	_ = w.ep.SetReadDeadline(aLongTimeAgo)
}

// writeKick makes the eventfd readable, unless the waiter is closed.
func (w *sockWaiter) writeKick() {
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

// aLongTimeAgo is a deadline that has always passed.
var aLongTimeAgo = time.Unix(1, 0)

// close releases the epoll instance and the eventfd; the socket is the caller's.
func (w *sockWaiter) close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closed = true
	var errs []error
	if err := w.ep.Close(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: close waiter: %w", err))
	}
	// EINTR is not retried: Linux releases the descriptor even then.
	if err := unix.Close(w.kfd); err != nil && !errors.Is(err, unix.EINTR) {
		errs = append(errs, fmt.Errorf("zmq: close waiter: %w", err))
	}
	return errors.Join(errs...)
}
