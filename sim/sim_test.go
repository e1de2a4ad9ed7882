package sim

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// runOnce runs sc with seed and returns the result, its trace and its JSON.
func runOnce(t *testing.T, sc Scenario, seed uint64) (*Result, string, string) {
	t.Helper()
	var trace bytes.Buffer
	res, err := Run(sc, seed, Options{Trace: &trace})
	if err != nil {
		t.Fatalf("Run(%s, %d): %v", sc.Name, seed, err)
	}
	js, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	return res, trace.String(), string(js)
}

func mustLookup(t *testing.T, name string) Scenario {
	t.Helper()
	sc, ok := Lookup(name)
	if !ok {
		t.Fatalf("no catalogue scenario %q", name)
	}
	return sc
}

func TestDeterminism(t *testing.T) {
	// worker-crash and clock-skew draw nothing at random: every seed gives one run.
	for _, tc := range []struct {
		name   string
		random bool
	}{{"baseline", true}, {"worker-crash", false}, {"message-loss", true}, {"clock-skew", false}, {"swarm", true}} {
		name := tc.name
		t.Run(name, func(t *testing.T) {
			sc := mustLookup(t, name)
			r1, tr1, js1 := runOnce(t, sc, 7)
			r2, tr2, js2 := runOnce(t, sc, 7)
			if tr1 != tr2 {
				t.Errorf("same seed, different traces (%d and %d bytes)", len(tr1), len(tr2))
			}
			if js1 != js2 {
				t.Errorf("same seed, different JSON:\n%s\n%s", js1, js2)
			}
			if r1.Fingerprint != r2.Fingerprint {
				t.Errorf("fingerprints %s and %s", r1.Fingerprint, r2.Fingerprint)
			}
			if uint64(bytes.Count([]byte(tr1), []byte("\n"))) != r1.TraceLines {
				t.Errorf("trace has %d lines, result says %d", bytes.Count([]byte(tr1), []byte("\n")), r1.TraceLines)
			}
			r3, tr3, _ := runOnce(t, sc, 8)
			if tc.random == (tr3 == tr1 || r3.Fingerprint == r1.Fingerprint) {
				t.Errorf("seeds 7 and 8: fingerprints %s and %s; want them to differ: %v", r1.Fingerprint, r3.Fingerprint, tc.random)
			}
		})
	}
}

