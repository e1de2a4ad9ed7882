package conformance

import (
	"fmt"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// Epoch is the virtual instant every World starts at (sim.Epoch).
var Epoch = sim.Epoch

// WorldConfig configures a World.
type WorldConfig struct {
	Broker  core.BrokerConfig
	Latency time.Duration     // one-way network latency, no jitter; 0 means sim's default 100µs
	Worker  core.WorkerConfig // template for every worker (Service and Credit are set per worker)
}

// scenario is the sim scenario of a World with cfg: the network, broker and worker
// settings; the World is Empty, so the scenario's own service and clients (which
// Validate requires) are never created.
func (cfg WorldConfig) scenario() sim.Scenario {
	b := cfg.Broker
	death := "requeue"
	if b.OnWorkerDeath == core.FailRequest {
		death = "fail"
	}
	return sim.Scenario{
		Name:    "conformance",
		Network: sim.NetworkSpec{Latency: cfg.Latency},
		Broker: sim.BrokerSpec{
			Heartbeat: b.HeartbeatInterval, Liveness: b.Liveness, QueueLimit: b.QueueLimit,
			QueueExpiry: b.QueueExpiry, OnWorkerDeath: death, HoldLimit: max(b.HoldLimit, 0),
		},
		Worker: sim.WorkerSpec{
			Heartbeat: cfg.Worker.HeartbeatInterval, Liveness: cfg.Worker.Liveness,
			ReconnectInitial: cfg.Worker.ReconnectInitial, ReconnectMax: cfg.Worker.ReconnectMax,
		},
		Services: []sim.ServiceSpec{{Name: "echo"}},
		Clients:  sim.ClientSpec{Requests: 1},
	}
}

// World is a sim.World — the broker, clients and workers, the real core state
// machines on transport/mem with a virtual clock — watched by a Checker: every broker
// step and every client request and ending goes to the Checker as it happens. It is
// the world of the property tests, scripted scenarios and fuzz targets: each method is
// one action on the sim.World, and Log lists the actions taken so far as Go-like
// lines. Workers sign their replies (sim.Options.SignReplies) and are Answerers.
type World struct {
	w       *sim.World
	k       *Checker
	cfgs    []core.ClientConfig
	nreq    []int           // requests made per client, for unique bodies
	svc     []time.Duration // service time per worker, for guarantee 8
	started map[clientKey]time.Time
	log     []string
	exact   bool // guarantee 8 is checked on every delivery
	panic   bool // a panic was reported
}

// NewWorld starts an empty World with cfg at Epoch: the broker only.
func NewWorld(cfg WorldConfig) (*World, error) {
	s := &World{started: map[clientKey]time.Time{}}
	w, err := sim.NewWorld(cfg.scenario(), 1, sim.Options{Empty: true, SignReplies: true, Observer: worldObserver{s}})
	if err != nil {
		return nil, fmt.Errorf("conformance: %w", err)
	}
	s.w = w
	s.k = NewChecker(cfg.Broker, w.Now())
	return s, nil
}

// worldObserver feeds a World's sim.World to its Checker.
type worldObserver struct{ s *World }

func (o worldObserver) BrokerStep(now time.Time, in sim.BrokerInput, outs []core.Output, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	o.s.k.BrokerStep(now, Input{Kind: InputKind(in.Kind), Peer: in.Peer, Frames: in.Frames}, outs, ws, ss)
}

func (o worldObserver) BrokerRestarted(time.Time) { o.s.k.BrokerRestarted() }

func (o worldObserver) ClientRequest(now time.Time, client string, cfg core.ClientConfig, seq uint64, service string, body [][]byte) {
	o.s.k.ClientRequest(now, client, cfg, seq, service, body)
	o.s.started[clientKey{client, seq}] = now
}

func (o worldObserver) ClientEnded(now time.Time, client string, out *core.Output) {
	s := o.s
	if out.Kind == core.FailOutput {
		s.k.ClientFail(now, client, out.Seq, out.Reason, out.Attempts)
		if s.exact {
			s.k.violate(now, G8ExactLatency, "%s seq=%d failed (%v) without faults", client, out.Seq, out.Reason)
		}
		return
	}
	s.k.ClientDeliver(now, client, out.Seq, out.Service, out.Body)
	s.delivered(now, client, out)
}

// delivered checks guarantee 8 on a reply, when asked (ExactLatency).
func (s *World) delivered(now time.Time, client string, o *core.Output) {
	if !s.exact || len(o.Body) < 2 {
		return
	}
	who := string(o.Body[len(o.Body)-1])
	n, err := strconv.Atoi(who[min(1, len(who)):])
	if len(who) < 2 || who[0] != 'w' || err != nil || n < 1 || n > len(s.svc) {
		return
	}
	lat := s.w.Scenario().Network.Latency
	want := 4*lat + s.svc[n-1]
	if got := now.Sub(s.started[clientKey{client, o.Seq}]); got != want {
		s.k.violate(now, G8ExactLatency, "%s seq=%d latency %v, want 4 × %v + %v = %v", client, o.Seq, got, lat, s.svc[n-1], want)
	}
}

// Sim returns the sim.World underneath.
func (s *World) Sim() *sim.World { return s.w }

// Now returns the virtual time.
func (s *World) Now() time.Time { return s.w.Now() }

// Checker returns the world's checker.
func (s *World) Checker() *Checker { return s.k }

// Broker returns the running core broker.
func (s *World) Broker() *core.Broker { return s.w.Broker() }

// Log returns the actions taken so far, one per line.
func (s *World) Log() []string { return s.log }

// logf logs an action and reports a panic it caused to the checker, once.
func (s *World) logf(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf("%v: ", s.w.Elapsed())+fmt.Sprintf(format, args...))
	if p := s.w.Panic(); p != "" && !s.panic {
		s.panic = true
		s.k.violate(s.w.Now(), G7Malformed, "a state machine panicked after %s:\n%s", s.log[len(s.log)-1], p)
	}
}

