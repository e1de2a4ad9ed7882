package conformance

import (
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// MemTransport is a Transport on transport/mem: the broker of an empty sim.World on a
// virtual clock with a fixed one-way latency, and raw peers dialled into that World.
// Every broker step is also shown to a Checker, so the wire cases on mem are checked
// against the whole catalogue as well as against their own expectations.
type MemTransport struct {
	w *sim.World
	k *Checker
	n int
}

// NewMemTransport starts a broker with cfg on a new network whose messages take
// latency one way.
func NewMemTransport(cfg core.BrokerConfig, latency time.Duration) (*MemTransport, error) {
	m := &MemTransport{}
	w, err := sim.NewWorld(WorldConfig{Broker: cfg, Latency: latency}.scenario(), 1,
		sim.Options{Empty: true, Observer: memObserver{m}})
	if err != nil {
		return nil, err
	}
	m.w = w
	m.k = NewChecker(cfg, w.Now())
	return m, nil
}

// memObserver feeds the broker's steps to the Checker; the raw peers are no clients.
type memObserver struct{ m *MemTransport }

func (o memObserver) BrokerStep(now time.Time, in sim.BrokerInput, outs []core.Output, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	o.m.k.BrokerStep(now, Input{Kind: InputKind(in.Kind), Peer: in.Peer, Frames: in.Frames}, outs, ws, ss)
}

func (o memObserver) BrokerRestarted(time.Time) { o.m.k.BrokerRestarted() }

func (memObserver) ClientRequest(time.Time, string, core.ClientConfig, uint64, string, [][]byte) {}

func (memObserver) ClientEnded(time.Time, string, *core.Output) {}

// Checker returns the checker that watches the broker.
func (m *MemTransport) Checker() *Checker { return m.k }

// Name returns "mem".
func (m *MemTransport) Name() string { return "mem" }

// Now returns the virtual time.
func (m *MemTransport) Now() time.Time { return m.w.Now() }

// Wait runs the virtual clock for d.
func (m *MemTransport) Wait(d time.Duration) {
	m.w.Advance(d)
	m.k.Tick(m.w.Now())
}

// Restart crashes the broker and starts a new one.
func (m *MemTransport) Restart() error {
	m.w.RestartBroker()
	return nil
}

// Workers returns the broker's workers.
func (m *MemTransport) Workers() []core.WorkerInfo { return m.w.Broker().Workers() }

// Services returns the broker's services.
func (m *MemTransport) Services() []core.ServiceInfo { return m.w.Broker().Services() }

// Close stops the broker.
func (m *MemTransport) Close() error {
	m.w.StopBroker()
	return nil
}

// Dial connects a raw peer from its own node.
func (m *MemTransport) Dial(sock core.Socket) (Conn, error) {
	m.n++
	c := &memConn{t: m}
	d, err := m.w.Dial("p"+strconv.Itoa(m.n), sock, func(frames [][]byte) { c.inbox = append(c.inbox, frames) })
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
	w := c.t.w
	end := w.Now().Add(d)
	for len(c.inbox) == 0 {
		next, ok := w.Next()
		if !ok || next.After(end) {
			w.Advance(end.Sub(w.Now()))
			c.t.k.Tick(w.Now())
			break
		}
		w.Step()
	}
	if len(c.inbox) == 0 {
		return nil, ErrNoMessage
	}
	msg := c.inbox[0]
	c.inbox = c.inbox[1:]
	c.t.k.Tick(w.Now())
	return msg, nil
}

func (c *memConn) Close() error {
	c.d.Close()
	return nil
}
