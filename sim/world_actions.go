package sim

import (
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// Outcome is where a request stands.
type Outcome struct {
	Done     bool        // it ended: a reply was accepted or it failed
	OK       bool        // it ended with a reply
	Reason   core.Reason // why it failed
	Attempts int         // the attempts it took so far
}

// AddWorker starts a worker process (node "w<n>") for service, whose application
// answers each request after a service time drawn from t, holding up to credit
// requests at once (core.WorkerConfig.Credit; 0 or 1: one). The worker settings are
// the scenario's. It returns the worker's index.
func (w *World) AddWorker(service string, t Dist, credit int) int {
	r := w.r
	if t.Kind == "" {
		t.Kind = Constant
	}
	idx, name := len(r.tr.names), "w"+strconv.Itoa(len(r.workers)+1)
	wn := newWorkerNode(r, idx, name, ServiceSpec{Name: service, Workers: 1, Time: t, Credit: credit})
	r.workers = append(r.workers, wn)
	r.tr.names = append(r.tr.names, name)
	r.faults.nodeIdx[name] = idx
	w.guard(wn.start)
	return len(r.workers) - 1
}

// AddClient connects a client (node "c<n>") with cfg and no workload: the driver makes
// its requests (Request). It returns the client's index.
func (w *World) AddClient(cfg core.ClientConfig) int {
	r := w.r
	idx := len(r.tr.names)
	c := newClientNodeWith(r, idx, len(r.clients), cfg)
	c.manual, c.stopped = true, true
	r.clients = append(r.clients, c)
	r.tr.names = append(r.tr.names, c.name)
	r.faults.nodeIdx[c.name] = idx
	w.guard(c.connect)
	return len(r.clients) - 1
}

// Workers returns how many workers the World has; Clients how many clients.
func (w *World) Workers() int { return len(w.r.workers) }

// Clients returns how many clients the World has.
func (w *World) Clients() int { return len(w.r.clients) }

// WorkerNode returns the node name of worker i.
func (w *World) WorkerNode(i int) string { return w.r.workers[i].name }

// ClientNode returns the node name of client i.
func (w *World) ClientNode(i int) string { return w.r.clients[i].name }

// Request has client i make a request to service with body and returns its sequence
// number (0 if the World has stopped).
func (w *World) Request(i int, service string, body [][]byte) uint64 {
	var seq uint64
	w.guard(func() { seq = w.r.clients[i].request(service, body) })
	return seq
}

// Outcome returns where request seq of client i stands.
func (w *World) Outcome(i int, seq uint64) Outcome {
	rq := w.r.clients[i].req(seq)
	if rq == nil {
		return Outcome{}
	}
	return Outcome{Done: rq.done, OK: rq.ok, Reason: rq.reason, Attempts: rq.attempts}
}

// ClientOutstanding returns how many requests client i has not ended yet.
func (w *World) ClientOutstanding(i int) int { return w.r.clients[i].m.Outstanding() }

// ClientStats returns the counters of client i's core.Client.
func (w *World) ClientStats(i int) core.ClientStats { return w.r.clients[i].m.Stats() }

// Crash stops worker i's host without a word: no DISCONNECT, its connection stays
// open and unread (the broker learns only from silence).
func (w *World) Crash(i int) { w.guard(w.r.workers[i].crash) }

// Kill ends worker i's process as SIGKILL does: no DISCONNECT, its connection breaks.
func (w *World) Kill(i int) { w.guard(w.r.workers[i].kill) }

// Stop has worker i leave politely: DISCONNECT, then nothing.
func (w *World) Stop(i int) { w.guard(w.r.workers[i].stop) }

// RestartWorker ends worker i's process (its connection closes) and starts a new one.
func (w *World) RestartWorker(i int) { w.guard(w.r.workers[i].restart) }

// Pause freezes worker i's process: messages wait, timers and handlers stand still.
func (w *World) Pause(i int) { w.guard(w.r.workers[i].pause) }

// Resume thaws worker i's process.
func (w *World) Resume(i int) { w.guard(w.r.workers[i].resume) }

// Partition cuts node off the broker until Heal: messages both ways are lost.
func (w *World) Partition(node string) {
	w.r.faults.parted[node]++
	w.r.net.Partition(node, "broker")
}

// Heal ends every partition of node.
func (w *World) Heal(node string) {
	delete(w.r.faults.parted, node)
	w.r.net.Heal(node, "broker")
}

// DropHeartbeats drops every HEARTBEAT between node and the broker, both ways, for d
// (heartbeat loss on for d, then off).
func (w *World) DropHeartbeats(node string, d time.Duration) {
	f := w.r.faults
	f.apply(FaultEvent{Kind: FamHeartbeatLoss, Node: node, For: d, Direction: Both, Prob: 1})
	f.filterOn()
}

// EndFaults ends every fault in force: partitions healed, timed message and handler
// faults (heartbeat loss among them) over, paused workers resumed. Crashed workers
// stay crashed.
func (w *World) EndFaults() {
	r := w.r
	for _, n := range r.tr.names[1:] {
		r.net.Heal(n, "broker")
	}
	clear(r.faults.parted)
	clear(r.faults.windows)
	r.faults.windows = r.faults.windows[:0]
	for _, wn := range r.workers {
		w.guard(wn.resume)
	}
}

// RestartBroker kills the broker (its state is lost, nothing is sent) and starts an
// empty one on the same addresses at once.
func (w *World) RestartBroker() {
	w.guard(func() {
		w.r.broker.down()
		w.r.broker.up()
	})
}

// Inject has the hostile peer send frames, as they are, to the broker's socket s.
func (w *World) Inject(s core.Socket, frames [][]byte) {
	w.guard(func() { w.r.hostile.inject(s, frames) })
}

// Dial connects a raw peer from node to the broker's socket s; h gets what the broker
// sends it. Node must not be one of the World's own ("broker", "w<n>", "c<n>", "evil").
func (w *World) Dial(node string, s core.Socket, h func(frames [][]byte)) (*mem.Dealer, error) {
	addr := "front"
	if s == core.Backend {
		addr = "back"
	}
	return w.r.net.Connect(node, addr, h)
}

// StopBroker kills the broker and leaves it down (StartBroker brings it back).
func (w *World) StopBroker() { w.guard(w.r.broker.down) }

// StartBroker starts an empty broker if it is down.
func (w *World) StartBroker() {
	w.guard(func() {
		if !w.r.broker.isUp {
			w.r.broker.up()
		}
	})
}
