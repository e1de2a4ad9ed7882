package zmq

import (
	"crypto/rand"
	"errors"
	"fmt"
	"sync/atomic"

	zmq4 "github.com/pebbe/zmq4"
)

// kickerSeq numbers the inproc endpoints of kickers, which must be unique per context.
var kickerSeq atomic.Uint64

// kicker lets any goroutine wake a loop blocked in ZeroMQ (a receive, a zmq poll),
// which cannot wait on Go channels: its own goroutine owns a socket connected to one
// the loop receives on, and turns each kick into one message. Kicks coalesce: at most
// one waits on the channel.
type kicker struct {
	ch   chan struct{}
	quit chan struct{}
	done chan struct{}
	err  error // the socket's send or close error; read after done
}

// startKicker starts a kicker that owns s from now on.
func startKicker(s *zmq4.Socket) *kicker {
	k := &kicker{ch: make(chan struct{}, 1), quit: make(chan struct{}), done: make(chan struct{})}
	go k.run(s)
	return k
}

// run owns the socket: one message per kick until quit.
func (k *kicker) run(s *zmq4.Socket) {
	defer close(k.done)
	for {
		select {
		case <-k.ch:
			// EINTR: zmq4 retries it (newContext). EAGAIN cannot come: the socket
			// has no high-water mark.
			if _, err := s.SendBytes([]byte{1}, zmq4.DONTWAIT); err != nil && k.err == nil {
				k.err = fmt.Errorf("zmq: kick: %w", err)
			}
		case <-k.quit:
			if err := s.Close(); err != nil {
				k.err = errors.Join(k.err, fmt.Errorf("zmq: close kicker: %w", err))
			}
			return
		}
	}
}

// kick makes the loop's current or next wait return. It never blocks and is safe for
// concurrent use.
func (k *kicker) kick() {
	select {
	case k.ch <- struct{}{}:
	default:
	}
}

// close stops the kicker's goroutine and closes its socket.
func (k *kicker) close() error {
	close(k.quit)
	<-k.done
	return k.err
}

// inprocEndpoint returns a new inproc endpoint for a kicker.
func inprocEndpoint(what string) string {
	return fmt.Sprintf("inproc://ebwrk-%s-%d", what, kickerSeq.Add(1))
}

// newRouterKicker binds router to a new inproc endpoint and starts a kicker whose
// DEALER, connected to it, has a random routing identity that no remote peer can
// guess; the loop tells kicks by that identity, which it returns.
func newRouterKicker(zctx *zmq4.Context, router *zmq4.Socket) (*kicker, string, error) {
	ep := inprocEndpoint("kick")
	if err := router.Bind(ep); err != nil {
		return nil, "", fmt.Errorf("zmq: bind %s: %w", ep, err)
	}
	// A routing identity must not start with a zero byte (ZeroMQ keeps those for the
	// ones it generates).
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, "", fmt.Errorf("zmq: kicker identity: %w", err)
	}
	id[0] |= 0x80
	// No high-water mark: a kick that meets a full pipe would be lost.
	s, err := newSocket(zctx, zmq4.DEALER, 0, 0)
	if err != nil {
		return nil, "", err
	}
	if err := s.SetIdentity(string(id)); err != nil {
		return nil, "", errors.Join(fmt.Errorf("zmq: set kicker identity: %w", err), s.Close())
	}
	if err := s.Connect(ep); err != nil {
		return nil, "", errors.Join(fmt.Errorf("zmq: connect %s: %w", ep, err), s.Close())
	}
	return startKicker(s), string(id), nil
}
