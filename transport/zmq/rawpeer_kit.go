package zmq

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// RawContext holds many raw sockets in one ZeroMQ context, for conformance kits
// that open hundreds of peers at once (a context per peer, as DialRaw makes, costs
// two threads each). Close it after every socket in it is closed.
type RawContext struct {
	zctx *zmq4.Context
}

// NewRawContext makes a context that may hold up to maxSockets sockets (at least
// ZeroMQ's default of 1023).
func NewRawContext(maxSockets int) (*RawContext, error) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq: new context: %w", err)
	}
	if maxSockets > 1023 {
		if err := zctx.SetMaxSockets(maxSockets); err != nil {
			return nil, errors.Join(fmt.Errorf("zmq: set max sockets: %w", err), zctx.Term())
		}
	}
	return &RawContext{zctx: zctx}, nil
}

// Close terminates the context; sockets still open make it wait for them.
func (c *RawContext) Close() error { return c.zctx.Term() }

// RawKind is the ZeroMQ socket type of a RawSocket.
type RawKind int

// The socket types a raw peer may have.
const (
	// RawDealer sends and receives frames exactly as given.
	RawDealer RawKind = iota
	// RawREQ is a plain REQ socket: ZeroMQ adds the empty delimiter to what it
	// sends, strips it from what it receives, and allows one request at a time.
	RawREQ
)

// RawSocket is one raw peer in a RawContext: frames go out and come in as they
// are (a REQ socket adds and strips its delimiter). It is owned by one goroutine
// at a time. Every call retries on EINTR, which says the call had no effect.
type RawSocket struct {
	s      *zmq4.Socket
	poller *zmq4.Poller
}

// Dial opens a socket of kind in c, with no linger, and connects it to endpoint.
func (c *RawContext) Dial(endpoint string, kind RawKind) (*RawSocket, error) {
	t := zmq4.DEALER
	if kind == RawREQ {
		t = zmq4.REQ
	}
	s, err := c.zctx.NewSocket(t)
	if err != nil {
		return nil, fmt.Errorf("zmq: new raw socket: %w", err)
	}
	if err := s.SetLinger(0); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: set linger: %w", err), s.Close())
	}
	if err := s.Connect(endpoint); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: connect %s: %w", endpoint, err), s.Close())
	}
	p := &RawSocket{s: s, poller: zmq4.NewPoller()}
	p.poller.Add(s, zmq4.POLLIN)
	return p, nil
}

func isErrno(err error, e syscall.Errno) bool { return zmq4.AsErrno(err) == zmq4.Errno(e) }

// Send sends frames as one message. It does not block: a message the socket
// cannot queue (a REQ waiting for its reply, a pipe at its high-water mark) fails.
// An interrupted part is sent again; the parts before it are queued already.
func (p *RawSocket) Send(frames [][]byte) error {
	if len(frames) == 0 {
		return errors.New("zmq: raw send of an empty message")
	}
	for i, f := range frames {
		flags := zmq4.DONTWAIT
		if i < len(frames)-1 {
			flags |= zmq4.SNDMORE
		}
		for {
			_, err := p.s.SendBytes(f, flags)
			if err == nil {
				break
			}
			if !isErrno(err, syscall.EINTR) {
				return fmt.Errorf("zmq: raw send: %w", err)
			}
		}
	}
	return nil
}

// Recv returns the next message, waiting at most d; ErrNoMessage when none came.
func (p *RawSocket) Recv(d time.Duration) ([][]byte, error) {
	end := time.Now().Add(d)
	for {
		m, err := p.recvNow()
		if err == nil {
			return m, nil
		}
		if !errors.Is(err, ErrNoMessage) {
			return nil, err
		}
		left := time.Until(end)
		if left <= 0 {
			return nil, ErrNoMessage
		}
		if _, err := p.poller.Poll(left.Truncate(time.Millisecond) + time.Millisecond); err != nil &&
			!isErrno(err, syscall.EINTR) {
			return nil, fmt.Errorf("zmq: raw poll: %w", err)
		}
	}
}

// recvNow reads a whole message if one is there, part by part so that an
// interrupted part is read again rather than lost; ErrNoMessage when none is.
func (p *RawSocket) recvNow() ([][]byte, error) {
	var m [][]byte
	for {
		flags := zmq4.Flag(0)
		if len(m) == 0 {
			flags = zmq4.DONTWAIT
		}
		f, err := p.s.RecvBytes(flags)
		if err != nil {
			switch {
			case isErrno(err, syscall.EINTR):
				continue
			case len(m) == 0 && isErrno(err, syscall.EAGAIN):
				return nil, ErrNoMessage
			}
			return nil, fmt.Errorf("zmq: raw recv: %w", err)
		}
		m = append(m, f)
		more, err := p.s.GetRcvmore()
		for err != nil && isErrno(err, syscall.EINTR) {
			more, err = p.s.GetRcvmore()
		}
		if err != nil {
			return nil, fmt.Errorf("zmq: raw recv: %w", err)
		}
		if !more {
			return m, nil
		}
	}
}

// Close closes the socket without lingering.
func (p *RawSocket) Close() error { return p.s.Close() }

// RawPoller waits on many raw sockets at once; it is built once and polled often.
type RawPoller struct {
	p *zmq4.Poller
}

// NewRawPoller makes a poller for socks; the indexes Poll returns are theirs.
func NewRawPoller(socks []*RawSocket) *RawPoller {
	poller := zmq4.NewPoller()
	for _, s := range socks {
		poller.Add(s.s, zmq4.POLLIN)
	}
	return &RawPoller{p: poller}
}

// Poll waits at most d until one of the sockets has a message and returns the
// indexes of those that have; none when the time passed. An interrupted wait
// returns none as well.
func (p *RawPoller) Poll(d time.Duration) ([]int, error) {
	polled, err := p.p.PollAll(d)
	if err != nil {
		if isErrno(err, syscall.EINTR) {
			return nil, nil
		}
		return nil, fmt.Errorf("zmq: raw poll: %w", err)
	}
	var ready []int
	for i, s := range polled {
		if s.Events&zmq4.POLLIN != 0 {
			ready = append(ready, i)
		}
	}
	return ready, nil
}
