package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// Measurement is one row of ebbench's table and one object of its --json list. The
// field names are the contract with scripts: name is "raw" (plain DEALER↔ROUTER
// echo, no broker), "lockstep" (MDP workers holding one request at a time) or
// "credit" (workers holding up to --credit requests at once, issue 13); mode is
// "sync" (one caller), "pipelined" (--clients × --callers requests in flight: the
// peak rate) or "open" (an open loop offering half the rate the same name's
// pipelined row reached: the latency of a system sized at half its peak).
type Measurement struct {
	Name        string            `json:"name"`
	Mode        string            `json:"mode"`
	BodyBytes   int               `json:"body_bytes"`              // the size of each request body
	OfferedPerS float64           `json:"offered_per_s,omitempty"` // open: the rate offered
	Workers     int               `json:"workers"`                 // worker processes (0 for raw)
	Credit      int               `json:"credit"`                  // requests a worker may hold (1: MDP; 0 for raw)
	Clients     int               `json:"clients"`                 // client processes
	Callers     int               `json:"callers"`                 // concurrent requests per client process
	Requests    uint64            `json:"requests"`
	Replies     uint64            `json:"replies"` // each equal to its request, byte for byte
	Mismatched  uint64            `json:"mismatched"`
	Failed      uint64            `json:"failed"` // typed failures
	Failures    map[string]uint64 `json:"failures,omitempty"`
	Lost        uint64            `json:"lost"`
	Errors      map[string]uint64 `json:"errors,omitempty"`
	// ClientErrors are the errors with which Clients ended (Client.Close's).
	ClientErrors []string `json:"client_errors,omitempty"`
	Retries      uint64   `json:"retries"`
	Seconds      float64  `json:"seconds"`
	RatePerS     float64  `json:"rate_per_s"` // replies per second
	VsRaw        float64  `json:"vs_raw"`     // rate over the raw rate of the same mode
	P50Ms        float64  `json:"p50_ms"`
	P99Ms        float64  `json:"p99_ms"`
	P999Ms       float64  `json:"p999_ms"`
	MaxMs        float64  `json:"max_ms"`
	// The CPU time per reply, in µs, of the broker process, of the worker processes
	// together (the raw echo's, in raw rows) and of the client processes together,
	// during the row: what each side costs, whatever the machine's load (to 10 ms
	// per process and row for the broker and workers).
	BrokerCPUUs float64 `json:"broker_cpu_us"`
	WorkerCPUUs float64 `json:"worker_cpu_us"`
	ClientCPUUs float64 `json:"client_cpu_us"`
}

// ok reports whether nothing was lost or answered wrongly.
func (m *Measurement) ok() bool { return m.Lost == 0 && m.Mismatched == 0 }

// spec says how to run one measurement.
type spec struct {
	name, mode       string
	clients, callers int
	requests         int     // 0: --requests
	rate             float64 // open: the rate offered by all clients together
}

// benchSpecs returns the rows of names in modes ("sync", "pipelined"), in that order:
// raw first, so that the workers have long registered when the brokered ones start.
func benchSpecs(names, modes []string, cfg benchConfig) []spec {
	var specs []spec
	for _, name := range names {
		for _, mode := range modes {
			sp := spec{name: name, mode: mode, clients: 1, callers: 1}
			if mode == "pipelined" {
				sp.clients, sp.callers = cfg.clients, cfg.callers
			}
			specs = append(specs, sp)
		}
	}
	return specs
}

// openFraction is the share of the peak rate that an open row offers.
const openFraction = 0.5

// openSpec returns the open row that follows the pipelined row sp, which reached
// peak: half of it, for about as long (half as many requests).
func openSpec(sp spec, peak float64, requests int) spec {
	return spec{name: sp.name, mode: "open", clients: sp.clients, callers: sp.callers,
		requests: max(requests/2, sp.clients), rate: openFraction * peak}
}

func (sp spec) raw() bool { return sp.name == "raw" }

