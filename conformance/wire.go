package conformance

import (
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// ErrNoMessage is returned by Conn.Recv when nothing arrived in time.
var ErrNoMessage = errors.New("conformance: no message")

// Transport is a running broker and the means to talk to it with raw peers, so that
// each wire case is written once and runs on every transport: transport/mem on
// virtual time (NewMemTransport) and transport/zmq on real sockets.
type Transport interface {
	// Name says which transport this is, e.g. "mem" or "zmq".
	Name() string
	// Dial opens a raw DEALER connection to the broker's frontend or backend. The
	// peer speaks whatever frames the case sends: nothing is added or checked.
	Dial(sock core.Socket) (Conn, error)
	// Now returns the transport's time: virtual on mem, the wall clock on zmq.
	Now() time.Time
	// Wait lets d pass.
	Wait(d time.Duration)
	// Restart crashes the broker (its state is lost) and starts a new one at the same
	// endpoints, which open connections reach.
	Restart() error
	// Workers and Services return the broker's registry at this instant.
	Workers() []core.WorkerInfo
	Services() []core.ServiceInfo
	// Close stops the broker and closes every connection.
	Close() error
}

// Conn is one raw DEALER connection to the broker.
type Conn interface {
	// Send sends one message; frames go as they are.
	Send(frames [][]byte) error
	// Recv returns the next message, waiting at most d; ErrNoMessage when none came.
	Recv(d time.Duration) ([][]byte, error)
	// Close closes the connection.
	Close() error
}

// Script runs one wire case: raw peers, expectations, and failures that name the
// check they belong to ("CHECK <name>: ...").
type Script struct {
	t     testing.TB
	tr    Transport
	Beat  time.Duration // the broker's heartbeat interval
	Live  int           // the broker's liveness
	peers []*RawPeer
	n     int
}

// RawPeer is a scripted peer on one connection.
type RawPeer struct {
	s    *Script
	c    Conn
	Name string
}

// fail stops the case with a failure naming check.
func (s *Script) fail(check, format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("CHECK %s [%s]: %s", check, s.tr.Name(), fmt.Sprintf(format, args...))
}

// Dial opens a raw peer on socket sock.
func (s *Script) Dial(sock core.Socket) *RawPeer {
	s.t.Helper()
	c, err := s.tr.Dial(sock)
	if err != nil {
		s.t.Fatalf("dial %v: %v", sock, err)
	}
	s.n++
	p := &RawPeer{s: s, c: c, Name: "p" + strconv.Itoa(s.n)}
	s.peers = append(s.peers, p)
	return p
}

// Client opens a raw client on the frontend.
func (s *Script) Client() *RawPeer { return s.Dial(core.Frontend) }

// Worker opens a raw worker on the backend and sends READY for service.
func (s *Script) Worker(service string) *RawPeer {
	s.t.Helper()
	p := s.Dial(core.Backend)
	p.Send("", core.WorkerHeader, "\x01", service)
	return p
}

// Wait lets d pass.
func (s *Script) Wait(d time.Duration) { s.tr.Wait(d) }

// Eventually waits until cond holds, for at most within; every quarter interval it
// calls tick (which may send heartbeats) and checks again.
func (s *Script) Eventually(check, what string, within time.Duration, cond func() bool, tick func()) {
	s.t.Helper()
	end := s.tr.Now().Add(within)
	for !cond() {
		if s.tr.Now().After(end) {
			s.fail(check, "%s: not within %v; workers %s, services %v", what, within, workersString(s.tr.Workers()), s.tr.Services())
		}
		if tick != nil {
			tick()
		}
		s.tr.Wait(s.Beat / 4)
	}
}

// Workers returns how many workers the broker has registered.
func (s *Script) Workers() int { return len(s.tr.Workers()) }

// Registered waits until the broker has n workers.
func (s *Script) Registered(n int) {
	s.t.Helper()
	s.Eventually(L1Ledger, fmt.Sprintf("%d workers registered", n), 4*s.Beat, func() bool { return s.Workers() == n }, nil)
}

// Send sends frames given as strings.
func (p *RawPeer) Send(frames ...string) {
	p.s.t.Helper()
	if err := p.c.Send(strFrames(frames)); err != nil {
		p.s.t.Fatalf("%s: send %q: %v", p.Name, frames, err)
	}
}

// SendFrames sends frames as they are.
func (p *RawPeer) SendFrames(frames [][]byte) {
	p.s.t.Helper()
	if err := p.c.Send(frames); err != nil {
		p.s.t.Fatalf("%s: send %q: %v", p.Name, frames, err)
	}
}

// Beat sends a worker HEARTBEAT.
func (p *RawPeer) Beat() { p.Send("", core.WorkerHeader, "\x04") }

// next returns the next message within d that is not a broker HEARTBEAT (those are
// skipped unless keep is set), or nil.
func (p *RawPeer) next(d time.Duration, keep bool) [][]byte {
	p.s.t.Helper()
	end := p.s.tr.Now().Add(d)
	for {
		left := end.Sub(p.s.tr.Now())
		if left < 0 {
			left = 0
		}
		m, err := p.c.Recv(left)
		if errors.Is(err, ErrNoMessage) {
			return nil
		}
		if err != nil {
			p.s.t.Fatalf("%s: recv: %v", p.Name, err)
		}
		if keep || !isHeartbeat(m) {
			return m
		}
	}
}

// Expect waits at most d for the next message other than a HEARTBEAT and checks it
// against want, where "*" matches any frame. It returns the message.
func (p *RawPeer) Expect(check, what string, d time.Duration, want ...string) [][]byte {
	p.s.t.Helper()
	m := p.next(d, false)
	if m == nil {
		p.s.fail(check, "%s: %s got nothing within %v, want %q", what, p.Name, d, want)
	}
	if !matchFrames(m, want) {
		p.s.fail(check, "%s: %s got %q, want %q", what, p.Name, m, want)
	}
	return m
}

// ExpectBeating is Expect for a worker that stays alive while it waits: it sends a
// HEARTBEAT every half interval.
func (p *RawPeer) ExpectBeating(check, what string, d time.Duration, want ...string) [][]byte {
	p.s.t.Helper()
	end := p.s.tr.Now().Add(d)
	for {
		p.Beat()
		left := end.Sub(p.s.tr.Now())
		if left <= 0 {
			p.s.fail(check, "%s: %s got nothing within %v, want %q", what, p.Name, d, want)
		}
		if m := p.next(min(left, p.s.Beat/2), false); m != nil {
			if !matchFrames(m, want) {
				p.s.fail(check, "%s: %s got %q, want %q", what, p.Name, m, want)
			}
			return m
		}
	}
}

// Drain discards whatever arrives within d.
func (p *RawPeer) Drain(d time.Duration) {
	p.s.t.Helper()
	for p.next(d, true) != nil {
	}
}

// ExpectHeartbeat waits at most d for a HEARTBEAT, failing on any other message.
func (p *RawPeer) ExpectHeartbeat(check, what string, d time.Duration) {
	p.s.t.Helper()
	m := p.next(d, true)
	switch {
	case m == nil:
		p.s.fail(check, "%s: %s got no HEARTBEAT within %v", what, p.Name, d)
	case !isHeartbeat(m):
		p.s.fail(check, "%s: %s got %q, want a HEARTBEAT", what, p.Name, m)
	}
}

// ExpectNothing checks that nothing but HEARTBEATs arrives for d (with strict,
// not even a HEARTBEAT).
func (p *RawPeer) ExpectNothing(check, what string, d time.Duration, strict bool) {
	p.s.t.Helper()
	if m := p.next(d, strict); m != nil {
		p.s.fail(check, "%s: %s got %q, want nothing for %v", what, p.Name, m, d)
	}
}

// Close closes the peer's connection.
func (p *RawPeer) Close() { _ = p.c.Close() }

func strFrames(frames []string) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = []byte(f)
	}
	return out
}

