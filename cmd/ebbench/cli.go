package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

const benchUsage = `Usage: ebbench [flags]
       ebbench compare --baseline OLD-EBBROKER [flags]
       ebbench soak [--duration D] [flags]

ebbench measures an MDP broker on real sockets, in separate processes on 127.0.0.1:
it starts an ebbroker process (unless --frontend names a running broker), echo worker
processes and client processes (ebbench itself, with hidden subcommands), and prints
one row per measurement:

  raw sync            one plain DEALER and a plain ROUTER echo, one request at a
                      time: the limit of a round trip on this machine
  lockstep sync       one Client, one caller, through the broker to the workers
  raw pipelined       --clients DEALERs keeping --callers requests each in flight
  lockstep pipelined  --clients Client processes with --callers goroutines each
  raw open, lockstep open
                      after each pipelined row, an open loop offering half the rate
                      it reached (--requests/2 requests, issued on a schedule whatever
                      the replies): the latency of a system sized at half its peak

With --credit N, another --workers worker processes serve the service <service>.credit,
each holding up to N requests at once (WorkerOptions.Concurrency, the ebwrk credit),
and three more rows measure them: credit sync, credit pipelined and credit open. The
pipelined rows measure a peak only when more requests are in flight (--clients ×
--callers) than the workers hold: credit workers hold --workers × N, so for their
peak raise --callers past that (4 workers × 16 hold 64: 2 clients × --callers 64
keep 128 in flight); ebbench notes it on stderr when the window is not past it.

Request bodies are --size bytes (11 by default): the client's number, "/", and the
request's number with leading zeros, unique among the clients that run at once.

Each row has its rate, its latency p50/p99/p99.9/max (an HDR histogram merged across the
client processes), and lost: requests that got neither their own reply (checked byte
for byte) nor a typed failure. --json prints the measurements as a JSON list instead.

ebbench compare --baseline OLD-EBBROKER runs the lockstep rows against two ebbroker
binaries, round after round, and prints the ratio of their rates; see ebbench compare -h.

ebbench soak runs chaos instead: worker processes killed -9, stopped and continued,
restarted, and the broker killed and restarted, under clients with many callers; see
ebbench soak -h.

Exit status: 0 nothing lost, nothing answered wrongly and no process of ours died by
itself; 1 otherwise; 2 bad flags.

Flags:
`

const soakUsage = `Usage: ebbench soak [--duration D] [flags]

Chaos on real processes for --duration: --workers echo worker processes (each request
sleeps 0..--delay-max), of which one, about every --chaos-every, is killed -9 and
restarted, stopped (SIGSTOP) for up to 2 s and continued, or stopped with SIGTERM and
restarted; the broker process killed -9 and restarted --broker-restarts times, evenly
spread; --clients client processes with --callers goroutines each on one Client,
issuing requests back to back. At the end the clients stop issuing and every request
still outstanding gets --timeout × --attempts (plus 2 s) to end.

It reports requests, replies, mismatched replies, typed failures by reason, lost
requests, retries, the faults injected, and every process of ours that exited
without being told to, with the last lines of its stderr.

A request is lost when its Client.Request call returned neither its own reply nor a
typed failure (zmq.ErrTimeout, zmq.ErrRefused): an untyped error (zmq.ErrClosed, a
socket error), or no return within timeout × attempts + 2 s after the load ended.

Exit status: 0 nothing lost, no reply wrong, no process of ours died by itself;
1 otherwise; 2 bad flags.

Flags:
`

// common is what both modes share.
type common struct {
	brokerBin string
	frontend  string // a running broker; empty: start our own
	backend   string
	standard  bool
	plain     bool // plain MDP/0.1 DEALER workers
	service   string
	workers   int
	clients   int
	callers   int
	timeout   time.Duration
	attempts  int
	heartbeat time.Duration
	json      bool
	verbose   bool
	progress  bool // not a flag: stderr is a terminal
}

type benchConfig struct {
	common
	requests int // per measurement
	warmup   int
	credit   int  // the credit of the credit workers; 0: no credit rows
	size     int  // request body size in bytes
	open     bool // an open row at half the peak after each pipelined row
}

