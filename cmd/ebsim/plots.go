package main

import (
	"cmp"
	"fmt"
	"image/color"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ebwrk/ebwrk/sim"
)

// Figure sizes.
const (
	figWidth      = 16 * vg.Centimeter
	latencyHeight = 10 * vg.Centimeter
	panelHeight   = 5 * vg.Centimeter // each of the latency and throughput panels
	laneHeight    = 0.42 * vg.Centimeter
	legendIndent  = 30    // points: the legend starts under the plots' data, not their axis labels
	maxLanes      = 10    // more lasting-fault lanes than this are merged by family
	timeBuckets   = 100   // latency over time
	rateBuckets   = 50    // throughput over time, about
	maxPercentile = 10000 // 1/(1−p) at the right end of the percentile axis: 99.99 %
)

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// percentileFigure plots the latency of the successful requests by percentile, as
// HdrHistogram does: x is the percentile p on a logarithmic axis of 1/(1−p) (0 %, 90 %,
// 99 %, 99.9 %, 99.99 %, each a decade wide), y the latency on a logarithmic axis, so
// the tail (retries, requeues, purges) gets as much room as the median. The value
// at p is the latency below which a fraction p of the requests lie, so the curve
// ends at the maximum, at p = 1 − 1/n. Below the plot, the figures of the table.
func percentileFigure(name string, res *sim.Result) figure {
	p := plot.New()
	p.Title.Text = name + ": latency by percentile (successful requests)"
	p.X.Label.Text = "percentile (logarithmic in 1/(1−p))"
	p.Y.Label.Text = "latency (ms)"
	p.X.Scale = plot.LogScale{}
	p.X.Min, p.X.Max = 1, maxPercentile
	p.X.Tick.Marker = percentileTicks()
	p.Add(plotter.NewGrid())
	lat := sortedLatencies(res.Samples)
	caption := "no successful request"
	if n := len(lat); n > 0 {
		pts := percentileCurve(lat)
		p.Y.Scale = plot.LogScale{}
		p.Y.Min, p.Y.Max = logBounds(ms(lat[0]), ms(lat[n-1]))
		p.Y.Tick.Marker = logTicks{}
		l, err := plotter.NewLine(pts)
		if err == nil {
			l.Color, l.Width = colMedian, vg.Points(1.5)
			p.Add(l)
		}
		f := res.Metrics.Latency
		caption = fmt.Sprintf("%d replies, virtual time:   p50 %v   p90 %v   p99 %v   p99.9 %v   max %v",
			n, f.P50, f.P90, f.P99, f.P999, f.Max)
	}
	return figure{w: figWidth, h: latencyHeight, draw: func(c draw.Canvas) {
		sty := newLegendRow().style
		h := sty.Font.Size * 1.6
		p.Draw(draw.Crop(c, 0, 0, h, 0))
		c.FillText(sty, vg.Point{X: c.Min.X + vg.Points(4), Y: c.Min.Y + sty.Font.Size*0.3}, caption)
	}}
}

func sortedLatencies(ss []sim.Sample) []time.Duration {
	lat := make([]time.Duration, len(ss))
	for i, s := range ss {
		lat[i] = s.Latency
	}
	slices.Sort(lat)
	return lat
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
		pts = append(pts, plotter.XY{X: x, Y: ms(lat[i])})
	}
	steps := int(math.Ceil(100 * math.Log10(end)))
	for k := range steps {
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
	for d := 1.0; d < maxPercentile; d *= 10 {
		for i := 2; i < 10; i++ {
			if d != 1 || i != 2 {
				ts = append(ts, plot.Tick{Value: d * float64(i)})
			}
		}
	}
	return ts
}

