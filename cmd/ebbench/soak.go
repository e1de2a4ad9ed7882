package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Faults counts the chaos injected.
type Faults struct {
	Kills          int `json:"worker_kills"`    // SIGKILL, then a new process
	Stops          int `json:"worker_stops"`    // SIGSTOP, later SIGCONT
	Restarts       int `json:"worker_restarts"` // SIGTERM (clean stop), then a new process
	BrokerRestarts int `json:"broker_restarts"` // SIGKILL of the broker, then a new one on the same ports
	// Replaced counts processes (workers, the broker) started in place of one that
	// died by itself (each death is also reported and fails the soak).
	Replaced int `json:"workers_replaced"`
}

// SoakReport is what ebbench soak prints (as a table, or as JSON with --json).
type SoakReport struct {
	Seed       uint64            `json:"seed"`
	Seconds    float64           `json:"seconds"`
	Workers    int               `json:"workers"`
	Clients    int               `json:"clients"`
	Callers    int               `json:"callers"`
	Requests   uint64            `json:"requests"`
	Replies    uint64            `json:"replies"`
	Mismatched uint64            `json:"mismatched"`
	Failed     uint64            `json:"failed"`
	Failures   map[string]uint64 `json:"failures"` // typed, by reason
	Lost       uint64            `json:"lost"`
	Errors     map[string]uint64 `json:"errors"` // the lost requests, by error
	Retries    uint64            `json:"retries"`
	RatePerS   float64           `json:"rate_per_s"`
	P50Ms      float64           `json:"p50_ms"`
	P99Ms      float64           `json:"p99_ms"`
	P999Ms     float64           `json:"p999_ms"`
	MaxMs      float64           `json:"max_ms"`
	Faults     Faults            `json:"faults"`
	Deaths     []death           `json:"deaths"` // processes of ours that exited by themselves
	EINTR      map[string]uint64 `json:"eintr_log_lines"`
	// ClientErrors are the errors with which Clients ended (Client.Close's).
	ClientErrors []string `json:"client_errors"`
	Problems     []string `json:"problems"` // why it failed; empty: it passed
}

// runSoak runs the chaos for cfg.duration and reports.
func runSoak(ctx context.Context, cfg soakConfig, log *slog.Logger, stdout, stderr io.Writer) int {
	cfg.progress = isTerminal(stderr)
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64()
	}
	f := newFleet(log)
	defer f.endAll(endGrace)
	s, err := newStage(f, cfg.common)
	if err != nil {
		fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
		return exitFailure
	}
	if s.frontend == "" {
		if err := s.startBroker(); err != nil {
			fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
			return exitFailure
		}
	}
	ch := &chaos{s: s, cfg: cfg, rng: rand.New(rand.NewPCG(cfg.seed, cfg.seed>>1|1))}
	for i := range cfg.workers {
		sl := &slot{n: i + 1}
		if err := ch.startSlot(sl); err != nil {
			fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
			return exitFailure
		}
		ch.slots = append(ch.slots, sl)
	}
	var args [][]string
	for i := range cfg.clients {
		args = append(args, s.clientArgs("soak-"+strconv.Itoa(i+1), false, cfg.service, 0, cfg.callers, 0))
	}
	chaosCtx, stopChaos := context.WithCancel(ctx)
	chaosDone := make(chan error, 1)
	start := time.Now()
	go func() { chaosDone <- ch.run(chaosCtx, start.Add(cfg.duration)) }()
	update, clear := progressLine(stderr, cfg.progress)
	res, err := s.runLoadSet(ctx, "soak", args, time.After(cfg.duration), update)
	clear()
	stopChaos()
	chaosErr := <-chaosDone
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
		return exitFailure
	}
	f.endAll(endGrace) // the broker and the workers: our exits, before the deaths are read
	rep := SoakReport{Seed: cfg.seed, Seconds: elapsed.Seconds(), Workers: cfg.workers, Clients: cfg.clients,
		Callers: cfg.callers, Requests: res.Requests, Replies: res.Replies, Mismatched: res.Mismatched,
		Failed: res.failed(), Failures: orEmpty(res.Failures), Lost: res.Lost, Errors: orEmpty(res.Errors),
		Retries: res.Retries, Faults: ch.faults, Deaths: f.died(), EINTR: f.eintrLines(),
		ClientErrors: append([]string{}, res.CloseErrors...)}
	if res.EndNs > res.StartNs {
		rep.RatePerS = float64(res.Replies) / time.Duration(res.EndNs-res.StartNs).Seconds()
	}
	h := res.Latency
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	rep.P50Ms, rep.P99Ms, rep.P999Ms, rep.MaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999)), ms(h.Max())
	rep.Problems = soakProblems(rep, chaosErr, ctx.Err() != nil, res.Mismatch)
	if ctx.Err() == nil && elapsed < cfg.duration {
		rep.Problems = append(rep.Problems, fmt.Sprintf("the load ended after %v of %v: no client could go on",
			elapsed.Round(time.Second), cfg.duration))
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rep); err != nil {
			fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
			return exitFailure
		}
	} else if err := writeSoakTable(stdout, rep, cfg); err != nil {
		fmt.Fprintf(stderr, "ebbench soak: %v\n", err)
		return exitFailure
	}
	if len(rep.Problems) > 0 {
		return exitFailure
	}
	return exitOK
}