// runBench runs the four measurements, raw first so that the workers have long
// registered when the brokered ones start, and prints them.
func runBench(ctx context.Context, cfg benchConfig, log *slog.Logger, stdout, stderr io.Writer) int {
	cfg.progress = isTerminal(stderr)
	if note := cfg.windowNote(); note != "" {
		fmt.Fprintf(stderr, "ebbench: %s\n", note)
	}
	f := newFleet(log)
	defer f.endAll(endGrace)
	s, err := newStage(f, cfg.common)
	if err != nil {
		fmt.Fprintf(stderr, "ebbench: %v\n", err)
		return exitFailure
	}
	if err := s.startAll(cfg.workers, cfg.credit); err != nil {
		fmt.Fprintf(stderr, "ebbench: %v\n", err)
		return exitFailure
	}
	names := []string{"raw", "lockstep"}
	if cfg.credit > 0 {
		names = append(names, "credit")
	}
	specs := benchSpecs(names, []string{"sync", "pipelined"}, cfg)
	update, clear := progressLine(stderr, cfg.progress)
	ms, err := s.measureAll(ctx, specs, cfg, update, clear)
	if err != nil {
		fmt.Fprintf(stderr, "ebbench: %v\n", err)
		return exitFailure
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(ms); err != nil {
			fmt.Fprintf(stderr, "ebbench: %v\n", err)
			return exitFailure
		}
	} else if err := writeBenchTable(stdout, ms, s); err != nil {
		fmt.Fprintf(stderr, "ebbench: %v\n", err)
		return exitFailure
	}
	code := exitOK
	for _, m := range ms {
		if !m.ok() {
			fmt.Fprintf(stderr, "ebbench: %s %s: %d lost (%s), %d answered wrongly\n", m.Name, m.Mode, m.Lost,
				counts(m.Errors), m.Mismatched)
			code = exitFailure
		}
		for _, e := range m.ClientErrors {
			fmt.Fprintf(stderr, "ebbench: %s %s: a Client ended with an error: %s\n", m.Name, m.Mode, e)
			code = exitFailure
		}
	}
	if ctx.Err() != nil {
		fmt.Fprintln(stderr, "ebbench: interrupted")
		code = exitFailure
	}
	for _, d := range f.died() {
		fmt.Fprintf(stderr, "ebbench: %s\n", d)
		code = exitFailure
	}
	if eintr := f.eintrLines(); len(eintr) > 0 {
		fmt.Fprintf(stderr, "ebbench: stderr lines naming EINTR (%s), by role: %s\n", eintrText, counts(eintr))
	}
	return code
}

// rowOrder is the order of the rows printed.
var rowOrder = []string{"raw sync", "lockstep sync", "credit sync", "raw pipelined", "lockstep pipelined",
	"credit pipelined", "raw open", "lockstep open", "credit open"}

// measureAll runs specs in order, each pipelined one followed by its open row, and
// returns the measurements in rowOrder, each with its rate relative to the raw one of
// the same mode.
func (s *stage) measureAll(ctx context.Context, specs []spec, cfg benchConfig, update func(string, progress),
	clear func()) ([]Measurement, error) {
	byKey := map[string]*Measurement{}
	for i := 0; i < len(specs) && ctx.Err() == nil; i++ {
		sp := specs[i]
		m, err := s.measure(ctx, sp, cfg, update)
		clear()
		if err != nil {
			return nil, fmt.Errorf("%s %s: %w", sp.name, sp.mode, err)
		}
		byKey[sp.name+" "+sp.mode] = m
		if sp.mode == "pipelined" && cfg.open && m.RatePerS > 0 {
			specs = append(specs[:i+1], append([]spec{openSpec(sp, m.RatePerS, cfg.requests)}, specs[i+1:]...)...)
		}
	}
	var ms []Measurement
	for _, key := range rowOrder {
		m, ok := byKey[key]
		if !ok {
			continue
		}
		if raw := byKey["raw "+m.Mode]; raw != nil && raw.RatePerS > 0 {
			m.VsRaw = m.RatePerS / raw.RatePerS
		}
		ms = append(ms, *m)
	}
	return ms, nil
}