func TestFingerprintWithoutTrace(t *testing.T) {
	sc := mustLookup(t, "worker-crash")
	withTrace, _, _ := runOnce(t, sc, 3)
	res, err := Run(sc, 3, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Fingerprint != withTrace.Fingerprint {
		t.Errorf("fingerprint %s without a trace, %s with one", res.Fingerprint, withTrace.Fingerprint)
	}
}

func TestBaselineExact(t *testing.T) {
	sc := mustLookup(t, "baseline")
	res, _, _ := runOnce(t, sc, 1)
	if !res.Exact {
		t.Fatal("baseline is not an exact run")
	}
	if len(res.Violations) > 0 {
		t.Fatalf("violations: %v", res.Violations)
	}
	m := res.Metrics
	if m.Successes != m.Requests || m.Requests != 1000 {
		t.Errorf("%d of %d requests succeeded, want all 1000", m.Successes, m.Requests)
	}
	// Uniform 5..15 ms service plus 4 hops of 100µs; mmi. lookups take 2 hops.
	lo, hi := 4*100*time.Microsecond+5*time.Millisecond, 4*100*time.Microsecond+15*time.Millisecond
	if m.Latency.Min != 200*time.Microsecond {
		t.Errorf("min latency %v, want an mmi. lookup's 200µs", m.Latency.Min)
	}
	if m.Latency.P50 < lo || m.Latency.Max > hi {
		t.Errorf("latency p50 %v max %v, want within [%v, %v]", m.Latency.P50, m.Latency.Max, lo, hi)
	}
}

// TestExactCheckCanFail runs the baseline with the checker's idea of the latency off
// by a nanosecond: every request must then break guarantee 8.
func TestExactCheckCanFail(t *testing.T) {
	sc := mustLookup(t, "baseline").withDefaults()
	r := newRun(sc, 1, Options{})
	r.replay = "replay"
	r.chk.latency += time.Nanosecond
	r.begin()
	r.loop()
	res := r.result()
	if len(res.Violations) != int(res.Metrics.Requests) {
		t.Fatalf("%d violations for %d requests, want one each", len(res.Violations), res.Metrics.Requests)
	}
	if v := res.Violations[0]; v.Guarantee != GExact || v.Replay != "replay" || v.Line == "" {
		t.Errorf("first violation %+v, want %s with a trace line and the replay command", v, GExact)
	}
}

func TestReplayDecisions(t *testing.T) {
	sc := mustLookup(t, "swarm")
	for _, seed := range []uint64{3, 11} {
		res, err := Run(sc, seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Decisions) == 0 {
			t.Fatalf("seed %d made no fault decision", seed)
		}
		rp := sc
		rp.Swarm = false
		rp.Faults.Replay = true
		rp.Faults.Decisions = res.Decisions
		again, err := Run(rp, seed, Options{})
		if err != nil {
			t.Fatal(err)
		}
		if again.Fingerprint != res.Fingerprint {
			t.Errorf("seed %d: replaying %d decisions gave fingerprint %s, want %s", seed, len(res.Decisions), again.Fingerprint, res.Fingerprint)
		}
		if d := cmp.Diff(res.Decisions, again.Decisions); d != "" {
			t.Errorf("seed %d: replayed decisions differ (-want +got):\n%s", seed, d)
		}
	}
}

func TestStreamsIndependent(t *testing.T) {
	a, b := NewStreams(1), NewStreams(1)
	if a.Stream("w1").Uint64() != b.Stream("w1").Uint64() {
		t.Error("same seed and name, different draws")
	}
	if a.Stream("w1").Uint64() == a.Stream("w2").Uint64() {
		t.Error("different names, same first draw")
	}
	if NewStreams(2).Stream("w1").Uint64() == a.Stream("w1").Uint64() {
		t.Error("different seeds, same first draw")
	}
	// Adding a worker leaves the service times of the others as they were.
	sc := Scenario{Name: "x", Services: []ServiceSpec{{Name: "echo", Workers: 2, Time: Dist{Kind: Exponential, Mean: time.Millisecond}}},
		Clients: ClientSpec{Requests: 1}}
	r1 := newRun(sc.withDefaults(), 5, Options{})
	sc.Services[0].Workers = 3
	r2 := newRun(sc.withDefaults(), 5, Options{})
	if r1.workers[1].rng.Uint64() != r2.workers[1].rng.Uint64() {
		t.Error("adding w3 changed w2's service-time stream")
	}
}

func TestDistributions(t *testing.T) {
	g := NewStreams(1).Stream("d")
	for _, tc := range []struct {
		d      Dist
		lo, hi time.Duration // bounds of every draw
		meanLo time.Duration // bounds of the mean of 20000 draws
		meanHi time.Duration
	}{
		{Dist{Kind: Constant, Mean: 7 * time.Millisecond}, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond, 7 * time.Millisecond},
		{Dist{Kind: Uniform, Min: 2 * time.Millisecond, Max: 4 * time.Millisecond}, 2 * time.Millisecond, 4 * time.Millisecond, 2900 * time.Microsecond, 3100 * time.Microsecond},
		{Dist{Kind: Exponential, Mean: 10 * time.Millisecond}, 0, time.Hour, 9500 * time.Microsecond, 10500 * time.Microsecond},
		{Dist{Kind: LogNormal, Mean: 10 * time.Millisecond, Sigma: 0.5}, 1, time.Hour, 9500 * time.Microsecond, 10500 * time.Microsecond},
	} {
		var sum time.Duration
		for range 20000 {
			s := tc.d.Sample(g)
			if s < tc.lo || s > tc.hi {
				t.Fatalf("%v drew %v, outside [%v, %v]", tc.d, s, tc.lo, tc.hi)
			}
			sum += s
		}
		if mean := sum / 20000; mean < tc.meanLo || mean > tc.meanHi {
			t.Errorf("%v: mean %v, want within [%v, %v]", tc.d, mean, tc.meanLo, tc.meanHi)
		}
	}
}

func TestSweep(t *testing.T) {
	sc := mustLookup(t, "swarm")
	sc.Clients.Duration = 5 * time.Second
	one, err := Sweep(t.Context(), sc, SweepOptions{First: 1, Seeds: 12, Parallel: 1, Source: "swarm"})
	if err != nil {
		t.Fatal(err)
	}
	two, err := Sweep(t.Context(), sc, SweepOptions{First: 1, Seeds: 12, Parallel: 3, Source: "swarm"})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(one, two, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Wall" }, cmp.Ignore())); d != "" {
		t.Errorf("sweep depends on parallelism (-1 +3):\n%s", d)
	}
	if one.Passed != 12 || len(one.Failed) != 0 {
		t.Errorf("sweep: %d passed, failed %+v", one.Passed, one.Failed)
	}
	if one.Requests == 0 || one.Events == 0 {
		t.Errorf("sweep ran nothing: %+v", one)
	}
}
