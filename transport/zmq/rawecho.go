package zmq

import (
	"context"
	"errors"
	"fmt"
	"syscall"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// RawEcho is a plain ROUTER socket that sends every message back to its sender as it
// came: the far end of the raw DEALER↔ROUTER round trip that ebbench measures as the
// limit of any brokered one (a RawPeer is the near end). It adds nothing and checks
// nothing. One goroutine at a time uses it.
type RawEcho struct {
	zctx *zmq4.Context
	s    *zmq4.Socket
	ep   string
}

// rawEchoWait bounds each blocking receive of Serve, so that it notices the end of
// its context.
const rawEchoWait = 100 * time.Millisecond

// ListenRawEcho opens a ROUTER in its own context and binds it to endpoint (e.g.
// "tcp://127.0.0.1:*").
func ListenRawEcho(endpoint string) (*RawEcho, error) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq: new context: %w", err)
	}
	s, err := newSocket(zctx, zmq4.ROUTER, defaultHWM, 0)
	if err != nil {
		return nil, errors.Join(err, zctx.Term())
	}
	if err := s.SetRcvtimeo(rawEchoWait); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: set receive timeout: %w", err), s.Close(), zctx.Term())
	}
	if err := s.Bind(endpoint); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: bind %s: %w", endpoint, err), s.Close(), zctx.Term())
	}
	ep, err := s.GetLastEndpoint()
	if err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: last endpoint: %w", err), s.Close(), zctx.Term())
	}
	return &RawEcho{zctx: zctx, s: s, ep: ep}, nil
}

// Endpoint returns the endpoint bound, with the port ZeroMQ chose for a "*".
func (e *RawEcho) Endpoint() string { return e.ep }

// Serve echoes every message until ctx ends, then returns nil; it returns early only
// on a socket error. A receive retries on EINTR and on EAGAIN (its timeout, after
// which it looks at ctx); each part of a reply retries on EINTR, so a signal never
// cuts a message in two. A ROUTER send never blocks: a message for a peer that is
// gone or at its high-water mark is dropped, as a plain echo does.
func (e *RawEcho) Serve(ctx context.Context) error {
	for ctx.Err() == nil {
		msg, err := e.s.RecvMessageBytes(0)
		switch errno := zmq4.AsErrno(err); {
		case err == nil:
		case errno == zmq4.Errno(syscall.EAGAIN), errno == zmq4.Errno(syscall.EINTR):
			continue
		default:
			return fmt.Errorf("zmq: raw echo receive: %w", err)
		}
		for i, part := range msg {
			flag := zmq4.SNDMORE
			if i == len(msg)-1 {
				flag = 0
			}
			for {
				_, err := e.s.SendBytes(part, flag)
				if err == nil {
					break
				}
				if zmq4.AsErrno(err) != zmq4.Errno(syscall.EINTR) {
					return fmt.Errorf("zmq: raw echo send: %w", err)
				}
			}
		}
	}
	return nil
}

// Close closes the socket without lingering and terminates its context.
func (e *RawEcho) Close() error {
	return errors.Join(e.s.Close(), e.zctx.Term())
}
