package main

import (
	"bytes"
	"image/color"
	"math"
	"slices"
	"strconv"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/ebwrk/ebwrk/sim"
)

// familyColors gives each fault family a colour of its own, the same in every plot
// (Tableau 10, then three more).
var familyColors = map[string]color.RGBA{
	sim.FamCrash:         {R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	sim.FamRestart:       {R: 0xff, G: 0x7f, B: 0x0e, A: 0xff},
	sim.FamPause:         {R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	sim.FamSlow:          {R: 0x8c, G: 0x56, B: 0x4b, A: 0xff},
	sim.FamHeartbeatLoss: {R: 0xe3, G: 0x77, B: 0xc2, A: 0xff},
	sim.FamDrop:          {R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
	sim.FamDelay:         {R: 0xbc, G: 0xbd, B: 0x22, A: 0xff},
	sim.FamDuplicate:     {R: 0x17, G: 0xbe, B: 0xcf, A: 0xff},
	sim.FamReorder:       {R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	sim.FamPartition:     {R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	sim.FamBrokerRestart: {R: 0x00, G: 0x00, B: 0x00, A: 0xff},
	sim.FamSkew:          {R: 0xaa, G: 0x88, B: 0x00, A: 0xff},
	sim.FamMalformed:     {R: 0x66, G: 0x00, B: 0x66, A: 0xff},
}

// Colours of the measured series.
var (
	colMedian     = color.RGBA{R: 0x1f, G: 0x3a, B: 0x93, A: 0xff}
	colMax        = color.RGBA{R: 0xb2, G: 0x18, B: 0x2b, A: 0xff}
	colThroughput = color.RGBA{R: 0x1b, G: 0x78, B: 0x37, A: 0xff}
)

// familyColor returns the colour of a family with alpha a (0..1).
func familyColor(fam string, a float64) color.Color {
	c, ok := familyColors[fam]
	if !ok {
		c = color.RGBA{R: 0x44, G: 0x44, B: 0x44, A: 0xff}
	}
	return withAlpha(c, a)
}

// withAlpha returns the opaque colour c with alpha a (0..1).
func withAlpha(c color.RGBA, a float64) color.Color {
	return color.NRGBA{R: c.R, G: c.G, B: c.B, A: uint8(math.Round(a * 255))}
}

// logTicks marks a logarithmic axis at 1, 2 and 5 times each power of ten (with
// labels) and at the other integers (without).
type logTicks struct{}

// Ticks returns the ticks between min and max.
func (logTicks) Ticks(min, max float64) []plot.Tick {
	if !(min > 0) || math.IsInf(max, 0) {
		return nil
	}
	var ts []plot.Tick
	for e := math.Floor(math.Log10(min)); math.Pow10(int(e)) <= max; e++ {
		d := math.Pow10(int(e))
		for i := 1; i < 10; i++ {
			v := float64(i) * d
			if v < min*(1-1e-9) || v > max*(1+1e-9) {
				continue
			}
			t := plot.Tick{Value: v}
			if i == 1 || i == 2 || i == 5 {
				t.Label = strconv.FormatFloat(v, 'f', -1, 64)
			}
			ts = append(ts, t)
		}
	}
	return ts
}

// logBounds widens [lo, hi] (both > 0) to the nearest 1, 2 or 5 times a power of
// ten on each side, where logTicks puts a label.
func logBounds(lo, hi float64) (float64, float64) {
	down := math.Pow10(int(math.Floor(math.Log10(lo))))
	for _, m := range []float64{5, 2} {
		if m*down <= lo {
			down *= m
			break
		}
	}
	up := math.Pow10(int(math.Floor(math.Log10(hi))))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*up >= hi*(1-1e-12) {
			up *= m
			break
		}
	}
	if up <= down {
		up = down * 2
	}
	return down, up
}

// linearTicks marks a linear axis at 1, 2 or 5 times a power of ten, with the
// smallest step that gives at most max labelled ticks, and one unlabelled tick
// between two labelled ones.
type linearTicks struct{ max int }

// Ticks returns the ticks between min and max.
func (t linearTicks) Ticks(min, max float64) []plot.Tick {
	if !(max > min) || math.IsInf(max-min, 0) {
		return nil
	}
	step := math.Pow10(int(math.Floor(math.Log10((max - min) / float64(t.max)))))
	for _, m := range []float64{1, 2, 5, 10} {
		if (max-min)/(m*step) <= float64(t.max) {
			step *= m
			break
		}
	}
	var ts []plot.Tick
	for k := math.Ceil(min/step*2 - 1e-9); k/2*step <= max+step*1e-9; k++ {
		v := k / 2 * step
		if v == 0 {
			v = 0 // not -0
		}
		t := plot.Tick{Value: v}
		if int(k)%2 == 0 {
			t.Label = strconv.FormatFloat(v, 'f', -1, 64)
		}
		ts = append(ts, t)
	}
	return ts
}

// niceDuration returns the 1, 2 or 5 times a power of ten of milliseconds nearest
// above d.
func niceDuration(d time.Duration) time.Duration {
	u := time.Millisecond
	for {
		for _, m := range []time.Duration{1, 2, 5} {
			if m*u >= d {
				return m * u
			}
		}
		u *= 10
	}
}

// unlabelled keeps the tick marks of a ticker and drops their labels: the time axis
// of every panel but the bottom one.
type unlabelled struct{ plot.Ticker }

// Ticks returns the ticks of the wrapped ticker without labels.
func (u unlabelled) Ticks(min, max float64) []plot.Tick {
	ts := u.Ticker.Ticks(min, max)
	for i := range ts {
		ts[i].Label = ""
	}
	return ts
}

// bands shades the lasting fault windows over the whole height of a panel, and
// marks instant faults of the families in instants with a dashed vertical line.
type bands struct {
	spans    []sim.FaultWindow
	instants []sim.FaultWindow
}

// Plot draws the bands; it implements plot.Plotter.
func (b bands) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	for _, w := range b.spans {
		x0, x1 := clampX(c, trX(w.From.Seconds())), clampX(c, trX(w.To.Seconds()))
		x1 = max(x1, min(x0+vg.Points(1), c.Max.X))
		c.FillPolygon(familyColor(w.Family, 0.14), rect(x0, c.Min.Y, x1, c.Max.Y))
	}
	for _, w := range b.instants {
		x := trX(w.From.Seconds())
		if x < c.Min.X || x > c.Max.X {
			continue
		}
		c.StrokeLine2(draw.LineStyle{Color: familyColor(w.Family, 0.7), Width: vg.Points(0.75),
			Dashes: []vg.Length{vg.Points(3), vg.Points(2)}}, x, c.Min.Y, x, c.Max.Y)
	}
}

// lanes draws the fault strip: one horizontal lane per row, a bar for each lasting
// fault and a tick for each instant one, in the family's colour.
type lanes struct {
	rows [][]sim.FaultWindow // top lane first
}

// Plot draws the lanes; it implements plot.Plotter.
func (l lanes) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	n := len(l.rows)
	for i, row := range l.rows {
		y := float64(n - 1 - i)
		y0, y1 := trY(y-0.32), trY(y+0.32)
		last := vg.Length(math.Inf(-1))
		for _, w := range row {
			x0 := trX(w.From.Seconds())
			if w.Instant() {
				// Ticks closer than half a point look as one: draw one (the SVG stays small).
				if x0 >= c.Min.X && x0 <= c.Max.X && x0-last >= 0.5 {
					c.StrokeLine2(draw.LineStyle{Color: familyColor(w.Family, 0.9), Width: vg.Points(0.75)}, x0, y0, x0, y1)
					last = x0
				}
				continue
			}
			x0 = clampX(c, x0)
			x1 := max(clampX(c, trX(w.To.Seconds())), min(x0+vg.Points(1.5), c.Max.X))
			c.FillPolygon(familyColor(w.Family, 0.75), rect(x0, y0, x1, y1))
		}
	}
}

func clampX(c draw.Canvas, x vg.Length) vg.Length { return min(max(x, c.Min.X), c.Max.X) }

func rect(x0, y0, x1, y1 vg.Length) []vg.Point {
	return []vg.Point{{X: x0, Y: y0}, {X: x1, Y: y0}, {X: x1, Y: y1}, {X: x0, Y: y1}}
}

// swatch is the legend thumbnail of a fault family: a filled square.
type swatch struct{ c color.Color }

// Thumbnail draws the swatch; it implements plot.Thumbnailer.
func (s swatch) Thumbnail(c *draw.Canvas) {
	h := c.Max.Y - c.Min.Y
	x := c.Min.X + (c.Max.X-c.Min.X-h)/2
	c.FillPolygon(s.c, rect(x, c.Min.Y, x+h, c.Max.Y))
}

// legendEntry is one entry of a legend row.
type legendEntry struct {
	name  string
	thumb plot.Thumbnailer
}

// legendRow is a legend laid out in rows below the plots, never over their data.
type legendRow struct {
	entries []legendEntry
	style   draw.TextStyle
}

func newLegendRow() *legendRow {
	l := plot.NewLegend()
	l.TextStyle.Font.Size = vg.Points(9)
	return &legendRow{style: l.TextStyle}
}

func (l *legendRow) add(name string, thumb plot.Thumbnailer) {
	l.entries = append(l.entries, legendEntry{name, thumb})
}

const (
	thumbW   = 16 // points
	entryGap = 12 // points between entries
)

// layout places the entries in rows no wider than width and returns each entry's
// row and x offset, and the number of rows.
func (l *legendRow) layout(width vg.Length) (row []int, x []vg.Length, rows int) {
	var cur vg.Length
	r := 0
	for i, e := range l.entries {
		w := vg.Points(thumbW+4) + l.style.Width(e.name)
		if i > 0 && cur+w > width {
			r++
			cur = 0
		}
		row, x = append(row, r), append(x, cur)
		cur += w + vg.Points(entryGap)
	}
	if len(l.entries) > 0 {
		rows = r + 1
	}
	return row, x, rows
}

func (l *legendRow) lineHeight() vg.Length { return l.style.Font.Size * 1.5 }

// height is the height the legend needs at width.
func (l *legendRow) height(width vg.Length) vg.Length {
	_, _, rows := l.layout(width)
	return vg.Length(rows) * l.lineHeight()
}

// draw draws the legend in c, from its top left corner.
func (l *legendRow) draw(c draw.Canvas) {
	row, xs, _ := l.layout(c.Max.X - c.Min.X)
	lh := l.lineHeight()
	for i, e := range l.entries {
		top := c.Max.Y - vg.Length(row[i])*lh
		th := l.style.Font.Size * 0.8
		y0 := top - (lh+th)/2
		x := c.Min.X + xs[i]
		icon := draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: x, Y: y0}, Max: vg.Point{X: x + vg.Points(thumbW), Y: y0 + th}}}
		e.thumb.Thumbnail(&icon)
		sty := l.style
		sty.YAlign = draw.YCenter
		c.FillText(sty, vg.Point{X: x + vg.Points(thumbW+4), Y: y0 + th/2}, e.name)
	}
}

