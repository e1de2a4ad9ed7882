package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/ebwrk/ebwrk/sim"
)

// Exit codes.
const (
	exitOK        = 0 // every guarantee held
	exitViolation = 1 // a guarantee was violated, or the run could not finish
	exitUsage     = 2 // bad arguments or an invalid scenario file
)

const usage = `ebsim runs ebwrk's deterministic simulation: the real core state machines over
an in-memory network on a virtual clock, with injected faults and an online checker
of the guarantees of DESIGN.md.

Usage:
  ebsim [--seed N] [--json]                     run the whole catalogue: a table per
                                                scenario and a summary table
  ebsim list                                    list the catalogue
  ebsim run NAME|FILE [--seed N] [--trace FILE] [--json] [--swarm]
                                                run one scenario (a catalogue name or a
                                                TOML file, see sim/SCENARIOS.md)
  ebsim sweep NAME|FILE --seeds N [--first N] [--json] [--parallel N]
              [--shard I/N] [--out FILE]        swarm testing: each seed draws its own
                                                fault profile; seeds run in parallel;
                                                --shard runs one part of the seeds
  ebsim merge [--json] FILE|DIR...              the summary of a sharded sweep, as one
                                                unsharded sweep prints it
  ebsim report [--out DIR] [--format svg|png]   write the reports/ pages (Markdown and
                                                SVG plots), byte-identical on every run
  ebsim shrink NAME|FILE [--seed N] [--out FILE]
                                                reduce a failing run's faults to a
                                                minimal scenario file that replays it

Every run prints its fingerprint (a hash of its trace); the same scenario and seed
always give the same trace, tables and JSON. Wall-clock figures (events per wall
second, virtual seconds per wall second) are printed on a separate "wall:" line
(on stderr with --json, and always for sweep) and never appear in JSON or reports.

Exit status: 0 every guarantee held, 1 a guarantee was violated, 2 usage error.
Run "ebsim COMMAND -h" for the flags of a command.
`

// simRun runs one scenario; tests replace it to reach the violation path.
var simRun = sim.Run

// run is the whole command; main only passes it the process's arguments and streams.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		switch args[0] {
		case "list":
			return cmdList(args[1:], stdout, stderr)
		case "run":
			return cmdRun(args[1:], stdout, stderr)
		case "sweep":
			return cmdSweep(ctx, args[1:], stdout, stderr)
		case "merge":
			return cmdMerge(args[1:], stdout, stderr)
		case "report":
			return cmdReport(args[1:], stdout, stderr)
		case "shrink":
			return cmdShrink(args[1:], stdout, stderr)
		case "help":
			fmt.Fprint(stdout, usage)
			return exitOK
		}
	}
	return cmdCatalogue(args, stdout, stderr)
}

// parseFlags parses flags that may come before or after positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}

// newFlags returns a flag set whose -h prints help to stdout.
func newFlags(name, help string, stdout, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fs.SetOutput(stdout)
		fmt.Fprint(stdout, help)
		fs.PrintDefaults()
		fs.SetOutput(stderr)
	}
	return fs
}

// flagExit maps a flag error to an exit code: 0 for -h, 2 otherwise.
func flagExit(err error) int {
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	return exitUsage
}

// loadScenario returns the catalogue scenario called arg, or the TOML file at arg.
func loadScenario(arg string) (sim.Scenario, error) {
	if sc, ok := sim.Lookup(arg); ok {
		return sc, nil
	}
	if strings.HasSuffix(arg, ".toml") || strings.ContainsRune(arg, os.PathSeparator) {
		return sim.LoadScenario(arg)
	}
	if _, err := os.Stat(arg); err == nil {
		return sim.LoadScenario(arg)
	}
	return sim.Scenario{}, fmt.Errorf("ebsim: no scenario %q in the catalogue (see ebsim list) and no such file", arg)
}

