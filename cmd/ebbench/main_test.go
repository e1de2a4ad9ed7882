package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/hdr"
	"github.com/ebwrk/ebwrk/internal/testbin"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// childEnv marks a re-executed test binary as an ebbench child process: the tests
// run ebbench in-process, and the worker, client and raw echo processes it starts
// from its own executable (the test binary) run ebbench's hidden subcommands.
const childEnv = "EBBENCH_TEST_CHILD"

// brokerBin is an ebbroker built for the tests that start one.
var brokerBin string

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(testbin.RunWithBroker(m, childEnv, &brokerBin))
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		args   []string
		code   int
		stdout string // a substring of stdout
		stderr string // a substring of the one line of stderr
	}{
		{"help", []string{"-h"}, 0, "Usage: ebbench", ""},
		{"soak help", []string{"soak", "-h"}, 0, "Usage: ebbench soak", ""},
		{"unknown flag", []string{"--nope"}, 2, "", "ebbench: flag provided but not defined: -nope (see ebbench -h)"},
		{"soak unknown flag", []string{"soak", "--nope"}, 2, "", "ebbench soak: flag provided but not defined: -nope"},
		{"bad requests", []string{"--requests", "0"}, 2, "", "--requests 0: must be at least 1"},
		{"bad duration", []string{"soak", "--duration", "soon"}, 2, "", "invalid value \"soon\" for flag -duration"},
		{"backend alone", []string{"--backend", "tcp://127.0.0.1:5556"}, 2, "", "--backend needs --frontend"},
		{"no workers", []string{"--workers", "0"}, 2, "", "--workers 0: must be positive (0 only with --frontend)"},
		{"bad endpoint", []string{"--frontend", "localhost"}, 2, "", "endpoint \"localhost\""},
		{"restarts of a running broker", []string{"soak", "--frontend", "tcp://127.0.0.1:5555", "--broker-restarts", "1"},
			2, "", "ebbench restarts only a broker it started"},
		{"argument", []string{"extra"}, 2, "", "unexpected argument \"extra\""},
		{"credit 1", []string{"--credit", "1"}, 2, "", "--credit 1: must be 0 (off) or in [2, 65535]"},
		{"credit past max", []string{"--credit", "65536"}, 2, "", "--credit 65536: must be 0 (off) or in [2, 65535]"},
		{"credit without workers", []string{"--frontend", "tcp://127.0.0.1:5555", "--workers", "0", "--credit", "4"},
			2, "", "--credit needs --workers"},
		{"credit of plain workers", []string{"--plain-workers", "--credit", "4"}, 2, "", "plain MDP/0.1 workers hold one request at a time"},
		{"bad size", []string{"--size", "-1"}, 2, "", "--size -1: must not be negative"},
		{"compare help", []string{"compare", "-h"}, 0, "Usage: ebbench compare", ""},
		{"compare without baseline", []string{"compare"}, 2, "", "ebbench compare: --baseline is required"},
		{"compare rounds", []string{"compare", "--baseline", "x", "--rounds", "0"}, 2, "", "--rounds 0: must be at least 1"},
		{"compare missing baseline ebbench", []string{"compare", "--baseline", "x", "--baseline-ebbench", "/nonexistent/ebbench"}, 2, "",
			"--baseline-ebbench /nonexistent/ebbench: stat /nonexistent/ebbench: no such file or directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("run(%q) = %d; want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q; want it to contain %q", stdout.String(), tc.stdout)
			}
			if tc.stderr == "" {
				if stderr.Len() != 0 {
					t.Errorf("stderr %q; want none", stderr.String())
				}
				return
			}
			if lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n"); len(lines) != 1 ||
				!strings.Contains(lines[0], tc.stderr) {
				t.Errorf("stderr %q; want one line containing %q", stderr.String(), tc.stderr)
			}
		})
	}
}

