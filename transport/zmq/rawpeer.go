package zmq

import (
	"errors"
	"fmt"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// ErrNoMessage is returned by RawPeer.Recv when nothing arrived in time.
var ErrNoMessage = errors.New("zmq: no message")

// RawPeer is a plain DEALER socket that sends and receives frames exactly as given:
// nothing is added, stripped or checked. It is for interop and conformance tests
// that must speak raw RFC 7 frames to a broker without importing ZeroMQ themselves.
// A RawPeer is owned by one goroutine at a time.
type RawPeer struct {
	zctx *zmq4.Context
	s    *zmq4.Socket
	in   recvScratch
}

// DialRaw opens a DEALER in its own context and connects it to endpoint.
func DialRaw(endpoint string) (*RawPeer, error) {
	zctx, err := newContext()
	if err != nil {
		return nil, err
	}
	s, err := zctx.NewSocket(zmq4.DEALER)
	if err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: new DEALER socket: %w", err), zctx.Term())
	}
	if err := s.SetLinger(0); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: set linger: %w", err), s.Close(), zctx.Term())
	}
	if err := s.Connect(endpoint); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: connect %s: %w", endpoint, err), s.Close(), zctx.Term())
	}
	return &RawPeer{zctx: zctx, s: s}, nil
}

// Send sends frames as one message; a DEALER queues it while it connects. zmq4 sends
// each part in a call of its own and retries it on EINTR (newContext), so an
// interrupted message goes on from the part that was interrupted.
func (p *RawPeer) Send(frames [][]byte) error {
	if len(frames) == 0 {
		return errors.New("zmq: raw send of an empty message")
	}
	parts := make([]any, len(frames))
	for i, f := range frames {
		parts[i] = f
	}
	if _, err := p.s.SendMessage(parts...); err != nil {
		return fmt.Errorf("zmq: raw send: %w", err)
	}
	return nil
}

// Recv returns the next message, waiting at most d; ErrNoMessage when none came.
func (p *RawPeer) Recv(d time.Duration) ([][]byte, error) {
	end := time.Now().Add(d)
	for {
		left := max(time.Until(end), 0)
		if err := p.s.SetRcvtimeo((left + time.Millisecond - 1).Truncate(time.Millisecond)); err != nil {
			return nil, fmt.Errorf("zmq: raw set RCVTIMEO: %w", err)
		}
		// EINTR: a signal ended the wait early: wait again for the time left (zmq4's
		// own retry would restart the whole timeout).
		m, err := p.in.recv(p.s, true)
		switch {
		case err == nil:
			return m, nil
		case isAgain(err) && left == 0:
			return nil, ErrNoMessage
		case !isAgain(err) && !isInterrupted(err):
			return nil, fmt.Errorf("zmq: raw recv: %w", err)
		}
	}
}

// Close closes the socket without lingering and terminates its context.
func (p *RawPeer) Close() error {
	return errors.Join(p.s.Close(), p.zctx.Term())
}