// Clients returns how many clients were added.
func (s *World) Clients() int { return s.w.Clients() }

// Workers returns how many workers were added.
func (s *World) Workers() int { return s.w.Workers() }

// WorkerNode returns the node name of worker i.
func (s *World) WorkerNode(i int) string { return s.w.WorkerNode(i) }

// ClientNode returns the node name of client i.
func (s *World) ClientNode(i int) string { return s.w.ClientNode(i) }

// AddClient adds a client (named c1, c2, ...) and returns its index.
func (s *World) AddClient(cfg core.ClientConfig) int {
	i := s.w.AddClient(cfg)
	s.cfgs = append(s.cfgs, cfg)
	s.nreq = append(s.nreq, 0)
	s.logf("AddClient(%+v) = %s", cfg, s.w.ClientNode(i))
	return i
}

// Request has client i send a request to service with a unique body "<client>#<n>";
// in standard mode a client sends only when it has nothing outstanding (the request
// is skipped otherwise).
func (s *World) Request(i int, service string) {
	if s.cfgs[i].Standard && s.w.ClientOutstanding(i) > 0 {
		return
	}
	name := s.w.ClientNode(i)
	s.nreq[i]++
	seq := s.w.Request(i, service, [][]byte{[]byte(name + "#" + strconv.Itoa(s.nreq[i]))})
	s.logf("Request(%s, %q) seq=%d", name, service, seq)
}

// Lookup has client i ask mmi.service about name (or, with short, mmi.<name>).
func (s *World) Lookup(i int, name string, short bool) {
	if s.cfgs[i].Standard && s.w.ClientOutstanding(i) > 0 {
		return
	}
	s.nreq[i]++
	if short {
		s.w.Request(i, "mmi."+name, [][]byte{})
	} else {
		s.w.Request(i, "mmi.service", [][]byte{[]byte(name)})
	}
	s.logf("Lookup(%s, %q, short=%t)", s.w.ClientNode(i), name, short)
}

// AddWorker starts a worker (named w1, w2, ...) for service, answering after svcTime,
// and returns its index.
func (s *World) AddWorker(service string, svcTime time.Duration) int {
	return s.AddCreditWorker(service, svcTime, 1)
}

