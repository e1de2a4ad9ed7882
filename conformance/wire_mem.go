package conformance

import (
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// MemTransport is a Transport on transport/mem: a MemBroker on a virtual clock with a
// fixed one-way latency. Every broker step is also shown to a Checker, so the wire
// cases on mem are checked against the whole catalogue as well as against their own
// expectations.
type MemTransport struct {
	clock *mem.Clock
	net   *mem.Network
	k     *Checker
	mb    *MemBroker
	n     int
}

// NewMemTransport starts a broker with cfg on a new network whose messages take
// latency one way.
func NewMemTransport(cfg core.BrokerConfig, latency time.Duration) (*MemTransport, error) {
	clock := mem.NewClock(Epoch)
	net := mem.NewNetwork(clock, mem.Config{Latency: latency})
	k := NewChecker(cfg, Epoch)
	mb, err := NewMemBroker(net, cfg, k)
	if err != nil {
		return nil, err
	}
	return &MemTransport{clock: clock, net: net, k: k, mb: mb}, nil
}

// Checker returns the checker that watches the broker.
func (m *MemTransport) Checker() *Checker { return m.k }

// Name returns "mem".
func (m *MemTransport) Name() string { return "mem" }

// Now returns the virtual time.
func (m *MemTransport) Now() time.Time { return m.clock.Now() }

// Wait runs the virtual clock for d.
func (m *MemTransport) Wait(d time.Duration) {
	m.clock.RunUntil(m.clock.Now().Add(d))
	m.k.Tick(m.clock.Now())
}

// Restart crashes the broker and starts a new one.
func (m *MemTransport) Restart() error { return m.mb.Restart() }

// Workers returns the broker's workers.
func (m *MemTransport) Workers() []core.WorkerInfo { return m.mb.Broker().Workers() }

// Services returns the broker's services.
func (m *MemTransport) Services() []core.ServiceInfo { return m.mb.Broker().Services() }

// Close stops the broker.
func (m *MemTransport) Close() error {
	m.mb.Stop()
	return nil
}

// Dial connects a raw peer from its own node.
func (m *MemTransport) Dial(sock core.Socket) (Conn, error) {
	m.n++
	addr := FrontendAddr
	if sock == core.Backend {
		addr = BackendAddr
	}
	c := &memConn{t: m}
	d, err := m.net.Connect("p"+strconv.Itoa(m.n), addr, func(frames [][]byte) { c.inbox = append(c.inbox, frames) })
	if err != nil {
		return nil, err
	}
	c.d = d
	return c, nil
}

// memConn is a raw peer's connection: received messages wait in an inbox.
type memConn struct {
	t     *MemTransport
	d     *mem.Dealer
	inbox [][][]byte
}

func (c *memConn) Send(frames [][]byte) error { return c.d.Send(frames) }

// Recv runs the clock until a message is in the inbox or d has passed.
func (c *memConn) Recv(d time.Duration) ([][]byte, error) {
	clock := c.t.clock
	end := clock.Now().Add(d)
	for len(c.inbox) == 0 {
		next, ok := clock.Next()
		if !ok || next.After(end) {
			clock.RunUntil(end)
			c.t.k.Tick(clock.Now())
			break
		}
		clock.Step()
	}
	if len(c.inbox) == 0 {
		return nil, ErrNoMessage
	}
	m := c.inbox[0]
	c.inbox = c.inbox[1:]
	c.t.k.Tick(clock.Now())
	return m, nil
}

func (c *memConn) Close() error {
	c.d.Close()
	return nil
}
