package sim

import (
	"fmt"
	"io"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// Epoch is the virtual instant every run starts at.
var Epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// Options are the knobs of a run that are not part of the scenario.
type Options struct {
	// Trace, when not nil, gets the trace: one human-readable line per event.
	Trace io.Writer
	// Samples keeps every successful request's (end, latency) in Result.Samples.
	Samples bool
	// Source is what names the scenario in the replay command (a catalogue name or a
	// file path); empty means the scenario's name.
	Source string
	// SwarmFlag adds --swarm to the replay command: the fault profile was drawn from
	// the seed although the scenario does not say Swarm.
	SwarmFlag bool

	// Observer, when not nil, sees every broker step and every client request and
	// ending (see Observer).
	Observer Observer
	// Empty starts a World with the broker only: the scenario's workers and clients
	// are not created (its network, broker, worker and client settings still apply)
	// and the driver adds them (World.AddWorker, World.AddClient). The sim's own
	// checker records no violations in an empty World, since its checks assume the
	// scenario's workload: the Observer checks. Run ignores Empty.
	Empty bool
	// SignReplies has every worker append its node name as a last body frame to each
	// reply, so that a checker can tell which worker answered. Run ignores it.
	SignReplies bool
}

// Violation is one broken guarantee.
type Violation struct {
	Guarantee string        `json:"guarantee"` // e.g. "G3 dispatch-to-live-idle-worker"
	At        time.Duration `json:"at"`        // virtual time since the start
	Line      string        `json:"line"`      // the trace line of the event that broke it
	Detail    string        `json:"detail"`    // what the checker saw
	Replay    string        `json:"replay"`    // the command that replays the run
}

// String returns the violation in one line plus its replay command.
func (v Violation) String() string {
	return v.Guarantee + " at " + formatTime(v.At) + ": " + v.Detail + "\n    trace: " + v.Line + "\n    replay: " + v.Replay
}

// Sample is one successful request: when it ended and its latency, in virtual time.
type Sample struct {
	End     time.Duration
	Latency time.Duration
}

// Result is what a run yields. Everything but Wall (and Samples' memory) is a pure
// function of (scenario, seed).
type Result struct {
	Scenario    string        `json:"scenario"`
	Seed        uint64        `json:"seed"`
	Fingerprint string        `json:"fingerprint"` // hash of the trace, 16 hex digits
	TraceLines  uint64        `json:"trace_lines"`
	Exact       bool          `json:"exact"` // guarantee 8's exact-latency check applied
	Metrics     Metrics       `json:"metrics"`
	Violations  []Violation   `json:"violations"`
	Profile     *RandomFaults `json:"swarm_profile,omitempty"` // the drawn fault profile of a swarm run
	Replay      string        `json:"replay"`
	// Decisions are the random fault decisions the run made, in order: replaying them
	// (Faults.Replay) gives the same run.
	Decisions []Decision `json:"-"`
	Samples   []Sample   `json:"-"`
	Wall      Wall       `json:"-"`
	Panic     string     `json:"-"` // the stack of a panic, when one stopped the run
}

// OK reports whether every guarantee held.
func (r *Result) OK() bool { return len(r.Violations) == 0 }

// ReplayCommand returns the command that replays a run of source with seed.
func ReplayCommand(source string, seed uint64, swarm bool) string {
	cmd := "go run ./cmd/ebsim run " + quoteArg(source) + " --seed " + strconv.FormatUint(seed, 10)
	if swarm {
		cmd += " --swarm"
	}
	return cmd
}

func quoteArg(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t'\"\\$`") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// Run runs scenario sc with seed and returns its result; the error is for an invalid
// scenario or a trace that could not be written. A broken guarantee is not an error:
// it is in Result.Violations. Run is NewWorld, the checker's scan, then the World run
// until every client has finished its workload.
func Run(sc Scenario, seed uint64, opt Options) (*Result, error) {
	opt.Empty, opt.SignReplies = false, false
	wall := time.Now()
	w, err := NewWorld(sc, seed, opt)
	if err != nil {
		return nil, err
	}
	r := w.r
	r.chk.begin()
	r.loop()
	elapsed := time.Since(wall)
	res := r.result()
	res.Profile = w.profile
	res.Wall = Wall{Elapsed: elapsed}
	if s := elapsed.Seconds(); s > 0 {
		res.Wall.EventsPerSecond = float64(res.Metrics.Events) / s
		res.Wall.VirtualPerWallRatio = res.Metrics.Virtual.Seconds() / s
	}
	if err := r.tr.flush(); err != nil {
		return res, fmt.Errorf("sim: trace: %w", err)
	}
	return res, nil
}

// run is the state of one simulation: the clock, the network, the nodes, and the
// checker, metrics and trace that watch them. One goroutine owns it.
type run struct {
	sc      Scenario
	seed    uint64
	opt     Options
	streams Streams
	clock   *mem.Clock
	net     *mem.Network
	replay  string

	broker  *brokerNode
	workers []*workerNode
	clients []*clientNode
	hostile *hostileNode
	faults  *faultState

	tr  tracer
	chk checker
	m   metrics

	active   int  // clients that have not finished their workload
	done     bool // every client finished: the run stops
	end      time.Duration
	exact    bool // guarantee 8 applies: no faults, no jitter, no skew
	handled  uint64
	panicked string
	targets  []string // the services clients send requests to

	obs     Observer // sees every broker step and client outcome; nil: none
	checkOn bool     // the sim's own checker records violations (not in an empty World)
}

// Node indices: the broker is 0, then the workers, the clients and the hostile peer.
const brokerIdx = 0

func newRun(sc Scenario, seed uint64, opt Options) *run {
	r := &run{sc: sc, seed: seed, opt: opt, streams: NewStreams(seed)}
	r.clock = mem.NewClock(Epoch)
	r.net = mem.NewNetwork(r.clock, mem.Config{
		Latency: sc.Network.Latency,
		Jitter:  sc.Network.Jitter,
		Rand:    r.streams.Stream("network"),
	})
	r.tr = newTracer(opt.Trace)
	r.targets = sc.Clients.Services
	if len(r.targets) == 0 {
		for _, sv := range sc.Services {
			r.targets = append(r.targets, sv.Name)
		}
	}
	names := []string{"broker"}
	r.broker = newBrokerNode(r)
	r.obs = opt.Observer
	r.checkOn = !opt.Empty
	k := 0
	for _, sv := range sc.Services {
		if opt.Empty {
			break
		}
		for range sv.Workers {
			k++
			w := newWorkerNode(r, len(names), "w"+strconv.Itoa(k), sv)
			r.workers = append(r.workers, w)
			names = append(names, w.name)
		}
	}
	for j := range sc.Clients.Count {
		if opt.Empty {
			break
		}
		c := newClientNode(r, len(names), j)
		r.clients = append(r.clients, c)
		names = append(names, c.name)
	}
	r.hostile = newHostileNode(r, len(names))
	names = append(names, r.hostile.name)
	r.tr.names = names
	r.chk.init(r)
	r.m.faults = map[string]uint64{}
	r.m.lat = make([]time.Duration, 0, 4096)
	if opt.Samples {
		r.m.samples = make([]sample, 0, 1024)
	}
	r.faults = newFaultState(r)
	r.exact = sc.Network.Jitter == 0 && !sc.Swarm && !opt.SwarmFlag && r.faults.none()
	return r
}

// now returns the virtual time since the start.
func (r *run) now() time.Duration { return r.clock.Since() }

// begin starts every node and the fault schedule at time zero; the checker's scan
// is started by Run (an empty World leaves checking to its observer).
func (r *run) begin() {
	r.broker.up()
	for _, w := range r.workers {
		w.start()
	}
	r.active = len(r.clients)
	for _, c := range r.clients {
		c.begin()
	}
	r.faults.begin()
}

// loop runs events until every client has finished or a panic stops the run.
func (r *run) loop() {
	defer r.catch()
	for !r.done && r.clock.Step() {
	}
	if !r.done {
		r.end = r.now()
	}
}

// catch, deferred, turns a panic of a state machine into a violation that stops the
// run.
func (r *run) catch() {
	if p := recover(); p != nil {
		r.panicked = string(debug.Stack())
		r.violate(GNoPanic, "a state machine panicked: "+fmt.Sprint(p), "panic: "+fmt.Sprint(p))
		r.end = r.now()
	}
}

// workerAt returns the worker node at node index i, or nil.
func (r *run) workerAt(i int) *workerNode {
	if i >= 1 && i <= len(r.workers) && r.workers[i-1].idx == i {
		return r.workers[i-1]
	}
	for _, w := range r.workers {
		if w.idx == i {
			return w
		}
	}
	return nil
}

// clientAt returns the client node at node index i, or nil.
func (r *run) clientAt(i int) *clientNode {
	if j := i - 1 - len(r.workers); j >= 0 && j < len(r.clients) && r.clients[j].idx == i {
		return r.clients[j]
	}
	for _, c := range r.clients {
		if c.idx == i {
			return c
		}
	}
	return nil
}

// clientFinished is called once per client when its workload is over.
func (r *run) clientFinished() {
	r.active--
	if r.active == 0 {
		r.done = true
		r.end = r.now()
	}
}

// violate records a broken guarantee; in an empty World only a panic is recorded (the
// driver's observer does the checking).
func (r *run) violate(g, detail, line string) {
	if !r.checkOn && g != GNoPanic {
		return
	}
	r.chk.violations = append(r.chk.violations, Violation{
		Guarantee: g, At: r.now(), Line: line, Detail: detail, Replay: r.replay,
	})
}

// traceLine renders the trace line of an output, for a violation.
func (r *run) traceLine(node int, o *core.Output) string {
	return formatTime(r.now()) + " " + r.tr.names[node] + " " + o.String()
}

// result gathers the figures at the end of the run.
func (r *run) result() *Result {
	m := &r.m
	st := r.net.Stats()
	res := &Result{
		Scenario:    r.sc.Name,
		Seed:        r.seed,
		Fingerprint: r.tr.fingerprint(),
		TraceLines:  r.tr.lines,
		Exact:       r.exact,
		Violations:  r.chk.violations,
		Replay:      r.replay,
		Decisions:   r.faults.decisions,
		Panic:       r.panicked,
		Metrics: Metrics{
			Requests:  m.requests,
			Successes: m.successes,
			Failures:  byReason(&m.failures),
			Hung:      m.hung,
			StuckBusy: r.chk.stuckBusy(),
			Attempts:  m.attempts,
			Retries:   m.retries,
			Discarded: byReason(&m.discarded),
			Requeues:  m.requeues,
			Purged:    m.purged,
			Removed:   byReason(&m.removed),
			Dropped:   byReason(&m.dropped),
			Messages:  map[string]uint64{},
			Network: NetworkFigures{
				Sent: st.Sent, Delivered: st.Delivered, Dropped: st.Dropped(),
				Duplicated: st.Duplicated, Delayed: st.Delayed,
			},
			Faults:  m.faults,
			Latency: latencyFigures(m.lat),
			Virtual: r.end,
			Events:  r.clock.Events(),
		},
	}
	if res.Violations == nil {
		res.Violations = []Violation{}
	}
	for p := range 2 {
		for c, n := range m.messages[p] {
			if n > 0 {
				res.Metrics.Messages[messageKey(core.Protocol(p+1), core.Command(c))] = n
			}
		}
	}
	if r.end > 0 {
		res.Metrics.Throughput = float64(m.successes) / r.end.Seconds()
	}
	if r.opt.Samples {
		res.Samples = make([]Sample, len(m.samples))
		for i, s := range m.samples {
			res.Samples[i] = Sample(s)
		}
	}
	return res
}