// timelineFigure plots a run over virtual time, Jepsen style: a strip with a lane per
// fault (a bar while it lasts, a tick for an instant fault), the median and maximum
// latency of the requests that ended in each of 100 slices of time, and the replies
// per second; the lasting faults shade both panels in their family's colour. The
// legend sits below the panels.
func timelineFigure(name string, sc sim.Scenario, res *sim.Result) figure {
	ws := sim.FaultWindows(sc, res)
	end := res.Metrics.Virtual.Seconds()
	if end <= 0 {
		end = 1
	}
	rows, labels := faultLanes(ws)
	spans, instants := shading(ws)
	leg := newLegendRow()

	lat := plot.New()
	lat.Y.Label.Text = "latency (ms)"
	tput := plot.New()
	tput.Y.Label.Text = "replies/s"
	tput.X.Label.Text = "virtual time (s)"
	for _, p := range []*plot.Plot{lat, tput} {
		p.X.Min, p.X.Max = 0, end
		p.Add(bands{spans: spans, instants: instants}, plotter.NewGrid())
	}
	lat.X.Tick.Marker = unlabelled{linearTicks{10}}
	tput.X.Tick.Marker = linearTicks{10}
	tput.Y.Tick.Marker = linearTicks{4}
	med, top := latencySeries(res.Samples, res.Metrics.Virtual)
	rate := throughputSeries(res.Samples, res.Metrics.Virtual)
	if len(res.Samples) > 0 {
		lo, hi := math.Inf(1), 0.0
		for i := range med {
			if !math.IsNaN(med[i].Y) {
				lo, hi = math.Min(lo, med[i].Y), math.Max(hi, top[i].Y)
			}
		}
		lat.Y.Scale = plot.LogScale{}
		lat.Y.Min, lat.Y.Max = logBounds(lo, hi)
		lat.Y.Tick.Marker = logTicks{}
		if l := addSegments(lat, top, colMax, true); l != nil {
			leg.add("max latency", l)
		}
		if l := addSegments(lat, med, colMedian, false); l != nil {
			leg.add("median latency", l)
		}
	}
	if l, err := plotter.NewLine(rate); err == nil {
		l.Color, l.Width = colThroughput, vg.Points(1)
		l.FillColor = withAlpha(colThroughput, 0.2)
		tput.Add(l)
		tput.Y.Min = 0
		leg.add("replies per second", l)
	}
	var fams []string
	for _, w := range ws {
		if !slices.Contains(fams, w.Family) {
			fams = append(fams, w.Family)
		}
	}
	slices.SortFunc(fams, familyOrder)
	for _, f := range fams {
		leg.add(f, swatch{familyColor(f, 0.75)})
	}

	panels := []panel{}
	if len(rows) > 0 {
		strip := plot.New()
		strip.X.Min, strip.X.Max = 0, end
		strip.Y.Min, strip.Y.Max = -0.5, float64(len(rows))-0.5
		strip.X.Tick.Marker = unlabelled{linearTicks{10}}
		strip.Y.Tick.Marker = laneTicks(labels)
		strip.Y.Tick.Length = 0
		strip.Y.Tick.Label.Font.Size = vg.Points(8)
		strip.Add(plotter.NewGrid(), lanes{rows: rows})
		strip.Title.Text = name + ": timeline"
		panels = append(panels, panel{p: strip, height: vg.Length(len(rows))*laneHeight + 1.2*vg.Centimeter})
	} else {
		lat.Title.Text = name + ": timeline (no faults)"
	}
	panels = append(panels, panel{p: lat}, panel{p: tput})
	h := 2*panelHeight + 1.5*vg.Centimeter
	for _, pn := range panels[:len(panels)-2] {
		h += pn.height
	}
	legH := leg.height(figWidth-figMargin-legendIndent) + vg.Points(4)
	return figure{w: figWidth, h: h + legH, draw: func(c draw.Canvas) {
		drawStack(draw.Crop(c, 0, 0, legH, 0), panels)
		leg.draw(draw.Crop(c, legendIndent, 0, 0, -(c.Max.Y - c.Min.Y - legH)))
	}}
}

// latencySeries buckets the samples into timeBuckets slices of [0, end] and returns
// the median and the maximum latency (ms) of each; NaN where no reply ended.
func latencySeries(ss []sim.Sample, end time.Duration) (med, top plotter.XYs) {
	width := max(end/timeBuckets, 1)
	groups := make([][]time.Duration, timeBuckets)
	for _, s := range ss {
		i := min(int(s.End/width), timeBuckets-1)
		groups[i] = append(groups[i], s.Latency)
	}
	for i, g := range groups {
		x := (time.Duration(i)*width + width/2).Seconds()
		if len(g) == 0 {
			med = append(med, plotter.XY{X: x, Y: math.NaN()})
			top = append(top, plotter.XY{X: x, Y: math.NaN()})
			continue
		}
		slices.Sort(g)
		med = append(med, plotter.XY{X: x, Y: ms(g[(len(g)-1)/2])})
		top = append(top, plotter.XY{X: x, Y: ms(g[len(g)-1])})
	}
	return med, top
}

// throughputSeries counts the replies per second in slices of [0, end] about
// end/rateBuckets wide, rounded up to a round duration (so that a regular workload
// does not alias into a saw tooth); the last slice also takes what is left of the
// run, so that a few replies after the last round slice do not make a spike.
func throughputSeries(ss []sim.Sample, end time.Duration) plotter.XYs {
	width := niceDuration(max(end/rateBuckets, time.Millisecond))
	counts := make([]int, max(int(end/width), 1))
	for _, s := range ss {
		counts[min(int(s.End/width), len(counts)-1)]++
	}
	var pts plotter.XYs
	for i, c := range counts {
		from, to := time.Duration(i)*width, time.Duration(i+1)*width
		if i == len(counts)-1 {
			to = max(end, to)
		}
		pts = append(pts, plotter.XY{X: ((from + to) / 2).Seconds(), Y: float64(c) / (to - from).Seconds()})
	}
	return pts
}

