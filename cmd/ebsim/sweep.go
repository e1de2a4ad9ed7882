package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"

	"github.com/ebwrk/ebwrk/sim"
)

// simSweep runs a sweep; tests replace it to reach the violation path.
var simSweep = sim.Sweep

const sweepHelp = `Usage: ebsim sweep NAME|FILE --seeds N [--first N] [--shard I/N] [--out FILE]
                   [--json] [--parallel N]

Swarm testing: runs the scenario once per seed, each seed drawing its own fault
profile (every fault family on or off, at a random rate), in parallel on all cores.
Prints a summary table and every failing seed with the command that replays it; the
wall-clock line goes to stderr, so stdout depends only on the scenario and the seeds.
When stderr is a terminal, a status line shows the seeds done, seeds per second, the
time left and the failures so far; otherwise nothing is drawn.

Across machines: --shard I/N runs only the I-th of N disjoint parts of the seeds
(0-based, so a Kubernetes Indexed Job passes its completion index as it is), and --out
FILE writes one JSON line per seed; "ebsim merge" prints the summary of all the shards'
files, byte for byte what one unsharded sweep prints. Exit status: 0 every seed run
passed, 1 some seed violated a guarantee (its line is written all the same), 2 usage
error.

`

func cmdSweep(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlags("sweep", sweepHelp, stdout, stderr)
	seeds := fs.Int("seeds", 100, "how many seeds the whole sweep runs")
	first := fs.Uint64("first", 1, "the first seed")
	par := fs.Int("parallel", 0, "seeds run at once (0: one per core)")
	asJSON := fs.Bool("json", false, "print the summary as JSON (wall-clock figures go to stderr)")
	shardArg := fs.String("shard", "0/1", "run only the `I/N`-th part of the seeds (0 ≤ I < N)")
	out := fs.String("out", "", "write one JSON line per seed to `FILE`, for ebsim merge")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 || *seeds < 1 {
		fmt.Fprintln(stderr, "ebsim sweep: want one scenario name or file and --seeds N ≥ 1")
		return exitUsage
	}
	sh, err := parseShard(*shardArg)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *first+uint64(*seeds)-1 < *first {
		fmt.Fprintln(stderr, "ebsim sweep: --first + --seeds overflows the seeds")
		return exitUsage
	}
	sc, err := loadScenario(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	id := sweepID{Format: sweepFormat, Build: buildID(), Scenario: sc.Name, First: *first, Seeds: *seeds}
	if id.ScenarioHash, err = scenarioHash(sc); err != nil {
		fmt.Fprintln(stderr, err)
		return exitViolation
	}
	off, count := sh.span(*seeds)
	opt := sim.SweepOptions{First: *first + uint64(off), Seeds: count, Parallel: *par, Source: pos[0]}
	bar := newProgress(stderr)
	opt.Progress = bar.update
	res, err := simSweep(ctx, sc, opt)
	bar.clear()
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitViolation
	}
	if *out != "" {
		if err := writeLines(*out, id, res.Results); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
	}
	note := ""
	if sh.N > 1 {
		note = fmt.Sprintf(" (shard %s of the sweep of seeds %s)", sh, seedRange(*first, *seeds))
	}
	if *asJSON {
		err = writeJSON(stdout, res)
	} else {
		err = writeSweep(stdout, res, note)
	}
	if err != nil {
		fmt.Fprintln(stderr, "ebsim:", err)
		return exitViolation
	}
	fmt.Fprintf(stderr, "wall: %v for %d seeds, %s events/s\n", res.Wall.Round(1e6), res.Seeds,
		strconv.FormatFloat(float64(res.Events)/max(res.Wall.Seconds(), 1e-9), 'f', 0, 64))
	if len(res.Failed) > 0 {
		return exitViolation
	}
	return exitOK
}

// writeSweep prints a sweep's summary: a title (with note), the table and every
// failing seed with its first violation and the command that replays it.
func writeSweep(w io.Writer, res *sim.SweepResult, note string) error {
	fmt.Fprintf(w, "sweep %s: %d seeds from the swarm%s\n", res.Scenario, res.Seeds, note)
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