type soakConfig struct {
	common
	duration       time.Duration
	brokerRestarts int
	chaosEvery     time.Duration
	delayMax       time.Duration
	seed           uint64
	workerArgs     []string // extra arguments of every worker process (tests)
}

// benchFlags registers the flags of the measured rows, shared by ebbench and ebbench
// compare; credit is the usage of --credit.
func benchFlags(fs *flag.FlagSet, c *benchConfig, credit string) {
	commonFlags(fs, &c.common, 2, 16, 3, time.Second, time.Second)
	fs.IntVar(&c.requests, "requests", 20000, "requests per measurement")
	fs.IntVar(&c.warmup, "warmup", 100, "requests per client process before each measurement, not counted")
	fs.IntVar(&c.credit, "credit", 0, credit)
	fs.IntVar(&c.size, "size", 11, "request body size in `bytes` (at least what the body's unique tag and number take)")
}

func commonFlags(fs *flag.FlagSet, c *common, clients, callers, attempts int, timeout, heartbeat time.Duration) {
	fs.StringVar(&c.brokerBin, "broker-bin", "", "the ebbroker `binary` (default: an ebbroker next to ebbench, else on PATH)")
	fs.StringVar(&c.frontend, "frontend", "", "use the running broker at this `endpoint` (then no broker is started)")
	fs.StringVar(&c.backend, "backend", "", "its worker `endpoint` (default: the frontend)")
	fs.BoolVar(&c.standard, "standard", false, "plain MDP/0.1 clients (ClientOptions.Standard): one request at a time on a connection")
	fs.BoolVar(&c.plain, "plain-workers", false, "plain MDP/0.1 DEALER echo workers, frames written out (not ebwrk's Worker)")
	fs.StringVar(&c.service, "service", "echo", "the `name` of the echo service")
	fs.IntVar(&c.workers, "workers", 4, "echo worker processes (0 with --frontend: use the broker's own workers)")
	fs.IntVar(&c.clients, "clients", clients, "client processes")
	fs.IntVar(&c.callers, "callers", callers, "concurrent requests per client process (pipelined)")
	fs.DurationVar(&c.timeout, "timeout", timeout, "client timeout of one attempt")
	fs.IntVar(&c.attempts, "attempts", attempts, "client attempts per request")
	fs.DurationVar(&c.heartbeat, "heartbeat", heartbeat, "heartbeat interval of the workers and of the broker started")
	fs.BoolVar(&c.json, "json", false, "print JSON instead of a table")
	fs.BoolVar(&c.verbose, "verbose", false, "log what happens to stderr")
}

func (c *common) check(fs *flag.FlagSet) error {
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	switch {
	case c.backend != "" && c.frontend == "":
		return errors.New("--backend needs --frontend")
	case c.workers < 0 || (c.workers == 0 && c.frontend == ""):
		return fmt.Errorf("--workers %d: must be positive (0 only with --frontend)", c.workers)
	case c.clients < 1:
		return fmt.Errorf("--clients %d: must be at least 1", c.clients)
	case c.callers < 1:
		return fmt.Errorf("--callers %d: must be at least 1", c.callers)
	case c.timeout <= 0:
		return fmt.Errorf("--timeout %v: must be positive", c.timeout)
	case c.attempts < 1:
		return fmt.Errorf("--attempts %d: must be at least 1", c.attempts)
	case c.heartbeat <= 0:
		return fmt.Errorf("--heartbeat %v: must be positive", c.heartbeat)
	case c.service == "" || strings.HasPrefix(c.service, "mmi."):
		return fmt.Errorf("--service %q: must be a plain service name", c.service)
	}
	for _, ep := range []string{c.frontend, c.backend} {
		if ep != "" && !strings.Contains(ep, "://") {
			return fmt.Errorf("endpoint %q: want a ZeroMQ endpoint such as tcp://127.0.0.1:5555", ep)
		}
	}
	if c.frontend != "" && c.backend == "" {
		c.backend = c.frontend
	}
	return nil
}