func matchFrames(m [][]byte, want []string) bool {
	if len(m) != len(want) {
		return false
	}
	for i, w := range want {
		if w != "*" && string(m[i]) != w {
			return false
		}
	}
	return true
}

// Seq returns the ebwrk envelope frame for sequence number n (with a status byte when
// st is not StatusOK).
func Seq(n uint64, st core.Status) string {
	m := core.Message{Protocol: core.ClientProtocol, Envelope: true, Seq: n, Status: st}
	return string(m.Frames()[0])
}

// WireCase is one scripted conversation with the broker and what it must do.
type WireCase struct {
	Name   string
	Checks []string          // the checks it exercises
	Config core.BrokerConfig // zero fields: the case defaults (see RunWire)
	Run    func(s *Script)
}

// WireDefaults is the broker configuration of every case unless the case says
// otherwise: short heartbeats, so the real-socket run stays short.
var WireDefaults = core.BrokerConfig{
	HeartbeatInterval: 100 * time.Millisecond,
	Liveness:          10,
	QueueExpiry:       -1,
}

// RunWire runs every case in cases on transports made by start, one broker per case,
// as subtests. start gets the case's configuration.
func RunWire(t *testing.T, cases []WireCase, start func(t *testing.T, cfg core.BrokerConfig) Transport) {
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			cfg := c.Config
			if cfg.HeartbeatInterval == 0 {
				cfg.HeartbeatInterval = WireDefaults.HeartbeatInterval
			}
			if cfg.Liveness == 0 {
				cfg.Liveness = WireDefaults.Liveness
			}
			if cfg.QueueExpiry == 0 {
				cfg.QueueExpiry = WireDefaults.QueueExpiry
			}
			tr := start(t, cfg)
			s := &Script{t: t, tr: tr, Beat: cfg.HeartbeatInterval, Live: cfg.Liveness}
			defer func() {
				for _, p := range s.peers {
					p.Close()
				}
				if err := tr.Close(); err != nil {
					t.Errorf("close %s: %v", tr.Name(), err)
				}
			}()
			c.Run(s)
		})
	}
}

// isHeartbeat reports whether f is an MDP/Worker HEARTBEAT.
func isHeartbeat(f [][]byte) bool {
	return len(f) == 3 && len(f[0]) == 0 && string(f[1]) == core.WorkerHeader && len(f[2]) == 1 && core.Command(f[2][0]) == core.Heartbeat
}
