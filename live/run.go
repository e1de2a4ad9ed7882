package live

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// Options are the knobs of a live run that are not part of the scenario.
type Options struct {
	// Exec is a shell command that starts the broker, with {frontend} and {backend}
	// placeholders (as ebconform wire --exec). Empty means BrokerBin. With Exec the
	// clients run in standard MDP mode and there are no broker events: the checks
	// that need them are named as not judged.
	Exec string
	// BrokerBin is the ebbroker executable (when Exec is empty).
	BrokerBin string
	// WorkerBin and WorkerArgs start a worker: WorkerBin WorkerArgs... FLAGS runs
	// WorkerMain (cmd/ebconform: its own executable and "live-worker").
	WorkerBin  string
	WorkerArgs []string
	// Dir holds the broker's event files; empty means a temporary directory, removed
	// at the end.
	Dir string
	// Log, when not nil, gets a line per fault applied, as it happens.
	Log io.Writer
}

// startup bounds how long the workers have to register before the run starts.
const startup = 15 * time.Second

// workerSlot is one worker node (w1, w2, ...) and its current process.
type workerSlot struct {
	name    string
	flags   workerFlags
	proxy   *Proxy
	mu      sync.Mutex
	p       *proc
	inc     int
	crashed bool
	paused  bool
	deaths  []string
}

// run is one live run in progress.
type run struct {
	ctx     context.Context // the run's: it ends the broker's restarts too
	sc      sim.Scenario
	seed    uint64
	opt     Options
	broker  *brokerProc
	workers []*workerSlot
	clients []*clientRun
	cprox   []*Proxy
	epoch   time.Time
	mu      sync.Mutex
	applied []FaultNote
	skipped map[string]bool
	timers  []*time.Timer
	// failures are the run's own breakdowns (a broker that could not start again),
	// reported as violations: the run did not test what it set out to.
	failures []string
	hostile  hostile
}

// FaultNote is one fault the live run applied.
type FaultNote struct {
	At   time.Duration `json:"at"`
	Kind string        `json:"kind"`
	Node string        `json:"node,omitempty"`
	For  time.Duration `json:"for,omitempty"`
}

// Run runs scenario sc live with seed, after running it in the simulation (whose
// random process-fault decisions it replays on the wall clock), and returns both.
// The error is for an invalid scenario or a run that could not be set up; a broken
// guarantee is in Result.Violations.
func Run(ctx context.Context, sc sim.Scenario, seed uint64, opt Options) (*Result, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	if sc.Swarm {
		return nil, errors.New("live: swarm scenarios draw their faults per seed for sweeps; run them in ebsim")
	}
	simRes, err := sim.Run(sc, seed, sim.Options{Samples: true})
	if err != nil {
		return nil, err
	}
	sc = sc.WithDefaults()
	if opt.Exec == "" && opt.BrokerBin == "" {
		return nil, errors.New("live: no broker: give Options.BrokerBin or Options.Exec")
	}
	if opt.WorkerBin == "" {
		return nil, errors.New("live: no worker program: give Options.WorkerBin")
	}
	dir := opt.Dir
	if dir == "" {
		if dir, err = os.MkdirTemp("", "ebwrk-live"); err != nil {
			return nil, fmt.Errorf("live: %w", err)
		}
		defer os.RemoveAll(dir)
	}
	r := &run{ctx: ctx, sc: sc, seed: seed, opt: opt, skipped: map[string]bool{}}
	if r.broker, err = newBrokerProc(opt.Exec, opt.BrokerBin, sc, dir); err != nil {
		return nil, err
	}
	defer r.teardown()
	if err := r.broker.start(ctx); err != nil {
		return nil, err
	}
	if err := r.setup(ctx); err != nil {
		return nil, err
	}
	r.epoch = time.Now()
	for _, w := range r.workers {
		w.mu.Lock()
		w.flags.epoch = r.epoch
		if _, err := io.WriteString(w.p.stdin, "epoch "+strconv.FormatInt(r.epoch.UnixNano(), 10)+"\n"); err != nil {
			w.mu.Unlock()
			return nil, fmt.Errorf("live: tell %s the epoch: %w", w.name, err)
		}
		w.mu.Unlock()
	}
	r.schedule(simRes.Decisions)
	r.runClients(ctx)
	end := time.Since(r.epoch)
	r.stopTimers()
	res := r.collect(end)
	res.Sim = simRes
	return res, ctx.Err()
}