func TestFindBroker(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	self := filepath.Join(t.TempDir(), "ebbench")
	if _, err := findBroker("", self); err == nil || !strings.Contains(err.Error(), "go build -o bin/ ./cmd/ebbroker ./cmd/ebbench") {
		t.Errorf("findBroker with none around: %v; want the error that says how to build it", err)
	}
	next := filepath.Join(filepath.Dir(self), "ebbroker")
	if err := os.WriteFile(next, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if got, err := findBroker("", self); err != nil || got != next {
		t.Errorf("findBroker = %q, %v; want the ebbroker next to ebbench, %q", got, err, next)
	}
	if got, err := findBroker(brokerBin, self); err != nil || got != brokerBin {
		t.Errorf("findBroker(--broker-bin) = %q, %v; want %q", got, err, brokerBin)
	}
}

// TestAccount checks how a client process counts outcomes: its own echo is a reply,
// another body a mismatch, a typed error a failure by reason, anything else lost.
func TestAccount(t *testing.T) {
	acc := &account{cfg: loadConfig{id: "c1"}, failures: map[string]uint64{}, errors: map[string]uint64{}}
	for range 4 {
		acc.take()
	}
	acc.reply(acc.body(1), [][]byte{[]byte("c1/1")}, time.Millisecond)
	acc.reply(acc.body(2), [][]byte{[]byte("c1/3")}, time.Millisecond)
	acc.fail(fmt.Errorf("zmq: request to echo: %w", &zmq.RequestError{Service: "echo", Reason: core.TimedOut, Attempts: 3}))
	acc.fail(fmt.Errorf("zmq: request to echo: %w", zmq.ErrClosed))
	if acc.replies.Load() != 1 || acc.mismatched.Load() != 1 || acc.lost != 1 || acc.ended.Load() != 4 {
		t.Errorf("replies %d mismatched %d lost %d ended %d; want 1 1 1 4",
			acc.replies.Load(), acc.mismatched.Load(), acc.lost, acc.ended.Load())
	}
	if got := counts(acc.failures); got != core.TimedOut.String()+" 1" {
		t.Errorf("failures %q; want %q", got, core.TimedOut.String()+" 1")
	}
	if got := counts(acc.errors); got != "zmq: request to echo: zmq: client closed 1" {
		t.Errorf("errors %q", got)
	}
}

// TestMergedPercentiles checks the latency path of a measurement: histograms of two
// client processes, sent as JSON and merged, give the percentiles of the whole data.
func TestMergedPercentiles(t *testing.T) {
	var a, b hdr.Histogram
	for v := int64(1); v <= 1000; v++ {
		if v%2 == 0 {
			a.Record(v * 1000) // 1 µs .. 1 ms in ns
		} else {
			b.Record(v * 1000)
		}
	}
	total := &clientResult{}
	for _, h := range []*hdr.Histogram{&a, &b} {
		raw, err := json.Marshal(report{Result: &clientResult{Latency: h, Requests: h.Count(), Replies: h.Count()}})
		if err != nil {
			t.Fatal(err)
		}
		var r report
		if err := json.Unmarshal(raw, &r); err != nil {
			t.Fatal(err)
		}
		total.add(r.Result)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0.5, 500_000}, {0.99, 990_000}, {0.999, 999_000}, {1, 1_000_000}} {
		got := total.Latency.Quantile(tc.q)
		if got < tc.want || float64(got-tc.want) > float64(tc.want)/1000 {
			t.Errorf("merged Quantile(%v) = %d; want %d within 0.1 %%", tc.q, got, tc.want)
		}
	}
	if total.Requests != 1000 || total.Replies != 1000 {
		t.Errorf("merged requests %d replies %d; want 1000 1000", total.Requests, total.Replies)
	}
}

