//go:build linux && !ebwrk_zmqpoll

package zmq

import (
	"errors"
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// sockWaiter blocks a loop until one of its sockets may have input, its deadline
// passes or another goroutine kicks it. This one waits in Go's netpoller: the ZMQ_FD
// of each socket (a descriptor ZeroMQ signals when the socket's state may have
// changed) goes into an epoll set of its own, which the netpoller watches. Every wake
// then costs fewer system calls than a zmq poll (which checks every socket before and
// after it sleeps), and a kick is a deadline change, not a message.
//
// ZMQ_FD is edge-like: it is signalled when commands reach the socket, and ZeroMQ
// consumes the signal in any call that processes commands (a receive that finds
// nothing, and now and then a send). So before it sleeps, the loop's drain must have
// received on every socket until EAGAIN, with no send on that socket since; wait
// calls drain after the netpoller's readiness is reset, so no signal falls between.
type sockWaiter struct {
	socks  []*zmq4.Socket
	fds    []int // our duplicates of the sockets' ZMQ_FDs
	ep     int   // the epoll set of fds
	file   *os.File
	rc     syscall.RawConn
	kicked atomic.Bool
}

// newSockWaiter returns a waiter on socks. zctx is not needed here.
func newSockWaiter(_ *zmq4.Context, socks ...*zmq4.Socket) (*sockWaiter, error) {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("zmq: epoll: %w", err)
	}
	w := &sockWaiter{ep: ep}
	for _, s := range socks {
		if err := w.add(s); err != nil {
			return nil, errors.Join(err, w.close())
		}
	}
	if err := syscall.SetNonblock(ep, true); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: epoll: %w", err), w.close())
	}
	w.file = os.NewFile(uintptr(ep), "zmq-wait")
	if w.rc, err = w.file.SyscallConn(); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: epoll: %w", err), w.close())
	}
	return w, nil
}

// add watches the ZMQ_FD of s.
func (w *sockWaiter) add(s *zmq4.Socket) error {
	dup, err := w.watch(s)
	if err != nil {
		return err
	}
	w.socks = append(w.socks, s)
	w.fds = append(w.fds, dup)
	return nil
}

// watch adds a duplicate of the ZMQ_FD of s to the epoll set and returns it.
func (w *sockWaiter) watch(s *zmq4.Socket) (int, error) {
	fd, err := s.GetFd()
	if err != nil {
		return -1, fmt.Errorf("zmq: get ZMQ_FD: %w", err)
	}
	dup, err := syscall.Dup(fd)
	if err != nil {
		return -1, fmt.Errorf("zmq: dup ZMQ_FD: %w", err)
	}
	syscall.CloseOnExec(dup)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(dup)}
	if err := syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_ADD, dup, &ev); err != nil {
		return -1, errors.Join(fmt.Errorf("zmq: epoll add: %w", err), syscall.Close(dup))
	}
	return dup, nil
}

// replace watches s instead of the i-th socket (a new connection).
func (w *sockWaiter) replace(i int, s *zmq4.Socket) error {
	old := w.fds[i]
	w.fds[i] = -1
	if err := errors.Join(syscall.EpollCtl(w.ep, syscall.EPOLL_CTL_DEL, old, nil), syscall.Close(old)); err != nil {
		return fmt.Errorf("zmq: epoll remove: %w", err)
	}
	dup, err := w.watch(s)
	if err != nil {
		return err
	}
	w.socks[i], w.fds[i] = s, dup
	return nil
}

// wait calls drain, and again each time a socket is signalled, until the deadline
// (the zero time: none) or a kick; it returns drain's error if drain fails. drain
// must receive on every socket until EAGAIN (see the type's doc).
func (w *sockWaiter) wait(deadline time.Time, drain func() error) error {
	if err := w.file.SetReadDeadline(deadline); err != nil {
		return fmt.Errorf("zmq: wait: %w", err)
	}
	// A kick that came before the deadline was set would be lost in it. Drain even
	// so: a stream of kicks must not keep the loop from its sockets.
	if w.kicked.Swap(false) {
		return drain()
	}
	var derr error
	err := w.rc.Read(func(uintptr) bool {
		derr = drain()
		return derr != nil
	})
	if derr != nil {
		return derr
	}
	if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
		return fmt.Errorf("zmq: wait: %w", err)
	}
	return nil
}

// kick ends the current or next wait; it is safe for concurrent use.
func (w *sockWaiter) kick() {
	w.kicked.Store(true)
	// An error means the file is closed: the loop is gone.
	_ = w.file.SetReadDeadline(time.Unix(1, 0))
}

// close releases the descriptors; the sockets are the caller's.
func (w *sockWaiter) close() error {
	var errs []error
	if w.file != nil {
		errs = append(errs, w.file.Close())
	} else {
		errs = append(errs, syscall.Close(w.ep))
	}
	for _, fd := range w.fds {
		if fd >= 0 {
			errs = append(errs, syscall.Close(fd))
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("zmq: close waiter: %w", err)
	}
	return nil
}