// setup starts the proxies and the worker processes, and waits until every worker
// has registered (ebbroker's events), or until every service answers mmi.service
// with 200 (a broker started by --exec).
func (r *run) setup(ctx context.Context) error {
	sc := &r.sc
	lat := sc.Network.Latency + sc.Network.Jitter
	proxy := func(upstream string, i int) (*Proxy, error) {
		p, err := NewProxy(upstream, r.seed*1000+uint64(i))
		if err != nil {
			return nil, err
		}
		if lat >= minModelledLatency {
			p.SetLatency(sc.Network.Latency, sc.Network.Jitter)
		}
		return p, nil
	}
	k := 0
	for _, sv := range sc.Services {
		for range sv.Workers {
			k++
			p, err := proxy(r.broker.backend, k)
			if err != nil {
				return err
			}
			if h := sc.Faults.Random.HeartbeatLoss; h > 0 {
				p.LoseHeartbeats(sc.Faults.Random.HeartbeatDirection, h, 0)
			}
			w := &workerSlot{name: "w" + strconv.Itoa(k), proxy: p}
			w.flags = workerFlags{
				backend: p.Endpoint(), service: sv.Name, name: w.name,
				hb: sc.Worker.Heartbeat, liveness: sc.Worker.Liveness,
				recInit: sc.Worker.ReconnectInitial, recMax: sc.Worker.ReconnectMax,
				credit: max(sv.Credit, 1), dist: sv.Time, seed: r.seed*1000 + uint64(k),
				slowProb: sc.Faults.Random.Slow, slowTime: sc.Faults.Random.SlowTime,
			}
			for _, e := range sc.Faults.Events {
				if e.Kind == sim.FamSlow && (e.Node == "" || e.Node == w.name) {
					w.flags.windows = append(w.flags.windows, slowWindow{e.At, e.For, e.Delay})
				}
			}
			r.workers = append(r.workers, w)
			if err := r.startWorker(w); err != nil {
				return err
			}
		}
	}
	targets := sc.Clients.Services
	if len(targets) == 0 {
		for _, sv := range sc.Services {
			targets = append(targets, sv.Name)
		}
	}
	bound := sc.Clients.Timeout*time.Duration(sc.Clients.Attempts) + hangBound
	for j := range sc.Clients.Count {
		p, err := proxy(r.broker.frontend, 500+j)
		if err != nil {
			return err
		}
		r.cprox = append(r.cprox, p)
		c, err := zmq.NewClient(p.Endpoint(), zmq.ClientOptions{Timeout: sc.Clients.Timeout,
			Attempts: sc.Clients.Attempts, Standard: r.opt.Exec != ""})
		if err != nil {
			return err
		}
		r.clients = append(r.clients, &clientRun{name: "c" + strconv.Itoa(j+1), num: j, sc: sc, targets: targets,
			c: c, bound: bound, rng: rand.New(rand.NewPCG(r.seed, uint64(j+1)))})
	}
	return r.waitRegistered(ctx)
}

// minModelledLatency is the least network latency the proxies add: below it the
// loopback's own latency and the ZeroMQ I/O threads stand in for the model's.
const minModelledLatency = time.Millisecond

// hangBound is how long past timeout × attempts a request may go on before the run
// cuts it off and reports it hung.
const hangBound = 5 * time.Second

// startWorker starts a new process for w.
func (r *run) startWorker(w *workerSlot) error {
	args := append(append([]string(nil), r.opt.WorkerArgs...), w.flags.args()...)
	p, err := startProc(w.name, r.opt.WorkerBin, args)
	if err != nil {
		return err
	}
	w.p = p
	w.inc++
	w.crashed, w.paused = false, false
	return nil
}

// waitRegistered waits until the workers are ready to serve.
func (r *run) waitRegistered(ctx context.Context) error {
	end := time.Now().Add(startup)
	for {
		ready := false
		if r.broker.events() {
			ready = r.broker.countJoined() >= len(r.workers)
		} else {
			ready = r.mmiReady(ctx)
		}
		if ready {
			return nil
		}
		for _, w := range r.workers {
			if !w.p.alive() {
				return fmt.Errorf("live: worker %s exited at start: %s", w.name, w.p.died())
			}
		}
		if time.Now().After(end) {
			return fmt.Errorf("live: the workers did not register within %v", startup)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// mmiReady asks the broker whether every service has a worker.
func (r *run) mmiReady(ctx context.Context) bool {
	c := r.clients[0].c
	for _, sv := range r.sc.Services {
		rctx, cancel := context.WithTimeout(ctx, time.Second)
		rep, err := c.Request(rctx, "mmi.service", []byte(sv.Name))
		cancel()
		if err != nil || len(rep) != 1 || string(rep[0]) != "200" {
			return false
		}
	}
	return true
}

// runClients runs every client's workload and waits until all have ended.
func (r *run) runClients(ctx context.Context) {
	cs := &r.sc.Clients
	bound := cs.Duration + cs.Timeout*time.Duration(cs.Attempts) + hangBound
	if cs.Requests > 0 && cs.Duration == 0 {
		bound = 10*time.Minute + bound
	}
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	var wg sync.WaitGroup
	for _, c := range r.clients {
		c.epoch = r.epoch
		wg.Go(func() { c.run(ctx) })
	}
	wg.Wait()
}

// teardown ends every process and proxy.
func (r *run) teardown() {
	r.stopTimers()
	r.hostile.close()
	for _, c := range r.clients {
		_ = c.c.Close()
	}
	var wg sync.WaitGroup
	for _, w := range r.workers {
		wg.Go(func() {
			w.mu.Lock()
			p := w.p
			w.mu.Unlock()
			p.end(2 * time.Second)
		})
	}
	wg.Wait()
	r.broker.stop()
	for _, p := range r.cprox {
		_ = p.Close()
	}
	for _, w := range r.workers {
		_ = w.proxy.Close()
	}
}

// stopTimers stops the fault timers not fired yet.
func (r *run) stopTimers() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range r.timers {
		t.Stop()
	}
	r.timers = nil
}

// liveness returns the broker's heartbeat interval and liveness in force.
func (r *run) liveness() (time.Duration, int) {
	return cmp.Or(r.sc.Broker.Heartbeat, core.DefaultHeartbeatInterval), cmp.Or(r.sc.Broker.Liveness, core.DefaultLiveness)
}