// panel is one plot of a stack and its share of the stack's height.
type panel struct {
	p      *plot.Plot
	height vg.Length // fixed height; 0 shares what the fixed ones leave
}

// drawStack draws panels top to bottom in c, their data areas aligned on the left
// and the right so that they share the time axis.
func drawStack(c draw.Canvas, panels []panel) {
	var fixed vg.Length
	flex := 0
	for _, pn := range panels {
		fixed += pn.height
		if pn.height == 0 {
			flex++
		}
	}
	share := (c.Max.Y - c.Min.Y - fixed) / vg.Length(max(flex, 1))
	canv := make([]draw.Canvas, len(panels))
	top := c.Max.Y
	for i, pn := range panels {
		h := pn.height
		if h == 0 {
			h = share
		}
		canv[i] = draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
			Min: vg.Point{X: c.Min.X, Y: top - h}, Max: vg.Point{X: c.Max.X, Y: top}}}
		top -= h
	}
	var left, right vg.Length
	for i, pn := range panels {
		d := pn.p.DataCanvas(canv[i])
		left = max(left, d.Min.X-canv[i].Min.X)
		right = max(right, canv[i].Max.X-d.Max.X)
	}
	for i, pn := range panels {
		d := pn.p.DataCanvas(canv[i])
		l, r := d.Min.X-canv[i].Min.X, canv[i].Max.X-d.Max.X
		pn.p.Draw(draw.Crop(canv[i], left-l, -(right - r), 0, 0))
	}
}

// figure is a drawing of a given size: one or more plots and their legend.
type figure struct {
	w, h vg.Length
	draw func(c draw.Canvas)
}

// Margins of a rendered figure, in points.
const (
	marginLeft, marginRight, marginY = 4, 8, 4
	figMargin                        = marginLeft + marginRight // the width the margins take
)

// render draws the figure in format ("svg" or "png") on a white background.
func (f figure) render(format string) ([]byte, error) {
	cw, err := draw.NewFormattedCanvas(f.w, f.h, format)
	if err != nil {
		return nil, err
	}
	dc := draw.New(cw)
	dc.SetColor(color.White)
	dc.Fill(dc.Rectangle.Path())
	f.draw(draw.Crop(dc, marginLeft, -marginRight, marginY, -marginY))
	var buf bytes.Buffer
	if _, err := cw.WriteTo(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// familyOrder sorts families as sim.Families lists them.
func familyOrder(a, b string) int {
	return slices.Index(sim.Families, a) - slices.Index(sim.Families, b)
}