// TestBenchRun runs ebbench for real: an ebbroker process, worker, credit worker
// (--credit 4), client and raw echo processes, a few requests each; and again with
// plain MDP/0.1 DEALER workers (no credit rows). Its JSON parses, has the rows with
// their workers and credit, nothing is lost or wrong, percentiles are in order.
func TestBenchRun(t *testing.T) {
	for _, tc := range []struct {
		name   string
		extra  []string
		credit int
	}{
		{"ebwrk-worker", []string{"--credit", "4"}, 4},
		{"plain-worker", []string{"--plain-workers", "--open=false"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := append([]string{"--broker-bin", brokerBin, "--requests", "300", "--warmup", "5", "--workers", "2",
				"--clients", "2", "--callers", "4", "--json"}, tc.extra...)
			code := run(args, &stdout, &stderr)
			if code != 0 {
				t.Errorf("ebbench %q = %d; want 0\nstderr:\n%s", args, code, stderr.String())
			}
			checkMeasurements(t, stdout.Bytes(), 300, tc.credit, !slices.Contains(tc.extra, "--open=false"))
			// 2 clients × 4 callers are no more than 2 workers × credit 4 hold.
			if noted := strings.Contains(stderr.String(), "requests in flight, not more than"); noted != (tc.credit > 0) {
				t.Errorf("window note printed: %v; want %v\nstderr:\n%s", noted, tc.credit > 0, stderr.String())
			}
		})
	}
}

// TestWindowNote: the note names the window and the credit held, and is there only
// when the credit rows cannot fill the credit.
func TestWindowNote(t *testing.T) {
	for _, tc := range []struct {
		clients, callers, workers, credit int
		want                              string
	}{
		{2, 16, 4, 16, "note: 2 × 16 = 32 requests in flight, not more than the 64 the credit workers hold: " +
			"the credit pipelined row measures below their peak (raise --callers above 32)"},
		{2, 32, 4, 16, "note: 2 × 32 = 64 requests in flight, not more than the 64 the credit workers hold: " +
			"the credit pipelined row measures below their peak (raise --callers above 32)"},
		{2, 64, 4, 16, ""},
		{2, 16, 4, 0, ""},
	} {
		c := benchConfig{credit: tc.credit}
		c.clients, c.callers, c.workers = tc.clients, tc.callers, tc.workers
		if got := c.windowNote(); got != tc.want {
			t.Errorf("%d × %d, %d workers × credit %d: %q; want %q", tc.clients, tc.callers, tc.workers, tc.credit, got, tc.want)
		}
	}
}

// checkMeasurements checks the JSON of a bench run of requests per measurement.
// withCredit is the credit of the credit rows; 0: there are none. With open, each
// pipelined row is followed by an open row of half its requests, offered half its
// rate.
func checkMeasurements(t *testing.T, out []byte, requests uint64, withCredit int, open bool) {
	t.Helper()
	var ms []Measurement
	if err := json.Unmarshal(out, &ms); err != nil {
		t.Fatalf("JSON: %v\n%s", err, out)
	}
	names := []string{"raw", "lockstep"}
	if withCredit > 0 {
		names = append(names, "credit")
	}
	modes := []string{"sync", "pipelined"}
	if open {
		modes = append(modes, "open")
	}
	var want []string
	for _, mode := range modes {
		for _, name := range names {
			want = append(want, name+" "+mode)
		}
	}
	peak := map[string]float64{}
	credit := map[string]int{"raw": 0, "lockstep": 1, "credit": withCredit}
	if len(ms) != len(want) {
		t.Fatalf("%d measurements; want %d", len(ms), len(want))
	}
	for i, m := range ms {
		if got := m.Name + " " + m.Mode; got != want[i] {
			t.Errorf("measurement %d is %q; want %q", i, got, want[i])
		}
		if wantWorkers := min(credit[m.Name], 1) * 2; m.Credit != credit[m.Name] || m.Workers != wantWorkers {
			t.Errorf("%s %s: workers %d credit %d; want %d %d", m.Name, m.Mode, m.Workers, m.Credit, wantWorkers, credit[m.Name])
		}
		n := requests
		switch m.Mode {
		case "pipelined":
			peak[m.Name] = m.RatePerS
		case "open":
			n = requests / 2
			if want := peak[m.Name] / 2; math.Abs(m.OfferedPerS-want) > 0.01 {
				t.Errorf("%s open: offered %v/s; want half the pipelined rate, %v", m.Name, m.OfferedPerS, want)
			}
		}
		if m.ClientCPUUs <= 0 {
			t.Errorf("%s %s: client_cpu_us %v; want the clients' CPU time per reply", m.Name, m.Mode, m.ClientCPUUs)
		}
		if m.BodyBytes != 11 {
			t.Errorf("%s %s: body_bytes %d; want 11", m.Name, m.Mode, m.BodyBytes)
		}
		if m.Requests != n || m.Replies != n || m.Lost != 0 || m.Mismatched != 0 {
			t.Errorf("%s %s: requests %d replies %d lost %d mismatched %d; want %d %d 0 0",
				m.Name, m.Mode, m.Requests, m.Replies, m.Lost, m.Mismatched, n, n)
		}
		if m.RatePerS <= 0 || m.P50Ms <= 0 || m.P50Ms > m.P99Ms || m.P99Ms > m.P999Ms || m.P999Ms > m.MaxMs {
			t.Errorf("%s %s: rate %v, p50 %v p99 %v p99.9 %v max %v; want positive and ordered",
				m.Name, m.Mode, m.RatePerS, m.P50Ms, m.P99Ms, m.P999Ms, m.MaxMs)
		}
	}
}

