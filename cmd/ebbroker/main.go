// Command ebbroker is the ebwrk broker: MDP/0.1 with MMI and the ebwrk extensions on
// ZeroMQ, with a frontend for clients and a backend for workers.
//
// Usage:
//
//	ebbroker [flags]
//	ebbroker keygen NAME    write a CURVE key pair to NAME.key (secret, 0600) and NAME.pub
//
// It logs the endpoints it bound (with CURVE on, also the public key clients and
// workers need as their server key), each worker joining and leaving and each refused
// input with its reason, and stops cleanly on SIGINT or SIGTERM: queued and held
// requests are failed visibly (ebwrk clients get a failure reply) and workers get
// DISCONNECT. Exit status: 0 after a clean stop, 1 when serving failed, 2 for a bad
// flag or an endpoint that cannot be bound.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/metrics"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// config is what the flags say.
type config struct {
	broker    zmq.BrokerOptions
	logLevel  slog.Level
	logFormat string
	metrics   string // --metrics address; empty: none
	events    string // --events file; empty: none
}

// run is the whole command: parse args, bind, serve until SIGINT or SIGTERM. Help
// goes to stdout, the log and errors to stderr.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "keygen" {
		return keygen(args[1:], stdout, stderr)
	}
	cfg, err := parse(args, stdout)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ebbroker: %v (see ebbroker -h)\n", err)
		return 2
	}
	var h slog.Handler
	hopts := &slog.HandlerOptions{Level: cfg.logLevel}
	if cfg.logFormat == "json" {
		h = slog.NewJSONHandler(stderr, hopts)
	} else {
		h = slog.NewTextHandler(stderr, hopts)
	}
	cfg.broker.Logger = slog.New(h)
	if err := announceCurve(cfg.broker.Logger, cfg.broker.Curve); err != nil {
		fmt.Fprintf(stderr, "ebbroker: %v\n", err)
		return 2
	}
	rec := metrics.NewRecorder()
	if cfg.metrics != "" {
		cfg.broker.OnEvent = metricsHook(rec)
	}
	if cfg.events != "" {
		w, closeEvents, err := openEvents(cfg.events, stdout)
		if err != nil {
			fmt.Fprintf(stderr, "ebbroker: %v\n", err)
			return 2
		}
		defer closeEvents()
		cfg.broker.OnEvent = chainHooks(cfg.broker.OnEvent, eventsHook(w))
	}

	b, err := zmq.NewBroker(cfg.broker)
	if err != nil {
		fmt.Fprintf(stderr, "ebbroker: %v\n", err)
		return 2
	}
	if cfg.metrics != "" {
		_, stopMetrics, err := serveMetrics(cfg.metrics, b, rec, cfg.broker.Logger)
		if err != nil {
			fmt.Fprintf(stderr, "ebbroker: %v\n", errors.Join(err, b.Close()))
			return 2
		}
		defer stopMetrics()
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := b.Run(ctx); err != nil {
		cfg.broker.Logger.Error("broker failed", slog.String("err", err.Error()))
		return 1
	}
	return 0
}

