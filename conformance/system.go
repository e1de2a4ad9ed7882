package conformance

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// Epoch is the virtual instant every System starts at (as sim's runs).
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// HostileNode is the node of the peer that injects malformed messages.
const HostileNode = "hostile"

// SystemConfig configures a System.
type SystemConfig struct {
	Broker  core.BrokerConfig
	Latency time.Duration     // one-way network latency, no jitter
	Worker  core.WorkerConfig // template for every worker (Service is set per worker)
}

// System is a broker, its clients and workers — the real core state machines — on an
// in-memory network with a virtual clock, checked by a Checker after every broker
// step. It is the world of the property tests and fuzz targets: each method is one
// action, and Log lists the actions taken so far as Go-like lines.
type System struct {
	cfg     SystemConfig
	clock   *mem.Clock
	net     *mem.Network
	k       *Checker
	broker  *MemBroker
	clients []*clientHost
	workers []*workerHost
	hostile [2]*mem.Dealer
	hbDrop  map[string]time.Time // node → until when its heartbeats are dropped
	started map[clientKey]time.Time
	log     []string
	exact   bool // guarantee 8 is checked on every delivery
}

// NewSystem starts a broker with cfg at Epoch.
func NewSystem(cfg SystemConfig) (*System, error) {
	clock := mem.NewClock(Epoch)
	s := &System{
		cfg:     cfg,
		clock:   clock,
		net:     mem.NewNetwork(clock, mem.Config{Latency: cfg.Latency}),
		k:       NewChecker(cfg.Broker, Epoch),
		hbDrop:  map[string]time.Time{},
		started: map[clientKey]time.Time{},
	}
	s.net.SetFilter(s.filter)
	mb, err := NewMemBroker(s.net, cfg.Broker, s.k)
	if err != nil {
		return nil, err
	}
	s.broker = mb
	for sock, addr := range [...]string{core.Frontend: FrontendAddr, core.Backend: BackendAddr} {
		d, err := s.net.Connect(HostileNode, addr, nil)
		if err != nil {
			return nil, fmt.Errorf("conformance: hostile peer: %w", err)
		}
		s.hostile[sock] = d
	}
	return s, nil
}

func (s *System) now() time.Time { return s.clock.Now() }

// Now returns the virtual time.
func (s *System) Now() time.Time { return s.now() }

// Checker returns the system's checker.
func (s *System) Checker() *Checker { return s.k }

// Broker returns the running core broker.
func (s *System) Broker() *core.Broker { return s.broker.Broker() }

// Log returns the actions taken so far, one per line.
func (s *System) Log() []string { return s.log }

func (s *System) logf(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("%v: ", s.now().Sub(Epoch))+fmt.Sprintf(format, args...))
}

// Clients and Workers return the names given out so far.
func (s *System) Clients() int { return len(s.clients) }

// Workers returns how many workers were added.
func (s *System) Workers() int { return len(s.workers) }

// AddClient adds a client (named c1, c2, ...) and returns its index.
func (s *System) AddClient(cfg core.ClientConfig) int {
	h := &clientHost{sys: s, name: "c" + strconv.Itoa(len(s.clients)+1), cfg: cfg, c: core.NewClient(cfg)}
	h.connect()
	s.clients = append(s.clients, h)
	s.logf("AddClient(%+v) = %s", cfg, h.name)
	return len(s.clients) - 1
}

// Request has client i send a request to service; in standard mode a client sends
// only when it has nothing outstanding (the request is skipped otherwise).
func (s *System) Request(i int, service string) {
	h := s.clients[i]
	if h.cfg.Standard && h.c.Outstanding() > 0 {
		return
	}
	seq := h.request(service, nil)
	s.logf("Request(%s, %q) seq=%d", h.name, service, seq)
}

// Lookup has client i ask mmi.service about name (or, with short, mmi.<name>).
func (s *System) Lookup(i int, name string, short bool) {
	h := s.clients[i]
	if h.cfg.Standard && h.c.Outstanding() > 0 {
		return
	}
	if short {
		h.request("mmi."+name, [][]byte{})
	} else {
		h.request("mmi.service", [][]byte{[]byte(name)})
	}
	s.logf("Lookup(%s, %q, short=%t)", h.name, name, short)
}

// AddWorker starts a worker (named w1, w2, ...) for service, answering after svcTime,
// and returns its index.
func (s *System) AddWorker(service string, svcTime time.Duration) int {
	return s.AddCreditWorker(service, svcTime, 1)
}

// AddCreditWorker is AddWorker for a worker that holds up to credit requests at once
// (core.WorkerConfig.Credit) and answers them out of order.
func (s *System) AddCreditWorker(service string, svcTime time.Duration, credit int) int {
	cfg := s.cfg.Worker
	cfg.Service = service
	cfg.Credit = credit
	h := &workerHost{sys: s, name: "w" + strconv.Itoa(len(s.workers)+1), service: service, svcTime: svcTime, credit: credit, w: core.NewWorker(cfg)}
	s.workers = append(s.workers, h)
	s.k.Answerer(h.name)
	h.w.Start(s.now())
	h.pump()
	if credit > 1 {
		s.logf("AddCreditWorker(%q, %v, %d) = %s", service, svcTime, credit, h.name)
	} else {
		s.logf("AddWorker(%q, %v) = %s", service, svcTime, h.name)
	}
	return len(s.workers) - 1
}

