//go:build cgo

package conformance

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// TestWireZMQ runs every wire case against transport/zmq's broker server on real
// sockets: a broker bound to 127.0.0.1 on ports the system chooses, raw DEALER peers
// (zmq.RawPeer, plain sockets sending the frames the case writes), the wall clock,
// 100 ms heartbeats, every wait bounded.
func TestWireZMQ(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inside a mutant run: the fast cases only")
	}
	RunWire(t, WireCases, func(t *testing.T, cfg core.BrokerConfig) Transport {
		tr := &zmqTransport{t: t, cfg: cfg}
		if err := tr.start("tcp://127.0.0.1:*", "tcp://127.0.0.1:*"); err != nil {
			t.Fatal(err)
		}
		return tr
	})
}

// zmqTransport is the Transport of the wire cases on transport/zmq.
type zmqTransport struct {
	t      *testing.T
	cfg    core.BrokerConfig
	b      *zmq.Broker
	cancel context.CancelFunc
	done   chan error
	mu     sync.Mutex
	conns  []*zmq.RawPeer
}

// start binds a broker at the endpoints and serves it until stop.
func (z *zmqTransport) start(front, back string) error {
	b, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: front, Backend: back, Config: z.cfg, Linger: -1})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(z.t.Context())
	z.b, z.cancel, z.done = b, cancel, make(chan error, 1)
	go func() { z.done <- b.Run(ctx) }()
	return nil
}

// stop ends the broker's Run and waits for it, at most ten seconds.
func (z *zmqTransport) stop() error {
	z.cancel()
	select {
	case err := <-z.done:
		return err
	case <-time.After(10 * time.Second):
		return errors.New("conformance: zmq broker did not stop within 10s")
	}
}

func (z *zmqTransport) Name() string   { return "zmq" }
func (z *zmqTransport) Now() time.Time { return time.Now() }

// Wait lets d of wall time pass; it is how a case lets a worker fall silent or a
// heartbeat come due, never how it waits for an outcome (Recv and Eventually do).
func (z *zmqTransport) Wait(d time.Duration) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-timer.C:
	case <-z.t.Context().Done():
	}
}

func (z *zmqTransport) Dial(sock core.Socket) (Conn, error) {
	ep := z.b.Frontend()
	if sock == core.Backend {
		ep = z.b.Backend()
	}
	p, err := zmq.DialRaw(ep)
	if err != nil {
		return nil, err
	}
	z.mu.Lock()
	z.conns = append(z.conns, p)
	z.mu.Unlock()
	return zmqConn{p}, nil
}

// Restart stops the broker and binds a new one at the same endpoints; the raw
// peers' DEALERs reconnect to it by themselves.
func (z *zmqTransport) Restart() error {
	front, back := z.b.Frontend(), z.b.Backend()
	if err := z.stop(); err != nil {
		return err
	}
	return z.start(front, back)
}

func (z *zmqTransport) Workers() []core.WorkerInfo   { return z.b.Workers() }
func (z *zmqTransport) Services() []core.ServiceInfo { return z.b.Services() }

func (z *zmqTransport) Close() error {
	err := z.stop()
	z.mu.Lock()
	defer z.mu.Unlock()
	for _, c := range z.conns {
		err = errors.Join(err, c.Close())
	}
	z.conns = nil
	return err
}

// zmqConn adapts zmq.RawPeer to Conn.
type zmqConn struct{ p *zmq.RawPeer }

func (c zmqConn) Send(frames [][]byte) error { return c.p.Send(frames) }

func (c zmqConn) Recv(d time.Duration) ([][]byte, error) {
	m, err := c.p.Recv(d)
	if errors.Is(err, zmq.ErrNoMessage) {
		return nil, ErrNoMessage
	}
	return m, err
}

// Close leaves the socket to the transport's Close, which closes every peer once.
func (c zmqConn) Close() error { return nil }