// TestSoakDetectsDeath runs a short soak whose workers exit by themselves (status 3
// after 1 s): the soak must report them and fail, though nothing is lost.
func TestSoakDetectsDeath(t *testing.T) {
	cfg, err := parseSoak([]string{"--broker-bin", brokerBin, "--duration", "3s", "--broker-restarts", "0",
		"--workers", "2", "--clients", "1", "--callers", "2", "--chaos-every", "1h", "--json"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	cfg.workerArgs = []string{"--exit-after", "1s"}
	var stdout, stderr bytes.Buffer
	log := slog.New(slog.NewTextHandler(&stderr, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	code := runSoak(ctx, cfg, log, &stdout, &stderr)
	if code != 1 {
		t.Errorf("soak with self-exiting workers = %d; want 1\nstderr:\n%s", code, stderr.String())
	}
	var rep SoakReport
	if err := json.Unmarshal(stdout.Bytes(), &rep); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	exits := 0
	for _, d := range rep.Deaths {
		if strings.HasPrefix(d.Name, "worker ") && d.Status == "exit status 3" {
			exits++
		}
	}
	if exits < 2 {
		t.Errorf("deaths %+v; want at least the 2 first workers, with exit status 3", rep.Deaths)
	}
	if len(rep.Problems) == 0 || !strings.Contains(strings.Join(rep.Problems, "; "), "died by themselves") {
		t.Errorf("problems %q; want the deaths among them", rep.Problems)
	}
	if rep.Requests == 0 {
		t.Errorf("no request issued")
	}
}

// TestBody: a request body is the tag, "/", and the number with leading zeros up to
// the size; never cut short when the number needs more.
func TestBody(t *testing.T) {
	for _, tc := range []struct {
		tag  string
		size int
		seq  uint64
		want string
	}{
		{"1", 11, 5, "1/000000005"},
		{"2", 11, 123456789, "2/123456789"},
		{"2", 11, 1234567890, "2/1234567890"},
		{"c1", 0, 7, "c1/7"},
	} {
		a := &account{cfg: loadConfig{id: "ignored", tag: tc.tag, size: tc.size}}
		if got := string(a.body(tc.seq)); got != tc.want {
			t.Errorf("body(%d) with tag %q size %d = %q; want %q", tc.seq, tc.tag, tc.size, got, tc.want)
		}
	}
}

// TestSchedule: an open loop's request i is due at start + i/rate, whatever the
// replies.
func TestSchedule(t *testing.T) {
	s := newSchedule(1000)
	start := s.start
	if !s.due(start) {
		t.Error("request 0 not due at the start")
	}
	s.i = 3
	if s.due(start.Add(2999*time.Microsecond)) || !s.due(start.Add(3*time.Millisecond)) {
		t.Errorf("request 3 at 1000/s due at %v; want at 3 ms", s.next().Sub(start))
	}
}

// TestCompare runs ebbench compare for real with the same ebbroker as baseline and
// new, one round, a few requests: both rows, one rate per binary each, nothing lost.
func TestCompare(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"compare", "--baseline", brokerBin, "--broker-bin", brokerBin, "--rounds", "1",
		"--requests", "200", "--warmup", "5", "--workers", "2", "--clients", "2", "--callers", "4", "--json"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Errorf("ebbench %q = %d; want 0\nstderr:\n%s", args, code, stderr.String())
	}
	var cs []Comparison
	if err := json.Unmarshal(stdout.Bytes(), &cs); err != nil {
		t.Fatalf("JSON: %v\n%s", err, stdout.String())
	}
	if len(cs) != 2 || cs[0].Mode != "sync" || cs[1].Mode != "pipelined" {
		t.Fatalf("comparisons %+v; want lockstep sync and lockstep pipelined", cs)
	}
	for _, c := range cs {
		if c.Name != "lockstep" || len(c.BaselineRate) != 1 || len(c.NewRate) != 1 || c.Ratio <= 0 ||
			c.Ratio != c.NewRate[0]/c.BaselineRate[0] {
			t.Errorf("comparison %+v; want one rate per binary and their ratio", c)
		}
	}
}

// TestCompareBaselineEbbench: with --baseline-ebbench, the baseline's turns run that
// binary's workers and clients, and the new turns this one's. The baseline ebbench is
// a script that notes each subcommand it runs and then runs this test binary.
func TestCompareBaselineEbbench(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	mark := filepath.Join(dir, "ran")
	bench := filepath.Join(dir, "old-ebbench")
	script := fmt.Sprintf("#!/bin/sh\necho \"$1\" >> '%s'\nexec '%s' \"$@\"\n", mark, self)
	if err := os.WriteFile(bench, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	args := []string{"compare", "--baseline", brokerBin, "--broker-bin", brokerBin, "--baseline-ebbench", bench,
		"--rounds", "1", "--requests", "100", "--warmup", "5", "--workers", "2", "--clients", "1", "--callers", "2", "--json"}
	if code := run(args, &stdout, &stderr); code != 0 {
		t.Fatalf("ebbench %q = %d; want 0\nstderr:\n%s", args, code, stderr.String())
	}
	var cs []Comparison
	if err := json.Unmarshal(stdout.Bytes(), &cs); err != nil || len(cs) != 2 {
		t.Fatalf("JSON: %v, %d comparisons\n%s", err, len(cs), stdout.String())
	}
	ran, err := os.ReadFile(mark)
	if err != nil {
		t.Fatalf("the baseline ebbench never ran: %v", err)
	}
	// One round: the baseline's turn starts 2 workers and, per row (sync,
	// pipelined), 1 client process; the new turn runs none of them through it.
	got := map[string]int{}
	for _, line := range strings.Fields(string(ran)) {
		got[line]++
	}
	if want := map[string]int{"worker": 2, "client": 2}; !maps.Equal(got, want) {
		t.Errorf("the baseline ebbench ran %v; want %v", got, want)
	}
}

// TestStatCPU: utime and stime are read after the command name, whatever it holds.
func TestStatCPU(t *testing.T) {
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 3 0 99 0 0\n"
	got, err := statCPU([]byte(line))
	if want := 3250 * time.Millisecond; err != nil || got != want {
		t.Errorf("statCPU = %v, %v; want %v (325 ticks)", got, err, want)
	}
	if _, err := statCPU([]byte("4242 no name")); err == nil {
		t.Error("statCPU of a line without a command name: no error")
	}
	if _, err := procCPU(os.Getpid()); err != nil {
		t.Errorf("procCPU of this process: %v", err)
	}
}