// KillWorker crashes worker i: no DISCONNECT, its connection is cut.
func (s *System) KillWorker(i int) {
	s.workers[i].kill()
	s.logf("KillWorker(%s)", s.workers[i].name)
}

// StopWorker has worker i leave politely: DISCONNECT, then nothing.
func (s *System) StopWorker(i int) {
	h := s.workers[i]
	if h.state != workerRunning {
		return
	}
	h.w.Stop(s.now())
	h.pump()
	h.state = workerDead
	h.stopReplies()
	s.logf("StopWorker(%s)", h.name)
}

// PauseWorker freezes worker i; ResumeWorker thaws it.
func (s *System) PauseWorker(i int) {
	s.workers[i].pause()
	s.logf("PauseWorker(%s)", s.workers[i].name)
}

// ResumeWorker thaws worker i.
func (s *System) ResumeWorker(i int) {
	s.workers[i].resume()
	s.logf("ResumeWorker(%s)", s.workers[i].name)
}

// WorkerNode returns the node name of worker i; ClientNode of client i.
func (s *System) WorkerNode(i int) string { return s.workers[i].name }

// ClientNode returns the node name of client i.
func (s *System) ClientNode(i int) string { return s.clients[i].name }

// DropHeartbeats drops every HEARTBEAT to and from node for d.
func (s *System) DropHeartbeats(node string, d time.Duration) {
	s.hbDrop[node] = s.now().Add(d)
	s.logf("DropHeartbeats(%s, %v)", node, d)
}

// Partition cuts node off the broker until Heal.
func (s *System) Partition(node string) {
	s.net.Partition(node, BrokerNode)
	s.logf("Partition(%s)", node)
}

// Heal ends the partition of node.
func (s *System) Heal(node string) {
	s.net.Heal(node, BrokerNode)
	s.logf("Heal(%s)", node)
}

// RestartBroker crashes the broker and starts a new, empty one.
func (s *System) RestartBroker() error {
	s.logf("RestartBroker()")
	return s.broker.Restart()
}

// Inject has the hostile peer send frames to the broker's socket sock.
func (s *System) Inject(sock core.Socket, frames [][]byte) {
	s.logf("Inject(%v, %q)", sock, frames)
	_ = s.hostile[sock&1].Send(frames)
}

// Advance lets d of virtual time pass, running every event in it.
func (s *System) Advance(d time.Duration) {
	s.clock.RunUntil(s.now().Add(d))
	s.k.Tick(s.now())
	s.logf("Advance(%v)", d)
}

// Settle ends every fault (partitions healed, heartbeat loss over, paused workers
// resumed) and runs until every client request has ended, or until the longest
// request bound has passed; then Finish checks that none is left open.
func (s *System) Settle() {
	for _, w := range s.workers {
		s.net.Heal(w.name, BrokerNode)
		w.resume()
	}
	for _, c := range s.clients {
		s.net.Heal(c.name, BrokerNode)
	}
	clear(s.hbDrop)
	longest := time.Duration(0)
	for _, c := range s.clients {
		cfg := clientDefaults(c.cfg)
		longest = max(longest, cfg.Timeout*time.Duration(cfg.Attempts))
	}
	end := s.now().Add(longest + endTolerance)
	for s.k.Outstanding() > 0 && s.now().Before(end) {
		next, ok := s.clock.Next()
		if !ok || next.After(end) {
			break
		}
		s.clock.Step()
	}
	s.k.Finish(s.now())
	s.logf("Settle()")
}

// filter drops the heartbeats of nodes under heartbeat loss.
func (s *System) filter(m *mem.Envelope) mem.Verdict {
	if len(s.hbDrop) == 0 || !isHeartbeat(m.Frames) {
		return mem.Deliver
	}
	for _, node := range [...]string{m.FromNode, m.ToNode} {
		if until, ok := s.hbDrop[node]; ok && s.now().Before(until) {
			return mem.Drop
		}
	}
	return mem.Deliver
}

func isHeartbeat(f [][]byte) bool {
	return len(f) == 3 && len(f[0]) == 0 && string(f[1]) == core.WorkerHeader && bytes.Equal(f[2], []byte{byte(core.Heartbeat)})
}

// ExactLatency makes every delivery check guarantee 8: the latency must be exactly
// 4 × Latency + the service time of the worker that answered. Use it only without
// faults and with an idle worker for every request.
func (s *System) ExactLatency() { s.exact = true }

func (s *System) delivered(h *clientHost, o *core.Output) {
	if !s.exact || len(o.Body) < 2 {
		return
	}
	who := string(o.Body[len(o.Body)-1])
	i := slices.IndexFunc(s.workers, func(w *workerHost) bool { return w.name == who })
	if i < 0 {
		return
	}
	want := 4*s.cfg.Latency + s.workers[i].svcTime
	if got := s.now().Sub(s.started[clientKey{h.name, o.Seq}]); got != want {
		s.k.violate(s.now(), G8ExactLatency, "%s seq=%d latency %v, want 4 × %v + %v = %v", h.name, o.Seq, got, s.cfg.Latency, s.workers[i].svcTime, want)
	}
}

func (s *System) failedReq(h *clientHost, o *core.Output) {
	if s.exact {
		s.k.violate(s.now(), G8ExactLatency, "%s seq=%d failed (%v) without faults", h.name, o.Seq, o.Reason)
	}
}

// ClientStats returns the counters of client i.
func (s *System) ClientStats(i int) core.ClientStats { return s.clients[i].c.Stats() }