// startAll starts the raw echo, our broker (unless a running one is used) and the
// workers; with credit, as many credit workers again, on the service creditService.
func (s *stage) startAll(workers, credit int) error {
	if err := s.startRawEcho(); err != nil {
		return err
	}
	if s.frontend == "" {
		if err := s.startBroker(); err != nil {
			return err
		}
	}
	return s.startWorkers(workers, credit)
}

// startWorkers starts the workers; with credit, as many credit workers again, on the
// service creditService.
func (s *stage) startWorkers(workers, credit int) error {
	for i := range workers {
		if _, err := s.startWorker("worker " + strconv.Itoa(i+1)); err != nil {
			return err
		}
	}
	for i := range workers * min(credit, 1) {
		if _, err := s.startWorker("credit worker "+strconv.Itoa(i+1),
			"--service", s.creditService(), "--concurrency", strconv.Itoa(credit)); err != nil {
			return err
		}
	}
	return nil
}

// creditService is the service of the credit workers: apart from the lockstep ones.
func (s *stage) creditService() string { return s.cfg.service + ".credit" }

// measure runs one measurement: its client processes, each with an equal share of
// the requests, started together.
func (s *stage) measure(ctx context.Context, sp spec, cfg benchConfig, update func(string, progress)) (*Measurement, error) {
	requests := cfg.requests
	if sp.requests > 0 {
		requests = sp.requests
	}
	var args [][]string
	for i := range sp.clients {
		share := uint64(requests / sp.clients)
		if i < requests%sp.clients {
			share++
		}
		id := fmt.Sprintf("%s-%s-%d", sp.name, sp.mode, i+1)
		service := s.cfg.service
		if sp.name == "credit" {
			service = s.creditService()
		}
		a := s.clientArgs(id, sp.raw(), service, share, sp.callers, cfg.warmup)
		a = append(a, "--tag", strconv.Itoa(i+1), "--size", strconv.Itoa(cfg.size))
		if sp.rate > 0 {
			a = append(a, "--rate", strconv.FormatFloat(sp.rate/float64(sp.clients), 'f', 3, 64))
		}
		args = append(args, a)
	}
	serverRole := "worker"
	if sp.raw() {
		serverRole = "rawecho"
	}
	brokerCPU, serverCPU := s.f.roleCPU("broker"), s.f.roleCPU(serverRole)
	res, err := s.runLoadSet(ctx, sp.name+" "+sp.mode, args, nil, update)
	if err != nil {
		return nil, err
	}
	brokerCPU, serverCPU = s.f.roleCPU("broker")-brokerCPU, s.f.roleCPU(serverRole)-serverCPU
	m := &Measurement{Name: sp.name, Mode: sp.mode, BodyBytes: cfg.size, OfferedPerS: sp.rate, Clients: sp.clients, Callers: sp.callers,
		Requests: res.Requests, Replies: res.Replies, Mismatched: res.Mismatched, Failed: res.failed(),
		Failures: res.Failures, Lost: res.Lost, Errors: res.Errors, ClientErrors: res.CloseErrors, Retries: res.Retries}
	switch sp.name {
	case "lockstep":
		m.Workers, m.Credit = cfg.workers, 1
	case "credit":
		m.Workers, m.Credit = cfg.workers, cfg.credit
	}
	if res.EndNs > res.StartNs {
		m.Seconds = time.Duration(res.EndNs - res.StartNs).Seconds()
		m.RatePerS = float64(res.Replies) / m.Seconds
	}
	if res.Replies > 0 {
		us := func(d time.Duration) float64 { return float64(d) / 1e3 / float64(res.Replies) }
		if !sp.raw() {
			m.BrokerCPUUs = us(brokerCPU)
		}
		m.WorkerCPUUs, m.ClientCPUUs = us(serverCPU), us(time.Duration(res.CPUNs))
	}
	h := res.Latency
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	m.P50Ms, m.P99Ms, m.P999Ms, m.MaxMs = ms(h.Quantile(0.5)), ms(h.Quantile(0.99)), ms(h.Quantile(0.999)), ms(h.Max())
	if res.Mismatch != "" {
		s.f.log.Error("wrong reply", "measurement", sp.name+" "+sp.mode, "first", res.Mismatch)
	}
	return m, nil
}

// isTerminal reports whether w is a terminal (for the progress line).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}
