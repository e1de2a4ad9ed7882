package main

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"time"

	"github.com/mattn/go-isatty"

	"github.com/ebwrk/ebwrk/sim"
)

// isTerminal reports whether w is a terminal, the only place progress is drawn; tests
// replace it. go-isatty asks the terminal driver (a tcgetattr ioctl), so /dev/null, a
// pipe or a file is not one; the module is already in ebsim's build through
// tablewriter.
var isTerminal = func(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressEvery is the least time between two redraws of the status line.
const progressEvery = 200 * time.Millisecond

// progress draws one status line of a sweep on a terminal, redrawn in place with a
// carriage return: seeds done, seeds per second, the time left and the failures so
// far. A nil *progress draws nothing, so callers need not test for a terminal.
type progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time
	drawn bool
}

// newProgress returns a status line on w when w is a terminal, and nil otherwise.
func newProgress(w io.Writer) *progress {
	if !isTerminal(w) {
		return nil
	}
	return newProgressAt(w, time.Now)
}

// newProgressAt returns a status line on w whose clock is now.
func newProgressAt(w io.Writer, now func() time.Time) *progress {
	t := now()
	return &progress{w: w, now: now, start: t}
}

// update redraws the line with p, at most once per progressEvery but always for the
// last seed.
func (pr *progress) update(p sim.SweepProgress) {
	if pr == nil {
		return
	}
	t := pr.now()
	if pr.drawn && t.Sub(pr.last) < progressEvery && p.Done < p.Total {
		return
	}
	pr.last, pr.drawn = t, true
	fmt.Fprint(pr.w, "\r\033[K"+statusLine(p, t.Sub(pr.start)))
}

// clear erases the line, so that what follows starts on a clean line.
func (pr *progress) clear() {
	if pr == nil || !pr.drawn {
		return
	}
	fmt.Fprint(pr.w, "\r\033[K")
}

// statusLine is "1200/100000 seeds (1.2%), 410 seeds/s, 4m1s left, 0 failed" after
// elapsed; the rate and the time left are left out until there is a rate.
func statusLine(p sim.SweepProgress, elapsed time.Duration) string {
	s := strconv.Itoa(p.Done) + "/" + strconv.Itoa(p.Total) + " seeds"
	if p.Total > 0 {
		s += " (" + strconv.FormatFloat(100*float64(p.Done)/float64(p.Total), 'f', 1, 64) + "%)"
	}
	if sec := elapsed.Seconds(); sec > 0 && p.Done > 0 {
		rate := float64(p.Done) / sec
		left := time.Duration(float64(p.Total-p.Done) / rate * float64(time.Second))
		s += ", " + strconv.FormatFloat(rate, 'f', 0, 64) + " seeds/s, " + left.Round(time.Second).String() + " left"
	}
	return s + ", " + strconv.Itoa(p.Failed) + " failed"
}