func cmdList(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("list", "Usage: ebsim list [--names]\n\nLists the built-in scenarios.\n", stdout, stderr)
	names := fs.Bool("names", false, "print only the names, one a line (for scripts)")
	if _, err := parseFlags(fs, args); err != nil {
		return flagExit(err)
	}
	if *names {
		for _, sc := range sim.Catalogue() {
			fmt.Fprintln(stdout, sc.Name)
		}
		return exitOK
	}
	t := newTable(stdout, false)
	t.Header("scenario", "what it shows")
	for _, sc := range sim.Catalogue() {
		if err := t.Append([]string{sc.Name, sc.Description}); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
	}
	if err := t.Render(); err != nil {
		fmt.Fprintln(stderr, "ebsim:", err)
		return exitViolation
	}
	return exitOK
}

func cmdRun(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("run", `Usage: ebsim run NAME|FILE [--seed N] [--trace FILE] [--json] [--swarm]

Runs one scenario with one seed and prints its table, its fingerprint and every
violated guarantee with the command that replays it.

`, stdout, stderr)
	seed := fs.Uint64("seed", 1, "the seed of every random draw")
	tracePath := fs.String("trace", "", "write the trace, one line per event, to `FILE` (- for stdout)")
	asJSON := fs.Bool("json", false, "print the result as JSON (wall-clock figures go to stderr)")
	swarm := fs.Bool("swarm", false, "draw a fault profile from the seed, as sweep does")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "ebsim run: want one scenario name or file")
		return exitUsage
	}
	sc, err := loadScenario(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	opt := sim.Options{Source: pos[0], SwarmFlag: *swarm && !sc.Swarm}
	if *tracePath == "-" {
		opt.Trace = stdout
	} else if *tracePath != "" {
		f, err := os.Create(*tracePath)
		if err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitUsage
		}
		defer f.Close()
		opt.Trace = f
	}
	res, err := simRun(sc, *seed, opt)
	if err != nil {
		fmt.Fprintln(stderr, err)
		if res == nil {
			return exitUsage
		}
		return exitViolation
	}
	if *asJSON {
		if err := writeJSON(stdout, res); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
		fmt.Fprintln(stderr, "wall:", res.Wall)
	} else {
		if err := writeResult(stdout, sc, res, false); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
		fmt.Fprintln(stdout, "wall:", res.Wall)
	}
	if res.Panic != "" {
		fmt.Fprintln(stderr, res.Panic)
	}
	if !res.OK() {
		return exitViolation
	}
	return exitOK
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func cmdCatalogue(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("ebsim", usage+"\nFlags of the catalogue run:\n", stdout, stderr)
	seed := fs.Uint64("seed", 1, "the seed of every scenario")
	asJSON := fs.Bool("json", false, "print the results as JSON (wall-clock figures go to stderr)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) > 0 {
		fmt.Fprintf(stderr, "ebsim: unknown command %q\n\n%s", pos[0], usage)
		return exitUsage
	}
	var results []*sim.Result
	var rows [][]string
	code := exitOK
	var wall sim.Wall
	for _, sc := range sim.Catalogue() {
		res, err := simRun(sc, *seed, sim.Options{})
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitViolation
		}
		results = append(results, res)
		rows = append(rows, summaryRow(res))
		wall.Elapsed += res.Wall.Elapsed
		wall.EventsPerSecond += float64(res.Metrics.Events)
		wall.VirtualPerWallRatio += res.Metrics.Virtual.Seconds()
		if !res.OK() {
			code = exitViolation
		}
		if !*asJSON {
			if err := writeResult(stdout, sc, res, false); err != nil {
				fmt.Fprintln(stderr, "ebsim:", err)
				return exitViolation
			}
			fmt.Fprintln(stdout)
		}
	}
	if s := wall.Elapsed.Seconds(); s > 0 {
		wall.EventsPerSecond /= s
		wall.VirtualPerWallRatio /= s
	}
	out := stdout
	if *asJSON {
		if err := writeJSON(stdout, results); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
		out = stderr
	} else {
		fmt.Fprintln(stdout, "summary")
		if err := writeSummary(stdout, rows, false); err != nil {
			fmt.Fprintln(stderr, "ebsim:", err)
			return exitViolation
		}
	}
	fmt.Fprintln(out, "wall:", wall)
	return code
}
