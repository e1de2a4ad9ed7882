package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strconv"
)

const compareUsage = `Usage: ebbench compare --baseline OLD-EBBROKER [--baseline-ebbench OLD-EBBENCH] [--broker-bin NEW-EBBROKER] [--rounds 5] [flags]

ebbench compare measures two ebbroker binaries side by side in one run: round after
round, each binary in turn (the order alternating from one round to the next, so that
a drift of the machine's load favours neither) gets a broker process of its own, fresh
--workers echo worker processes, and the lockstep rows of ebbench (lockstep sync and
lockstep pipelined; with --credit N, the credit rows too). It prints, per row, the
median rate of each binary over the rounds, the ratio new / baseline of the medians,
and the range of the per-round ratios.

The workers and clients are this ebbench's (the transport/zmq Worker and Client it was
built with) in both turns, so that only the broker differs. With --baseline-ebbench,
the baseline's turns run that ebbench's workers and clients instead: a change to the
Client or Worker is then compared too (old ebbroker and ebbench against new ones).

Exit status: 0 nothing lost and nothing answered wrongly; 1 otherwise; 2 bad flags.

Flags:
`

type compareConfig struct {
	benchConfig
	baseline      string
	baselineBench string // the ebbench whose workers and clients the baseline's turns run; "": this one
	rounds        int
}

func parseCompare(args []string, stdout io.Writer) (compareConfig, error) {
	fs := flag.NewFlagSet("ebbench compare", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var cfg compareConfig
	benchFlags(fs, &cfg.benchConfig, "also compare the credit rows, workers holding up to `N` requests (0: not)")
	fs.StringVar(&cfg.baseline, "baseline", "", "the ebbroker `binary` to compare against (required)")
	fs.StringVar(&cfg.baselineBench, "baseline-ebbench", "", "the ebbench `binary` whose workers and clients the baseline's turns run (default: this one)")
	fs.IntVar(&cfg.rounds, "rounds", 5, "rounds: each binary measured once per round")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(fs, compareUsage, stdout)
		}
		return cfg, err
	}
	if err := cfg.check(fs); err != nil {
		return cfg, err
	}
	switch {
	case cfg.baseline == "":
		return cfg, errors.New("--baseline is required: the ebbroker binary to compare against")
	case cfg.frontend != "":
		return cfg, errors.New("--frontend: compare starts both brokers itself")
	case cfg.rounds < 1:
		return cfg, fmt.Errorf("--rounds %d: must be at least 1", cfg.rounds)
	}
	if cfg.baselineBench != "" {
		if err := checkExecutable(cfg.baselineBench); err != nil {
			return cfg, fmt.Errorf("--baseline-ebbench %s: %w", cfg.baselineBench, err)
		}
	}
	return cfg, cfg.checkRows()
}

// Comparison is one row of ebbench compare: the rates of both binaries, round by round.
type Comparison struct {
	Name         string    `json:"name"`
	Mode         string    `json:"mode"`
	BaselineRate []float64 `json:"baseline_rate_per_s"`
	NewRate      []float64 `json:"new_rate_per_s"`
	BaselineP50  []float64 `json:"baseline_p50_ms"`
	NewP50       []float64 `json:"new_p50_ms"`
	BaselineCPU  []float64 `json:"baseline_broker_cpu_us"` // the broker's CPU time per reply
	NewCPU       []float64 `json:"new_broker_cpu_us"`
	Ratio        float64   `json:"ratio"`     // median new rate / median baseline rate
	RatioMin     float64   `json:"ratio_min"` // of the per-round ratios
	RatioMax     float64   `json:"ratio_max"`
}

