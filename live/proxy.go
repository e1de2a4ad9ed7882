package live

import (
	"bufio"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"sync"
	"time"
)

// Directions of a proxy rule, as the scenario names them (sim.ToBroker, ...).
const (
	dirToBroker   = "to-broker"
	dirFromBroker = "from-broker"
	dirBoth       = "both"
)

// Proxy is a ZMTP-aware TCP proxy in front of one peer: the peer connects to it and
// it connects on to the broker, once per connection the peer opens. It forwards the
// greeting and the handshake unchanged and then whole messages, each of which it may
// delay or drop by the rules in force: heartbeat loss per direction, latency and
// jitter, and a partition that cuts both directions. Byte proxies (toxiproxy) cannot
// drop one MDP HEARTBEAT without breaking the ZMTP framing; this one can.
type Proxy struct {
	ln       net.Listener
	upstream string // host:port of the broker endpoint

	mu      sync.Mutex
	rng     *rand.Rand
	hbLoss  []hbRule
	latency time.Duration
	jitter  time.Duration
	cut     int // partitions in force; more than 0: every message is dropped
	conns   map[net.Conn]struct{}
	held    map[net.Conn]bool // peer-side connections whose broker side stays open when they close
	closed  bool
	stats   ProxyStats
	healed  chan struct{} // closed when the last partition heals
	done    chan struct{} // closed by Close
	wg      sync.WaitGroup
}

// hbRule drops MDP HEARTBEATs going in dir with probability prob until until (zero:
// for ever).
type hbRule struct {
	dir   string
	prob  float64
	until time.Time
}

// ProxyStats count what a Proxy did with the messages it read.
type ProxyStats struct {
	Forwarded          uint64 // messages and commands passed on
	HeartbeatsToBroker uint64 // heartbeats dropped on their way to the broker
	HeartbeatsFromBrkr uint64 // heartbeats dropped on their way from it
	Cut                uint64 // messages dropped by a partition
	Connections        uint64 // connections the peer opened
}

// NewProxy listens on a free port of 127.0.0.1 and forwards to upstream (a
// "tcp://host:port" endpoint or "host:port"). seed seeds its random drops.
func NewProxy(upstream string, seed uint64) (*Proxy, error) {
	addr, err := hostPort(upstream)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("live: proxy listen: %w", err)
	}
	p := &Proxy{ln: ln, upstream: addr, rng: rand.New(rand.NewPCG(seed, 0x70726f7879)),
		conns: map[net.Conn]struct{}{}, held: map[net.Conn]bool{}, done: make(chan struct{})}
	p.wg.Go(p.accept)
	return p, nil
}

// hostPort turns "tcp://host:port" into "host:port".
func hostPort(ep string) (string, error) {
	const scheme = "tcp://"
	if len(ep) > len(scheme) && ep[:len(scheme)] == scheme {
		ep = ep[len(scheme):]
	}
	if _, _, err := net.SplitHostPort(ep); err != nil {
		return "", fmt.Errorf("live: endpoint %q: %w", ep, err)
	}
	return ep, nil
}

// Endpoint returns the endpoint the peer connects to, "tcp://127.0.0.1:PORT".
func (p *Proxy) Endpoint() string { return "tcp://" + p.ln.Addr().String() }

// SetLatency delays every message by d plus a uniform draw from [0, jitter). Order
// within a direction is kept, as TCP keeps it.
func (p *Proxy) SetLatency(d, jitter time.Duration) {
	p.mu.Lock()
	p.latency, p.jitter = d, jitter
	p.mu.Unlock()
}

// LoseHeartbeats drops each MDP HEARTBEAT going in dir (to-broker, from-broker or
// both) with probability prob, for d (0: for ever).
func (p *Proxy) LoseHeartbeats(dir string, prob float64, d time.Duration) {
	r := hbRule{dir: dir, prob: prob}
	if d > 0 {
		r.until = time.Now().Add(d)
	}
	p.mu.Lock()
	p.hbLoss = append(p.hbLoss, r)
	p.mu.Unlock()
}

// Partition cuts the peer from the broker for d: every message and command in
// either direction is dropped, and a connection opened meanwhile is not passed on
// until the partition heals. Partitions may overlap.
func (p *Proxy) Partition(d time.Duration) {
	p.mu.Lock()
	if p.cut == 0 {
		p.healed = make(chan struct{})
	}
	p.cut++
	p.mu.Unlock()
	time.AfterFunc(d, func() {
		p.mu.Lock()
		if p.cut--; p.cut == 0 {
			close(p.healed)
		}
		p.mu.Unlock()
	})
}

// HoldOnClose makes the peer's connections open now leave their broker side open
// and silent when the peer closes them: what the broker sees when a host dies (no
// FIN reaches it), rather than a process exit, whose kernel closes the connection.
// Whatever the broker sends on it afterwards is read and dropped.
func (p *Proxy) HoldOnClose() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for c := range p.conns {
		p.held[c] = true
	}
}

