package live

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebwrk/ebwrk/sim"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// WorkerCommand is the hidden subcommand a program that runs live scenarios must
// hand to WorkerMain (cmd/ebconform does): each worker of a run is that program
// started again as `PROGRAM live-worker FLAGS`.
const WorkerCommand = "live-worker"

// slowWindow is a timed slow-handler fault: from At to At+For after the run's epoch,
// each request takes Delay.
type slowWindow struct{ at, dur, delay time.Duration }

// workerFlags is what a worker process is told.
type workerFlags struct {
	backend, service    string
	hb, recInit, recMax time.Duration
	liveness, credit    int
	dist                sim.Dist
	seed                uint64
	slowProb            float64
	slowTime            time.Duration
	epoch               time.Time
	windows             []slowWindow
	name                string
}

// args renders the flags for the worker process.
func (f workerFlags) args() []string {
	a := []string{
		"--backend", f.backend, "--service", f.service, "--name", f.name,
		"--heartbeat", f.hb.String(), "--liveness", strconv.Itoa(f.liveness),
		"--reconnect-initial", f.recInit.String(), "--reconnect-max", f.recMax.String(),
		"--credit", strconv.Itoa(f.credit),
		"--time-kind", f.dist.Kind, "--time-mean", f.dist.Mean.String(),
		"--time-min", f.dist.Min.String(), "--time-max", f.dist.Max.String(),
		"--time-sigma", strconv.FormatFloat(f.dist.Sigma, 'g', -1, 64),
		"--seed", strconv.FormatUint(f.seed, 10),
		"--slow-prob", strconv.FormatFloat(f.slowProb, 'g', -1, 64), "--slow-time", f.slowTime.String(),
	}
	if !f.epoch.IsZero() {
		a = append(a, "--epoch", strconv.FormatInt(f.epoch.UnixNano(), 10))
	}
	for _, w := range f.windows {
		a = append(a, "--slow-window", w.at.String()+","+w.dur.String()+","+w.delay.String())
	}
	return a
}

// windowList is the repeatable --slow-window flag, "AT,FOR,DELAY".
type windowList []slowWindow

func (l *windowList) String() string { return fmt.Sprint(len(*l)) }

func (l *windowList) Set(s string) error {
	parts := strings.Split(s, ",")
	if len(parts) != 3 {
		return fmt.Errorf("want AT,FOR,DELAY, got %q", s)
	}
	var d [3]time.Duration
	for i, p := range parts {
		v, err := time.ParseDuration(p)
		if err != nil {
			return err
		}
		d[i] = v
	}
	*l = append(*l, slowWindow{d[0], d[1], d[2]})
	return nil
}

// WorkerMain is the worker process of a live run: a transport/zmq Worker with an
// echo handler that takes the scenario's service time (and the slow-handler fault's
// time when it hits), until ctx ends or stdin ends (the run is gone). It returns the
// exit status: 0 stopped, 1 the worker ended by itself, 2 bad flags.
func WorkerMain(ctx context.Context, args []string, stdin io.Reader, stderr io.Writer) int {
	var f workerFlags
	var windows windowList
	var epoch int64
	fs := flag.NewFlagSet(WorkerCommand, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&f.backend, "backend", "", "broker backend endpoint")
	fs.StringVar(&f.service, "service", "echo", "service")
	fs.StringVar(&f.name, "name", "w", "the worker's node name, for its log")
	fs.DurationVar(&f.hb, "heartbeat", 0, "heartbeat interval")
	fs.IntVar(&f.liveness, "liveness", 0, "liveness")
	fs.DurationVar(&f.recInit, "reconnect-initial", 0, "first reconnect wait")
	fs.DurationVar(&f.recMax, "reconnect-max", 0, "longest reconnect wait")
	fs.IntVar(&f.credit, "credit", 1, "requests handled at once")
	fs.StringVar(&f.dist.Kind, "time-kind", sim.Constant, "service-time distribution")
	fs.DurationVar(&f.dist.Mean, "time-mean", 0, "its mean")
	fs.DurationVar(&f.dist.Min, "time-min", 0, "its minimum (uniform)")
	fs.DurationVar(&f.dist.Max, "time-max", 0, "its maximum (uniform)")
	fs.Float64Var(&f.dist.Sigma, "time-sigma", 0, "its shape (lognormal)")
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the service times")
	fs.Float64Var(&f.slowProb, "slow-prob", 0, "probability that a request is slow")
	fs.DurationVar(&f.slowTime, "slow-time", 0, "how long a slow request takes")
	fs.Int64Var(&epoch, "epoch", 0, "the run's start, Unix nanoseconds")
	fs.Var(&windows, "slow-window", "AT,FOR,DELAY: a timed slow-handler fault (repeatable)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if f.backend == "" {
		fmt.Fprintln(stderr, "live-worker: --backend is required")
		return 2
	}
	f.windows = windows
	var start atomic.Int64 // the run's epoch, Unix nanoseconds; 0: not known yet
	start.Store(epoch)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		sc := bufio.NewScanner(stdin)
		for sc.Scan() {
			if v, ok := strings.CutPrefix(sc.Text(), "epoch "); ok {
				if n, err := strconv.ParseInt(v, 10, 64); err == nil {
					start.Store(n)
				}
			}
		}
		cancel()
	}()
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})).With("worker", f.name)
	w := zmq.NewWorker(f.backend, f.service, zmq.WorkerOptions{
		HeartbeatInterval: f.hb, Liveness: f.liveness, ReconnectInitial: f.recInit,
		ReconnectMax: f.recMax, Concurrency: f.credit, Logger: log, Linger: -1,
	})
	var mu sync.Mutex
	rng := rand.New(rand.NewPCG(f.seed, 0x776f726b6572))
	handler := func(ctx context.Context, req [][]byte) [][]byte {
		mu.Lock()
		d := f.dist.Sample(rng)
		if f.slowProb > 0 && rng.Float64() < f.slowProb {
			d = f.slowTime
		}
		mu.Unlock()
		since := time.Since(time.Unix(0, start.Load()))
		for _, sw := range f.windows {
			if start.Load() != 0 && since >= sw.at && since < sw.at+sw.dur {
				d = sw.delay
			}
		}
		t := time.NewTimer(d) // the service time the scenario models
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
		return req
	}
	if err := w.Serve(ctx, handler); err != nil {
		log.Error("worker ended", "err", err)
		return 1
	}
	return 0
}