// parse reads the flags; -h prints the help to stdout and returns flag.ErrHelp.
func parse(args []string, stdout io.Writer) (config, error) {
	fs := flag.NewFlagSet("ebbroker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	frontend := fs.String("frontend", zmq.DefaultFrontend, "`endpoint` bound for clients")
	backend := fs.String("backend", zmq.DefaultBackend, "`endpoint` bound for workers; empty or \"-\": the frontend serves both")
	heartbeat := fs.Duration("heartbeat", core.DefaultHeartbeatInterval, "heartbeat `interval` (workers must use the same)")
	liveness := fs.Int("liveness", core.DefaultLiveness, "heartbeats a worker may miss before it is removed")
	queueLimit := fs.Int("queue-limit", core.DefaultQueueLimit, "requests that may wait per service; 0 means no bound")
	queueExpiry := fs.Duration("queue-expiry", core.DefaultQueueExpiry, "how long a request may wait for a worker; 0 means forever")
	onDeath := fs.String("on-worker-death", "requeue", "what happens to the request of a dead worker: requeue or fail")
	holdLimit := fs.Duration("hold-limit", 0, "how long a busy worker may hold one request, heartbeats or not, before it gets\nDISCONNECT and its request is handled per --on-worker-death; 0 means no limit\n(set it above your longest service time)")
	linger := fs.Duration("linger", time.Second, "how long the stop may take to flush the last replies")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	logFormat := fs.String("log-format", "text", "log format: text or json")
	curveSecret := fs.String("curve-secret", "", "CURVE secret key `file` (from ebbroker keygen, mode 0600): encrypt both endpoints")
	clientsAllow := fs.String("clients-allow", "", "`file` of client public keys, one a line; without it any CURVE client may connect (encryption without authentication)")
	workersAllow := fs.String("workers-allow", "", "`file` of lines \"SERVICE PUBKEY\" (SERVICE * for any): which key may serve which service; without it any CURVE worker may serve any service")
	metricsAddr := fs.String("metrics", "", "serve Prometheus /metrics and /healthz on `address` (host:port)")
	events := fs.String("events", "", "write every broker event as a JSON line with its time to `file` (\"-\": stdout);\na diagnostic, one write per event (ebconform scenario reads it)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, stdout)
		}
		return config{}, err
	}
	if fs.NArg() > 0 {
		return config{}, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var cfg config
	switch {
	case *heartbeat <= 0:
		return cfg, fmt.Errorf("--heartbeat %v: must be positive", *heartbeat)
	case *liveness < 1:
		return cfg, fmt.Errorf("--liveness %d: must be at least 1", *liveness)
	case *queueLimit < 0:
		return cfg, fmt.Errorf("--queue-limit %d: must not be negative", *queueLimit)
	case *queueExpiry < 0:
		return cfg, fmt.Errorf("--queue-expiry %v: must not be negative", *queueExpiry)
	case *holdLimit < 0:
		return cfg, fmt.Errorf("--hold-limit %v: must not be negative (0 means no limit)", *holdLimit)
	case *linger < 0:
		return cfg, fmt.Errorf("--linger %v: must not be negative", *linger)
	case *frontend == "":
		return cfg, errors.New("--frontend: an endpoint is required")
	}
	if err := cfg.logLevel.UnmarshalText([]byte(*logLevel)); err != nil {
		return cfg, fmt.Errorf("--log-level %q: want debug, info, warn or error", *logLevel)
	}
	switch cfg.logFormat = *logFormat; cfg.logFormat {
	case "text", "json":
	default:
		return cfg, fmt.Errorf("--log-format %q: want text or json", *logFormat)
	}
	bc := core.BrokerConfig{HeartbeatInterval: *heartbeat, Liveness: *liveness,
		QueueLimit: *queueLimit, QueueExpiry: *queueExpiry, HoldLimit: *holdLimit}
	switch *onDeath {
	case "requeue":
		bc.OnWorkerDeath = core.Requeue
	case "fail":
		bc.OnWorkerDeath = core.FailRequest
	default:
		return cfg, fmt.Errorf("--on-worker-death %q: want requeue or fail", *onDeath)
	}
	// Zero means "no bound" and "never" on the command line; core says that with -1.
	if bc.QueueLimit == 0 {
		bc.QueueLimit = -1
	}
	if bc.QueueExpiry == 0 {
		bc.QueueExpiry = -1
	}
	cfg.broker = zmq.BrokerOptions{Frontend: *frontend, Backend: *backend, Config: bc, Linger: *linger}
	if *backend == "" || *backend == "-" {
		cfg.broker.Backend = zmq.NoBackend
	}
	if *linger == 0 {
		cfg.broker.Linger = -1
	}
	if err := security(&cfg, *curveSecret, *clientsAllow, *workersAllow); err != nil {
		return cfg, err
	}
	cfg.metrics = *metricsAddr
	cfg.events = *events
	return cfg, nil
}

// usage prints the help.
func usage(fs *flag.FlagSet, w io.Writer) {
	var b strings.Builder
	b.WriteString("Usage: ebbroker [flags]\n       ebbroker keygen NAME   (writes NAME.key, secret, mode 0600, and NAME.pub)\n\n")
	b.WriteString("The ebwrk broker (MDP/0.1 + MMI with the ebwrk extensions) on ZeroMQ.\n")
	b.WriteString("Clients connect to the frontend, workers to the backend; either endpoint accepts both.\n")
	b.WriteString("SIGINT or SIGTERM stops it: waiting requests are failed visibly, workers get DISCONNECT.\n\nFlags:\n")
	fs.SetOutput(&b)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
	fmt.Fprint(w, b.String())
}
