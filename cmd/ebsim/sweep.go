package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/ebwrk/ebwrk/sim"
)

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sweep", `Usage: ebsim sweep NAME|FILE --seeds N [--first N] [--json] [--parallel N]

Swarm testing: runs the scenario once per seed, each seed drawing its own fault
profile (every fault family on or off, at a random rate), in parallel on all cores.
Prints a summary table and every failing seed with the command that replays it. A
progress bar is drawn on stderr when it is a terminal.

`, stdout, stderr)
	seeds := fs.Int("seeds", 100, "how many seeds to run")
	first := fs.Uint64("first", 1, "the first seed")
	par := fs.Int("parallel", 0, "seeds run at once (0: one per core)")
	asJSON := fs.Bool("json", false, "print the summary as JSON (wall-clock figures go to stderr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 || *seeds < 1 {
		fmt.Fprintln(stderr, "ebsim sweep: want one scenario name or file and --seeds N ≥ 1")
		return exitUsage
	}
	sc, err := loadScenario(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	opt := sim.SweepOptions{First: *first, Seeds: *seeds, Parallel: *par, Source: pos[0]}
	bar := isTerminal(stderr)
	if bar {
		opt.Progress = func(done, total int) { drawProgress(stderr, done, total) }
	}
	res, err := sim.Sweep(ctx, sc, opt)
	if bar {
		fmt.Fprint(stderr, "\r\033[K")
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitViolation
	}
	wall := fmt.Sprintf("wall: %v for %d seeds, %s events/s", res.Wall.Round(1e6), res.Seeds,
		strconv.FormatFloat(float64(res.Events)/res.Wall.Seconds(), 'f', 0, 64))
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
		fmt.Fprintln(stderr, wall)
	} else {
		if err := writeSweep(stdout, res); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
		fmt.Fprintln(stdout, wall)
	}
	if len(res.Failed) > 0 {
		return exitViolation
	}
	return exitOK
}

func writeSweep(w io.Writer, res *sim.SweepResult) error {
	fmt.Fprintf(w, "sweep %s: %d seeds from the swarm\n", res.Scenario, res.Seeds)
	t := newTable(w, false)
	t.Header("figure", "value")
	rows := [][]string{
		{"seeds", strconv.Itoa(res.Seeds)},
		{"passed", strconv.Itoa(res.Passed)},
		{"failed", strconv.Itoa(len(res.Failed))},
		{"requests", u(res.Requests)},
		{"successes", u(res.Successes)},
		{"failures (clear, not violations)", u(res.Failures)},
		{"events", u(res.Events)},
		{"workers stuck busy at end (seeds)", u(res.StuckBusy) + " (" + strconv.Itoa(res.StuckSeeds) + ")"},
	}
	for _, g := range slices.Sorted(maps.Keys(res.Violations)) {
		rows = append(rows, []string{"seeds violating " + g, strconv.Itoa(res.Violations[g])})
	}
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, f := range res.Failed {
		v := f.Violations[0]
		fmt.Fprintf(w, "FAIL seed %d: %s at %s: %s\n    replay: %s\n", f.Seed, v.Guarantee, v.At, v.Detail, v.Replay)
	}
	return nil
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func drawProgress(w io.Writer, done, total int) {
	const width = 40
	n := done * width / total
	fmt.Fprintf(w, "\r[%s%s] %d/%d", strings.Repeat("#", n), strings.Repeat(" ", width-n), done, total)
}