// soakProblems says why a soak failed: anything lost or answered wrongly, a process
// of ours that died by itself, chaos that could not be carried out, an interrupt.
func soakProblems(rep SoakReport, chaosErr error, interrupted bool, mismatch string) []string {
	p := []string{}
	if rep.Lost > 0 {
		p = append(p, fmt.Sprintf("%d requests lost (%s)", rep.Lost, counts(rep.Errors)))
	}
	if rep.Mismatched > 0 {
		p = append(p, fmt.Sprintf("%d replies answered the wrong request (first: %s)", rep.Mismatched, mismatch))
	}
	if len(rep.Deaths) > 0 {
		p = append(p, fmt.Sprintf("%d process(es) of ours died by themselves", len(rep.Deaths)))
	}
	if len(rep.ClientErrors) > 0 {
		p = append(p, fmt.Sprintf("%d Client(s) ended with an error (%s)", len(rep.ClientErrors), rep.ClientErrors[0]))
	}
	if chaosErr != nil {
		p = append(p, "chaos: "+chaosErr.Error())
	}
	if interrupted {
		p = append(p, "interrupted before the end")
	}
	if rep.Requests == 0 {
		p = append(p, "no request was issued")
	}
	return p
}

func orEmpty(m map[string]uint64) map[string]uint64 {
	if m == nil {
		return map[string]uint64{}
	}
	return m
}

// slot is one worker position: the process that fills it now, and its state.
type slot struct {
	n     int // 1-based
	lives int // processes started in it
	c     *child
	state slotState
	until time.Time // stopped: when to continue; down: when to start again
}

type slotState int

const (
	running slotState = iota
	stopped
	down
)

// chaos injects the faults; its run owns the slots.
type chaos struct {
	s      *stage
	cfg    soakConfig
	rng    *rand.Rand
	slots  []*slot
	faults Faults
}

func (ch *chaos) startSlot(sl *slot) error {
	sl.lives++
	name := "worker " + strconv.Itoa(sl.n)
	if sl.lives > 1 {
		name += "#" + strconv.Itoa(sl.lives)
	}
	extra := append([]string{"--delay-max", ch.cfg.delayMax.String()}, ch.cfg.workerArgs...)
	c, err := ch.s.startWorker(name, extra...)
	if err != nil {
		return err
	}
	sl.c, sl.state = c, running
	return nil
}

// jitter returns d scaled by a random factor in [0.5, 1.5).
func (ch *chaos) jitter(d time.Duration) time.Duration {
	return time.Duration(float64(d) * (0.5 + ch.rng.Float64()))
}

// run injects faults until end or ctx, then continues every stopped worker and
// starts every missing one, so that the last requests can be answered.
func (ch *chaos) run(ctx context.Context, end time.Time) error {
	start := time.Now()
	var brokerAt []time.Time
	for k := 1; k <= ch.cfg.brokerRestarts; k++ {
		brokerAt = append(brokerAt, start.Add(time.Duration(k)*end.Sub(start)/time.Duration(ch.cfg.brokerRestarts+1)))
	}
	nextFault := start.Add(ch.jitter(ch.cfg.chaosEvery))
	for {
		now := time.Now()
		if err := ch.settle(now); err != nil {
			return err
		}
		if len(brokerAt) > 0 && !now.Before(brokerAt[0]) {
			brokerAt = brokerAt[1:]
			if err := ch.restartBroker(); err != nil {
				return err
			}
			continue
		}
		if !now.Before(nextFault) {
			if err := ch.fault(); err != nil {
				return err
			}
			nextFault = now.Add(ch.jitter(ch.cfg.chaosEvery))
		}
		wake := nextFault
		if len(brokerAt) > 0 && brokerAt[0].Before(wake) {
			wake = brokerAt[0]
		}
		for _, sl := range ch.slots {
			if sl.state != running && sl.until.Before(wake) {
				wake = sl.until
			}
		}
		if end.Before(wake) {
			wake = end
		}
		t := time.NewTimer(time.Until(wake))
		select {
		case <-ctx.Done():
			t.Stop()
			return ch.restore()
		case <-t.C:
			if !time.Now().Before(end) {
				return ch.restore()
			}
		}
	}
}

