package main

import (
	"bytes"
	"image/color"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"

	"github.com/ebwrk/ebwrk/sim"
)

// maxPercentile is 1/(1−p) at the right end of the percentile axis: 99.99 %.
const maxPercentile = 10000

var (
	colSim  = color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff}
	colLive = color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff}
)

func millis(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// latencyPlot plots the latency of the successful requests by percentile, sim and
// live on one figure, as cmd/ebsim's percentile figure does for one run: x is the
// percentile on a logarithmic axis of 1/(1−p), y the latency on a logarithmic axis.
func latencyPlot(name string, simS, liveS []sim.Sample) ([]byte, error) {
	p := plot.New()
	p.Title.Text = name + ": latency by percentile, sim vs live"
	p.X.Label.Text = "percentile (logarithmic in 1/(1−p))"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = 1, maxPercentile
	p.X.Tick.Marker = percentileTicks()
	p.Y.Scale = plot.LogScale{}
	p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	p.Add(plotter.NewGrid())
	p.Legend.Top = true
	lo, hi := math.Inf(1), 0.0
	for _, s := range []struct {
		label string
		ss    []sim.Sample
		col   color.Color
	}{{"sim (virtual time)", simS, colSim}, {"live (wall clock)", liveS, colLive}} {
		lat := make([]time.Duration, len(s.ss))
		for i, x := range s.ss {
			lat[i] = x.Latency
		}
		if len(lat) == 0 {
			continue
		}
		slices.Sort(lat)
		lo, hi = min(lo, millis(lat[0])), max(hi, millis(lat[len(lat)-1]))
		l, err := plotter.NewLine(percentileCurve(lat))
		if err != nil {
			return nil, err
		}
		l.Color, l.Width = s.col, vg.Points(1.5)
		p.Add(l)
		p.Legend.Add(s.label+" ("+strconv.Itoa(len(lat))+" replies)", l)
	}
	if hi > 0 {
		p.Y.Min, p.Y.Max = max(lo/1.5, 0.01), hi*1.5
	}
	w, err := p.WriterTo(16*vg.Centimeter, 10*vg.Centimeter, "svg")
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// percentileCurve samples the latency by percentile at 100 points a decade of
// 1/(1−p), from p = 0 to p = 1 − 1/n (or 99.99 %).
func percentileCurve(lat []time.Duration) plotter.XYs {
	n := len(lat)
	end := math.Min(float64(n), maxPercentile)
	var pts plotter.XYs
	at := func(x float64) {
		p := 1 - 1/x
		i := min(int(p*float64(n)+1e-9), n-1)
		pts = append(pts, plotter.XY{X: x, Y: millis(lat[i])})
	}
	for k := range int(math.Ceil(100 * math.Log10(end))) {
		at(math.Pow(10, float64(k)/100))
	}
	at(end)
	return pts
}

// percentileTicks labels 1/(1−p) with p: 0 %, 50 %, 90 %, 99 %, ...
func percentileTicks() plot.ConstantTicks {
	ts := plot.ConstantTicks{{Value: 1, Label: "0%"}, {Value: 2, Label: "50%"}}
	for d := 10.0; d <= maxPercentile; d *= 10 {
		ts = append(ts, plot.Tick{Value: d, Label: strconv.FormatFloat(100-100/d, 'f', -1, 64) + "%"})
	}
	return ts
}