// runCompare runs the rounds and prints the comparison.
func runCompare(ctx context.Context, cfg compareConfig, log *slog.Logger, stdout, stderr io.Writer) int {
	cfg.progress = isTerminal(stderr)
	cfg.open = false
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(stderr, "ebbench compare: find ebbench's executable: %v\n", err)
		return exitFailure
	}
	newBin, err := findBroker(cfg.brokerBin, self)
	if err != nil {
		fmt.Fprintf(stderr, "ebbench compare: %v\n", err)
		return exitFailure
	}
	names := []string{"lockstep"}
	if cfg.credit > 0 {
		names = append(names, "credit")
	}
	specs := benchSpecs(names, []string{"sync", "pipelined"}, cfg.benchConfig)
	rows := map[string]*Comparison{}
	var order []string
	code := exitOK
	for round := range cfg.rounds {
		turns := []bool{true, false} // baseline first
		if round%2 == 1 {
			slices.Reverse(turns)
		}
		for _, baseline := range turns {
			bin, bench := newBin, ""
			if baseline {
				bin, bench = cfg.baseline, cfg.baselineBench
			}
			if ctx.Err() != nil {
				fmt.Fprintln(stderr, "ebbench compare: interrupted")
				return exitFailure
			}
			ms, ok, err := compareOnce(ctx, cfg, bin, bench, specs, log, stderr)
			if err != nil {
				fmt.Fprintf(stderr, "ebbench compare: round %d, %s: %v\n", round+1, bin, err)
				return exitFailure
			}
			if !ok {
				code = exitFailure
			}
			for _, m := range ms {
				key := m.Name + " " + m.Mode
				c := rows[key]
				if c == nil {
					c = &Comparison{Name: m.Name, Mode: m.Mode}
					rows[key] = c
					order = append(order, key)
				}
				if baseline {
					c.BaselineRate, c.BaselineP50 = append(c.BaselineRate, m.RatePerS), append(c.BaselineP50, m.P50Ms)
					c.BaselineCPU = append(c.BaselineCPU, m.BrokerCPUUs)
				} else {
					c.NewRate, c.NewP50 = append(c.NewRate, m.RatePerS), append(c.NewP50, m.P50Ms)
					c.NewCPU = append(c.NewCPU, m.BrokerCPUUs)
				}
			}
		}
	}
	var cs []Comparison
	for _, key := range order {
		c := rows[key]
		c.Ratio = median(c.NewRate) / median(c.BaselineRate)
		c.RatioMin, c.RatioMax = ratioRange(c.NewRate, c.BaselineRate)
		cs = append(cs, *c)
	}
	if cfg.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(cs); err != nil {
			fmt.Fprintf(stderr, "ebbench compare: %v\n", err)
			return exitFailure
		}
		return code
	}
	base := cfg.baseline
	if cfg.baselineBench != "" {
		base += " with the workers and clients of " + cfg.baselineBench
	}
	fmt.Fprintf(stdout, "ebbench compare: baseline %s, new %s; %d rounds, %d requests a row, %d workers, %d-byte bodies; medians\n",
		base, newBin, cfg.rounds, cfg.requests, cfg.workers, cfg.size)
	t := newTable(stdout)
	t.Header("measurement", "baseline rate/s", "new rate/s", "new / baseline", "per-round range", "baseline p50", "new p50",
		"broker cpu µs/req baseline", "new")
	for _, c := range cs {
		if err := t.Append([]string{c.Name + " " + c.Mode,
			strconv.FormatFloat(median(c.BaselineRate), 'f', 0, 64), strconv.FormatFloat(median(c.NewRate), 'f', 0, 64),
			strconv.FormatFloat(c.Ratio, 'f', 2, 64),
			strconv.FormatFloat(c.RatioMin, 'f', 2, 64) + "–" + strconv.FormatFloat(c.RatioMax, 'f', 2, 64),
			msec(median(c.BaselineP50)), msec(median(c.NewP50)),
			strconv.FormatFloat(median(c.BaselineCPU), 'f', 1, 64), strconv.FormatFloat(median(c.NewCPU), 'f', 1, 64)}); err != nil {
			fmt.Fprintf(stderr, "ebbench compare: %v\n", err)
			return exitFailure
		}
	}
	if err := t.Render(); err != nil {
		fmt.Fprintf(stderr, "ebbench compare: %v\n", err)
		return exitFailure
	}
	return code
}

// compareOnce runs specs against a broker of bin with fresh workers, and reports
// whether nothing was lost or wrong and no process died. The workers and clients are
// bench's ("": this ebbench's).
func compareOnce(ctx context.Context, cfg compareConfig, bin, bench string, specs []spec, log *slog.Logger,
	stderr io.Writer) ([]Measurement, bool, error) {
	f := newFleet(log)
	defer f.endAll(endGrace)
	c := cfg.common
	c.brokerBin = bin
	s, err := newStage(f, c)
	if err != nil {
		return nil, false, err
	}
	if bench != "" {
		s.self = bench
	}
	if err := s.startBroker(); err != nil {
		return nil, false, err
	}
	if err := s.startWorkers(cfg.workers, cfg.credit); err != nil {
		return nil, false, err
	}
	update, clear := progressLine(stderr, cfg.progress)
	ms, err := s.measureAll(ctx, specs, cfg.benchConfig, update, clear)
	if err != nil {
		return nil, false, err
	}
	ok := true
	for _, m := range ms {
		if !m.ok() || len(m.ClientErrors) > 0 {
			fmt.Fprintf(stderr, "ebbench compare: %s: %s %s: %d lost (%s), %d answered wrongly, client errors %v\n",
				bin, m.Name, m.Mode, m.Lost, counts(m.Errors), m.Mismatched, m.ClientErrors)
			ok = false
		}
	}
	for _, d := range f.died() {
		fmt.Fprintf(stderr, "ebbench compare: %s: %s\n", bin, d)
		ok = false
	}
	return ms, ok, nil
}

// checkExecutable says why path is not a file this user may execute, if it is not.
func checkExecutable(path string) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return err
	case st.IsDir():
		return errors.New("is a directory")
	case st.Mode()&0o111 == 0:
		return errors.New("is not executable")
	}
	return nil
}

// median returns the median of vs (the mean of the middle two for an even count).
func median(vs []float64) float64 {
	if len(vs) == 0 {
		return 0
	}
	s := slices.Clone(vs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// ratioRange returns the least and the greatest of news[i] / olds[i].
func ratioRange(news, olds []float64) (lo, hi float64) {
	for i := range min(len(news), len(olds)) {
		if olds[i] <= 0 {
			continue
		}
		r := news[i] / olds[i]
		if lo == 0 || r < lo {
			lo = r
		}
		hi = max(hi, r)
	}
	return lo, hi
}