// settle continues the stopped workers and restarts the killed ones whose time has
// come. A worker or broker that died by itself is replaced, so that the soak goes on
// with all its processes; the death is reported all the same and fails the soak.
func (ch *chaos) settle(now time.Time) error {
	if b := ch.s.broker; b != nil && !b.alive() && !b.isOurs() {
		ch.faults.Replaced++
		if err := ch.s.startBroker(); err != nil {
			return err
		}
	}
	for _, sl := range ch.slots {
		if sl.state == running && !sl.c.alive() {
			ch.faults.Replaced++
			if err := ch.startSlot(sl); err != nil {
				return err
			}
			continue
		}
		if sl.state == running || now.Before(sl.until) {
			continue
		}
		if sl.state == stopped {
			sl.c.signal(syscall.SIGCONT)
			sl.state = running
			continue
		}
		if err := ch.startSlot(sl); err != nil {
			return err
		}
	}
	return nil
}

// restore ends the chaos: every worker running.
func (ch *chaos) restore() error {
	for _, sl := range ch.slots {
		sl.until = time.Time{}
	}
	return ch.settle(time.Now())
}

// fault injects one fault into a running worker chosen at random: kill -9 (a new
// process 0–0.5 s later), stop (continued 0.2–2 s later) or a clean restart.
func (ch *chaos) fault() error {
	var run []*slot
	for _, sl := range ch.slots {
		if sl.state == running {
			run = append(run, sl)
		}
	}
	if len(run) == 0 {
		return nil
	}
	sl := run[ch.rng.IntN(len(run))]
	switch ch.rng.IntN(3) {
	case 0:
		ch.faults.Kills++
		sl.c.signal(syscall.SIGKILL)
		<-sl.c.done
		sl.state, sl.until = down, time.Now().Add(time.Duration(ch.rng.Int64N(int64(500*time.Millisecond))))
	case 1:
		ch.faults.Stops++
		sl.c.signal(syscall.SIGSTOP)
		sl.state, sl.until = stopped, time.Now().Add(200*time.Millisecond+time.Duration(ch.rng.Int64N(int64(1800*time.Millisecond))))
	default:
		ch.faults.Restarts++
		sl.c.end(endGrace)
		return ch.startSlot(sl)
	}
	return nil
}

// restartBroker kills the broker -9 and starts a new one on the same ports.
func (ch *chaos) restartBroker() error {
	ch.faults.BrokerRestarts++
	b := ch.s.broker
	b.signal(syscall.SIGKILL)
	<-b.done
	time.Sleep(200 * time.Millisecond) // a broker that is down for a while, as in a real restart
	return ch.s.startBroker()
}

// writeSoakTable prints the report as a figure/value table, then the deaths.
func writeSoakTable(w io.Writer, rep SoakReport, cfg soakConfig) error {
	fmt.Fprintf(w, "ebbench soak: %.0f s, seed %d, %d workers, %d clients × %d callers, client %v × %d attempts\n",
		rep.Seconds, rep.Seed, rep.Workers, rep.Clients, rep.Callers, cfg.timeout, cfg.attempts)
	verdict := "PASS"
	if len(rep.Problems) > 0 {
		verdict = "FAIL: " + strings.Join(rep.Problems, "; ")
	}
	eintr := counts(rep.EINTR)
	t := newTable(w)
	t.Header("figure", "value")
	rows := [][]string{
		{"requests", u(rep.Requests)},
		{"replies (each its own request's echo)", u(rep.Replies)},
		{"mismatched replies", u(rep.Mismatched)},
		{"typed failures", u(rep.Failed) + failureNote(rep.Failures)},
		{"lost", u(rep.Lost) + failureNote(rep.Errors)},
		{"retries", u(rep.Retries)},
		{"replies/s", strconv.FormatFloat(rep.RatePerS, 'f', 0, 64)},
		{"latency p50 / p99 / p99.9 / max (ms)", msec(rep.P50Ms) + " / " + msec(rep.P99Ms) + " / " + msec(rep.P999Ms) + " / " + msec(rep.MaxMs)},
		{"worker kills -9 / stops / restarts", fmt.Sprintf("%d / %d / %d", rep.Faults.Kills, rep.Faults.Stops, rep.Faults.Restarts)},
		{"broker kills -9 and restarts", strconv.Itoa(rep.Faults.BrokerRestarts)},
		{"processes that died by themselves", strconv.Itoa(len(rep.Deaths))},
		{"processes started in place of a dead one", strconv.Itoa(rep.Faults.Replaced)},
		{"stderr lines naming EINTR", eintr},
		{"verdict", verdict},
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, d := range rep.Deaths {
		fmt.Fprintf(w, "DIED %s\n", d)
	}
	for _, e := range rep.ClientErrors {
		fmt.Fprintf(w, "CLIENT ENDED %s\n", e)
	}
	return nil
}

func failureNote(m map[string]uint64) string {
	if len(m) == 0 {
		return ""
	}
	return " (" + counts(m) + ")"
}