func (p *Proxy) isHeld(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.held[c]
}

// Stats returns the counters so far.
func (p *Proxy) Stats() ProxyStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Close stops listening, closes every connection and waits for its goroutines.
func (p *Proxy) Close() error {
	p.mu.Lock()
	if !p.closed {
		close(p.done)
	}
	p.closed = true
	for c := range p.conns {
		_ = c.Close()
	}
	p.mu.Unlock()
	err := p.ln.Close()
	p.wg.Wait()
	return err
}

func (p *Proxy) accept() {
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		if !p.track(down) {
			return
		}
		p.mu.Lock()
		p.stats.Connections++
		p.mu.Unlock()
		p.wg.Go(func() { p.serve(down) })
	}
}

// track remembers c for Close; false when the proxy is closed already.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		_ = c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *Proxy) forget(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
	_ = c.Close()
}

// serve connects down to the broker (after any partition in force heals) and runs
// both directions until either side closes; then it closes both, so that the peer
// sees what a broker restart looks like.
func (p *Proxy) serve(down net.Conn) {
	defer p.forget(down)
	p.mu.Lock()
	healed := p.healed
	cut := p.cut > 0
	p.mu.Unlock()
	if cut {
		select {
		case <-healed:
		case <-p.done:
			return
		}
	}
	up, err := net.DialTimeout("tcp", p.upstream, 2*time.Second)
	if err != nil {
		return // the broker is down: the peer reconnects, as it would to the broker
	}
	if !p.track(up) {
		return
	}
	defer p.forget(up)
	var wg sync.WaitGroup
	wg.Go(func() {
		p.pipe(down, up, dirToBroker)
		if !p.isHeld(down) {
			_ = up.Close()
		}
		_ = down.Close()
	})
	wg.Go(func() { p.pipe(up, down, dirFromBroker); _ = up.Close(); _ = down.Close() })
	wg.Wait()
	p.mu.Lock()
	delete(p.held, down)
	p.mu.Unlock()
}

// outgoing is a unit to write at a time.
type outgoing struct {
	raw []byte
	at  time.Time
}

// pipe reads from src and writes to dst, whole units, judged one by one.
func (p *Proxy) pipe(src, dst net.Conn, dir string) {
	r := bufio.NewReaderSize(src, 64<<10)
	if err := readGreeting(r, dst); err != nil {
		return
	}
	out := make(chan outgoing, 1024)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for o := range out {
			if d := time.Until(o.at); d > 0 {
				time.Sleep(d) // the modelled latency of this message, not a wait for an outcome
			}
			if _, err := dst.Write(o.raw); err != nil {
				if dir == dirFromBroker && p.isHeld(dst) {
					continue // a dead host: the broker's messages go nowhere
				}
				_ = src.Close()
				for range out {
				}
				return
			}
		}
	}()
	defer func() { close(out); <-done }()
	handshake := true
	for {
		u, err := readUnit(r)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !(dir == dirToBroker && p.isHeld(src)) {
				_ = dst.Close()
			}
			return
		}
		if handshake && u.command {
			// The NULL mechanism's READY: passed on at once, whatever the rules.
			out <- outgoing{raw: u.raw}
			handshake = false
			continue
		}
		at, ok := p.judge(u, dir)
		if ok {
			out <- outgoing{raw: u.raw, at: at}
		}
	}
}

// judge decides a unit's fate: when to write it, or false to drop it.
func (p *Proxy) judge(u zmtpUnit, dir string) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cut > 0 {
		p.stats.Cut++
		return time.Time{}, false
	}
	if !u.command && isHeartbeat(u.bodies) && p.loseHeartbeat(dir) {
		if dir == dirToBroker {
			p.stats.HeartbeatsToBroker++
		} else {
			p.stats.HeartbeatsFromBrkr++
		}
		return time.Time{}, false
	}
	p.stats.Forwarded++
	var at time.Time
	if p.latency > 0 || p.jitter > 0 {
		d := p.latency
		if p.jitter > 0 {
			d += time.Duration(p.rng.Int64N(int64(p.jitter)))
		}
		at = time.Now().Add(d)
	}
	return at, true
}

// loseHeartbeat applies the heartbeat rules in force; p.mu is held.
func (p *Proxy) loseHeartbeat(dir string) bool {
	now := time.Now()
	live := p.hbLoss[:0]
	for _, r := range p.hbLoss {
		if r.until.IsZero() || now.Before(r.until) {
			live = append(live, r)
		}
	}
	p.hbLoss = live
	for _, r := range p.hbLoss {
		if r.dir != dirBoth && r.dir != dir {
			continue
		}
		if r.prob >= 1 || p.rng.Float64() < r.prob {
			return true
		}
	}
	return false
}