func parseBench(args []string, stdout io.Writer) (benchConfig, error) {
	fs := flag.NewFlagSet("ebbench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg benchConfig
	benchFlags(fs, &cfg, "also measure --workers workers that hold up to `N` requests at once (0: not)")
	fs.BoolVar(&cfg.open, "open", true, "after each pipelined row, an open-loop row at half its rate (--open=false: none)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, benchUsage, stdout)
		}
		return cfg, err
	}
	if err := cfg.check(fs); err != nil {
		return cfg, err
	}
	return cfg, cfg.checkRows()
}

// windowNote is a line for stderr when the credit pipelined row cannot reach its
// peak: no more requests in flight (clients × callers) than the credit workers hold
// (workers × credit), so the broker's queue stays empty and each worker wakes for
// about one request at a time. It is "" otherwise.
func (c *benchConfig) windowNote() string {
	inFlight, held := c.clients*c.callers, c.workers*c.credit
	if c.credit == 0 || inFlight > held {
		return ""
	}
	return fmt.Sprintf("note: %d × %d = %d requests in flight, not more than the %d the credit workers hold: "+
		"the credit pipelined row measures below their peak (raise --callers above %d)",
		c.clients, c.callers, inFlight, held, held/c.clients)
}

// checkRows checks the flags benchFlags registers, for ebbench and ebbench compare.
func (c *benchConfig) checkRows() error {
	switch {
	case c.requests < 1:
		return fmt.Errorf("--requests %d: must be at least 1", c.requests)
	case c.warmup < 0:
		return fmt.Errorf("--warmup %d: must not be negative", c.warmup)
	case c.size < 0:
		return fmt.Errorf("--size %d: must not be negative", c.size)
	case c.credit != 0 && (c.credit < 2 || c.credit > core.MaxCredit):
		return fmt.Errorf("--credit %d: must be 0 (off) or in [2, %d]", c.credit, core.MaxCredit)
	case c.credit != 0 && c.plain:
		return errors.New("--credit with --plain-workers: plain MDP/0.1 workers hold one request at a time")
	case c.credit != 0 && c.workers == 0:
		return errors.New("--credit needs --workers: the credit workers are ebbench's own")
	}
	return nil
}

func parseSoak(args []string, stdout io.Writer) (soakConfig, error) {
	fs := flag.NewFlagSet("ebbench soak", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg soakConfig
	commonFlags(fs, &cfg.common, 2, 16, 6, time.Second, 250*time.Millisecond)
	fs.DurationVar(&cfg.duration, "duration", 3*time.Minute, "how long the chaos lasts")
	fs.IntVar(&cfg.brokerRestarts, "broker-restarts", 2, "times the broker process is killed -9 and restarted (0 with --frontend)")
	fs.DurationVar(&cfg.chaosEvery, "chaos-every", 500*time.Millisecond, "mean time between two worker faults")
	fs.DurationVar(&cfg.delayMax, "delay-max", 3*time.Millisecond, "each request sleeps up to this in its worker")
	fs.Uint64Var(&cfg.seed, "seed", 0, "seed of the chaos's choices, not of their timing (0: a random one, printed)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, soakUsage, stdout)
		}
		return cfg, err
	}
	if err := cfg.check(fs); err != nil {
		return cfg, err
	}
	restartsSet := false
	fs.Visit(func(f *flag.Flag) { restartsSet = restartsSet || f.Name == "broker-restarts" })
	switch {
	case cfg.duration <= 0:
		return cfg, fmt.Errorf("--duration %v: must be positive", cfg.duration)
	case cfg.brokerRestarts < 0:
		return cfg, fmt.Errorf("--broker-restarts %d: must not be negative", cfg.brokerRestarts)
	case cfg.frontend != "" && restartsSet && cfg.brokerRestarts > 0:
		return cfg, errors.New("--broker-restarts: ebbench restarts only a broker it started (no --frontend)")
	case cfg.chaosEvery <= 0:
		return cfg, fmt.Errorf("--chaos-every %v: must be positive", cfg.chaosEvery)
	case cfg.delayMax < 0:
		return cfg, fmt.Errorf("--delay-max %v: must not be negative", cfg.delayMax)
	}
	if cfg.frontend != "" {
		cfg.brokerRestarts = 0
	}
	return cfg, nil
}

// usage prints the help text and the flags.
func usage(fs *flag.FlagSet, text string, w io.Writer) {
	var b strings.Builder
	b.WriteString(text)
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, b.String())
}