// addSegments adds pts to p as lines broken where a bucket had no reply (NaN), and
// returns one of them for the legend.
func addSegments(p *plot.Plot, pts plotter.XYs, col color.Color, dashed bool) *plotter.Line {
	var first *plotter.Line
	var seg plotter.XYs
	flush := func() {
		if len(seg) == 0 {
			return
		}
		l, err := plotter.NewLine(seg)
		if err != nil {
			return
		}
		l.Color, l.Width = col, vg.Points(1.2)
		if dashed {
			l.Width = vg.Points(0.9)
		}
		p.Add(l)
		if len(seg) == 1 {
			s, err := plotter.NewScatter(seg)
			if err == nil {
				s.Color, s.Radius, s.Shape = col, vg.Points(1.2), draw.CircleGlyph{}
				p.Add(s)
			}
		}
		if first == nil {
			first = l
		}
		seg = nil
	}
	for _, pt := range pts {
		if math.IsNaN(pt.Y) {
			flush()
			continue
		}
		seg = append(seg, pt)
	}
	flush()
	return first
}

// faultLanes arranges fault windows in lanes, top first, and names each lane: a lane
// per family and node for lasting faults ("partition w1"), and one per family for
// instant faults ("drop", every node). With more than maxLanes lanes of lasting
// faults, those are merged into one lane per family too.
func faultLanes(ws []sim.FaultWindow) ([][]sim.FaultWindow, []string) {
	type key struct{ fam, node string }
	keyOf := func(w sim.FaultWindow, byNode bool) key {
		if w.Instant() {
			return key{w.Family, "\x00"}
		}
		if !byNode {
			return key{w.Family, ""}
		}
		return key{w.Family, w.Node}
	}
	nodes := map[key]bool{}
	for _, w := range ws {
		if !w.Instant() {
			nodes[keyOf(w, true)] = true
		}
	}
	byNode := len(nodes) <= maxLanes
	lanesByKey := map[key][]sim.FaultWindow{}
	var keys []key
	for _, w := range ws {
		k := keyOf(w, byNode)
		if _, ok := lanesByKey[k]; !ok {
			keys = append(keys, k)
		}
		lanesByKey[k] = append(lanesByKey[k], w)
	}
	slices.SortFunc(keys, func(a, b key) int {
		return cmp.Or(familyOrder(a.fam, b.fam), nodeOrder(a.node, b.node))
	})
	var rows [][]sim.FaultWindow
	var labels []string
	for _, k := range keys {
		rows = append(rows, lanesByKey[k])
		label := k.fam
		switch k.node {
		case "\x00":
			if len(lanesByKey[k]) > 1 {
				label += " ×" + strconv.Itoa(len(lanesByKey[k]))
			}
		case "":
			if !byNode {
				label += " (all nodes)"
			}
		default:
			if k.fam != sim.FamBrokerRestart {
				label += " " + k.node
			}
		}
		if k.fam == sim.FamSkew && len(lanesByKey[k]) == 1 {
			label += " ×" + strconv.FormatFloat(lanesByKey[k][0].Rate, 'g', 3, 64)
		}
		labels = append(labels, label)
	}
	return rows, labels
}

// nodeOrder sorts node names as the simulator numbers them: broker, workers,
// clients, the hostile peer; w2 before w10. The instant lane ("\x00") comes last.
func nodeOrder(a, b string) int {
	rank := func(s string) (int, int) {
		if s == "\x00" {
			return 9, 0
		}
		kinds := map[byte]int{'b': 1, 'w': 2, 'c': 3}
		if s == "" {
			return 0, 0
		}
		k, ok := kinds[s[0]]
		if !ok || s == "evil" {
			return 4, 0
		}
		n, err := strconv.Atoi(strings.TrimLeft(s, "abcdefghijklmnopqrstuvwxyz"))
		if err != nil {
			return k, 0
		}
		return k, n
	}
	ka, na := rank(a)
	kb, nb := rank(b)
	return cmp.Or(cmp.Compare(ka, kb), cmp.Compare(na, nb), cmp.Compare(a, b))
}

// laneTicks labels the lanes, the first at the top.
func laneTicks(labels []string) plot.ConstantTicks {
	ts := make(plot.ConstantTicks, len(labels))
	for i, l := range labels {
		ts[i] = plot.Tick{Value: float64(len(labels) - 1 - i), Label: l}
	}
	return ts
}

// shading picks what marks the latency and throughput panels: every lasting fault
// but a skew (a clock rate, not an outage) shades them, and every worker restart
// draws a line; instant message faults (often hundreds) stay in the fault strip.
func shading(ws []sim.FaultWindow) (spans, instants []sim.FaultWindow) {
	for _, w := range ws {
		switch {
		case w.Family == sim.FamSkew:
		case !w.Instant():
			spans = append(spans, w)
		case w.Family == sim.FamRestart:
			instants = append(instants, w)
		}
	}
	return spans, instants
}