// AddCreditWorker is AddWorker for a worker that holds up to credit requests at once
// (core.WorkerConfig.Credit); its service times are then drawn uniformly from
// [svcTime/2, 3 svcTime/2], so that its replies overtake one another.
func (s *World) AddCreditWorker(service string, svcTime time.Duration, credit int) int {
	d := sim.Dist{Kind: sim.Constant, Mean: svcTime}
	if credit > 1 {
		d = sim.Dist{Kind: sim.Uniform, Min: svcTime / 2, Max: svcTime * 3 / 2}
	}
	i := s.w.AddWorker(service, d, credit)
	s.svc = append(s.svc, svcTime)
	s.k.Answerer(s.w.WorkerNode(i))
	if credit > 1 {
		s.logf("AddCreditWorker(%q, %v, %d) = %s", service, svcTime, credit, s.w.WorkerNode(i))
	} else {
		s.logf("AddWorker(%q, %v) = %s", service, svcTime, s.w.WorkerNode(i))
	}
	return i
}

// KillWorker kills worker i as SIGKILL does: no DISCONNECT, its connection is cut.
func (s *World) KillWorker(i int) {
	s.w.Kill(i)
	s.logf("KillWorker(%s)", s.w.WorkerNode(i))
}

// StopWorker has worker i leave politely: DISCONNECT, then nothing.
func (s *World) StopWorker(i int) {
	s.w.Stop(i)
	s.logf("StopWorker(%s)", s.w.WorkerNode(i))
}

// PauseWorker freezes worker i.
func (s *World) PauseWorker(i int) {
	s.w.Pause(i)
	s.logf("PauseWorker(%s)", s.w.WorkerNode(i))
}

// ResumeWorker thaws worker i.
func (s *World) ResumeWorker(i int) {
	s.w.Resume(i)
	s.logf("ResumeWorker(%s)", s.w.WorkerNode(i))
}

// DropHeartbeats drops every HEARTBEAT to and from node for d.
func (s *World) DropHeartbeats(node string, d time.Duration) {
	s.w.DropHeartbeats(node, d)
	s.logf("DropHeartbeats(%s, %v)", node, d)
}

// Partition cuts node off the broker until Heal.
func (s *World) Partition(node string) {
	s.w.Partition(node)
	s.logf("Partition(%s)", node)
}

// Heal ends the partition of node.
func (s *World) Heal(node string) {
	s.w.Heal(node)
	s.logf("Heal(%s)", node)
}

// RestartBroker crashes the broker and starts a new, empty one.
func (s *World) RestartBroker() {
	s.w.RestartBroker()
	s.logf("RestartBroker()")
}

// Inject has the hostile peer send frames to the broker's socket sock.
func (s *World) Inject(sock core.Socket, frames [][]byte) {
	s.w.Inject(sock&1, frames)
	s.logf("Inject(%v, %q)", sock, frames)
}

// Advance lets d of virtual time pass, running every event in it.
func (s *World) Advance(d time.Duration) {
	s.w.Advance(d)
	s.k.Tick(s.w.Now())
	s.logf("Advance(%v)", d)
}

// Settle ends every fault (partitions healed, heartbeat loss over, paused workers
// resumed) and runs until every client request has ended, or until the longest
// request bound has passed; then Finish checks that none is left open.
func (s *World) Settle() {
	s.w.EndFaults()
	longest := time.Duration(0)
	for _, cfg := range s.cfgs {
		cfg = clientDefaults(cfg)
		longest = max(longest, cfg.Timeout*time.Duration(cfg.Attempts))
	}
	s.w.RunWhile(func() bool { return s.k.Outstanding() > 0 }, s.w.Now().Add(longest+endTolerance))
	s.k.Finish(s.w.Now())
	s.logf("Settle()")
}

// ExactLatency makes every delivery check guarantee 8: the latency must be exactly
// 4 × the network latency + the service time of the worker that answered. Use it only
// without faults, with an idle worker for every request and no credit workers.
func (s *World) ExactLatency() { s.exact = true }

// ClientStats returns the counters of client i.
func (s *World) ClientStats(i int) core.ClientStats { return s.w.ClientStats(i) }
