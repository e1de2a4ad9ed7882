package main

import (
	"bytes"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"

	"github.com/ebwrk/ebwrk/sim"
)

func TestFaultLanes(t *testing.T) {
	s := time.Second
	span := func(fam, node string, from, to time.Duration) sim.FaultWindow {
		return sim.FaultWindow{Family: fam, Node: node, From: from, To: to}
	}
	many := []sim.FaultWindow{}
	for i := range maxLanes + 1 {
		many = append(many, span(sim.FamPartition, "c"+string(rune('a'+i)), 0, s))
	}
	for _, tc := range []struct {
		name string
		ws   []sim.FaultWindow
		want []string
	}{
		{"by family and node", []sim.FaultWindow{
			span(sim.FamPartition, "c1", 3*s, 5*s), span(sim.FamPartition, "w1", 2*s, 7*s),
			span(sim.FamBrokerRestart, "broker", s, 2*s), span(sim.FamCrash, "w10", s, 9*s), span(sim.FamCrash, "w2", s, 2*s),
		}, []string{"crash w2", "crash w10", "partition w1", "partition c1", "broker-restart"}},
		{"instants by family", []sim.FaultWindow{
			span(sim.FamDrop, "c1", s, s), span(sim.FamDrop, "w2", 2*s, 2*s), span(sim.FamHeartbeatLoss, "w3", s, 4*s),
			span(sim.FamHeartbeatLoss, "w1", 3*s, 3*s), span(sim.FamRestart, "w1", s, s),
		}, []string{"restart", "heartbeat-loss w3", "heartbeat-loss", "drop ×2"}},
		{"skew rate", []sim.FaultWindow{{Family: sim.FamSkew, Node: "w4", To: s, Rate: 0.3}}, []string{"skew w4 ×0.3"}},
		{"too many lanes", many, []string{"partition (all nodes)"}},
		{"none", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, labels := faultLanes(tc.ws)
			if d := cmp.Diff(tc.want, labels); d != "" {
				t.Errorf("lane labels (-want +got):\n%s", d)
			}
			n := 0
			for _, r := range rows {
				n += len(r)
			}
			if len(rows) != len(labels) || n != len(tc.ws) {
				t.Errorf("%d rows holding %d windows, want %d rows holding %d", len(rows), n, len(labels), len(tc.ws))
			}
		})
	}
}

func TestLogBounds(t *testing.T) {
	for _, tc := range []struct{ lo, hi, wantLo, wantHi float64 }{
		{20.4, 807.8, 20, 1000},
		{10.4, 10.4, 10, 20},
		{5.4, 1177.5, 5, 2000},
		{0.3, 0.45, 0.2, 0.5},
		{1, 100, 1, 100},
	} {
		lo, hi := logBounds(tc.lo, tc.hi)
		if math.Abs(lo-tc.wantLo) > 1e-9 || math.Abs(hi-tc.wantHi) > 1e-9 {
			t.Errorf("logBounds(%v, %v) = %v, %v; want %v, %v", tc.lo, tc.hi, lo, hi, tc.wantLo, tc.wantHi)
		}
	}
}

func labels(ts []plot.Tick) []string {
	var out []string
	for _, t := range ts {
		if t.Label != "" {
			out = append(out, t.Label)
		}
	}
	return out
}

func TestTicks(t *testing.T) {
	if d := cmp.Diff([]string{"0", "2", "4", "6", "8", "10", "12"}, labels(linearTicks{10}.Ticks(0, 12.3))); d != "" {
		t.Errorf("linearTicks{10} on [0, 12.3] (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"0", "200", "400", "600"}, labels(linearTicks{4}.Ticks(-0.0, 700))); d != "" {
		t.Errorf("linearTicks{4} on [0, 700] (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]string{"20", "50", "100", "200", "500", "1000"}, labels(logTicks{}.Ticks(20, 1000))); d != "" {
		t.Errorf("logTicks on [20, 1000] (-want +got):\n%s", d)
	}
	if got := (logTicks{}).Ticks(0, 10); got != nil {
		t.Errorf("logTicks from 0 = %v, want none", got)
	}
	if d := cmp.Diff([]string{"0%", "50%", "90%", "99%", "99.9%", "99.99%"}, labels(percentileTicks())); d != "" {
		t.Errorf("percentileTicks (-want +got):\n%s", d)
	}
}

// TestPercentileCurve: the curve starts at the minimum at 0 % and ends at the
// maximum at 1 − 1/n, never falling.
func TestPercentileCurve(t *testing.T) {
	var lat []time.Duration
	for i := range 600 {
		lat = append(lat, time.Duration(20+i%7)*time.Millisecond)
	}
	lat[100], lat[200] = 800*time.Millisecond, 900*time.Millisecond
	pts := percentileCurve(sortedLatencies(samples(lat)))
	first, last := pts[0], pts[len(pts)-1]
	if first != (plotter.XY{X: 1, Y: 20}) || last != (plotter.XY{X: 600, Y: 900}) {
		t.Errorf("curve from %v to %v, want (1, 20) to (600, 900)", first, last)
	}
	for i := 1; i < len(pts); i++ {
		if pts[i].Y < pts[i-1].Y || pts[i].X <= pts[i-1].X {
			t.Fatalf("curve falls or turns back at %d: %v then %v", i, pts[i-1], pts[i])
		}
	}
	if n := len(percentileCurve(sortedLatencies(samples(make([]time.Duration, 50000))))); n > 402 {
		t.Errorf("%d points for 50000 samples, want at most 402 (100 a decade up to 99.99 %%)", n)
	}
}

func samples(lat []time.Duration) []sim.Sample {
	ss := make([]sim.Sample, len(lat))
	for i, l := range lat {
		ss[i] = sim.Sample{End: time.Duration(i) * time.Millisecond, Latency: l}
	}
	return ss
}

// TestThroughputSeries: round buckets, and the short tail of the run folded into the
// last one (no spike).
func TestThroughputSeries(t *testing.T) {
	var ss []sim.Sample
	for i := range 1205 { // one reply every 10 ms for 12.05 s
		ss = append(ss, sim.Sample{End: time.Duration(i) * 10 * time.Millisecond})
	}
	pts := throughputSeries(ss, 12050*time.Millisecond)
	if len(pts) != 24 {
		t.Fatalf("%d buckets, want 24 of 500 ms (12.05 s / 50, rounded up to a round duration)", len(pts))
	}
	for _, p := range pts {
		if math.Abs(p.Y-100) > 0.5 {
			t.Errorf("rate %v at %vs, want 100/s everywhere", p.Y, p.X)
		}
	}
}

// TestFiguresRender draws both figures of a faulty run as SVG and PNG: the timeline
// names its fault lanes and legend entries, and an SVG holds no wall-clock time.
func TestFiguresRender(t *testing.T) {
	sc, _ := sim.Lookup("partition")
	res, err := sim.Run(sc, 1, sim.Options{Samples: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []figure{percentileFigure(sc.Name, res), timelineFigure(sc.Name, sc, res)} {
		for _, format := range []string{"svg", "png"} {
			b, err := f.render(format)
			if err != nil || len(b) == 0 {
				t.Fatalf("render %s: %v", format, err)
			}
		}
	}
	b, err := timelineFigure(sc.Name, sc, res).render("svg")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"partition w1", "partition c1", "replies per second", "median latency", "virtual time (s)"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("timeline SVG lacks %q", want)
		}
	}
	if y := time.Now().Format("2006"); strings.Contains(string(b), y) {
		t.Errorf("timeline SVG holds the year %s: a timestamp?", y)
	}
}
