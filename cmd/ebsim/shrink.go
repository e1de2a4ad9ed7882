package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/sim"
)

// simShrink shrinks a failing run; tests may replace it.
var simShrink = sim.Shrink

const shrinkHelp = `Usage: ebsim shrink NAME|FILE [--seed N] [--swarm] [--out FILE] [--max-runs N]

Runs the scenario with the seed; if a guarantee breaks, reduces the run's fault
schedule (its timed events and the random fault decisions it made) by delta
debugging to a minimal list that still breaks the same guarantee, and writes it as
a scenario file that replays the failure with "ebsim run FILE --seed N". Exit
status: 0 a minimal failing scenario was written, 1 the run does not fail (nothing
to shrink) or the failure could not be replayed, 2 usage error.

`

func cmdShrink(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("shrink", shrinkHelp, stdout, stderr)
	seed := fs.Uint64("seed", 1, "the seed of the failing run")
	swarm := fs.Bool("swarm", false, "the failing run drew its fault profile from the seed (ebsim run --swarm)")
	out := fs.String("out", "", "write the shrunk scenario to `FILE` (default NAME-shrunk-seedN.toml)")
	maxRuns := fs.Int("max-runs", 2000, "stop the search after this many runs")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) != 1 {
		fmt.Fprintln(stderr, "ebsim shrink: want one scenario name or file")
		return exitUsage
	}
	sc, err := loadScenario(pos[0])
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	start := time.Now()
	res, err := simShrink(sc, *seed, sim.ShrinkOptions{SwarmFlag: *swarm && !sc.Swarm, MaxRuns: *maxRuns})
	switch {
	case errors.Is(err, sim.ErrNoFailure):
		fmt.Fprintf(stderr, "ebsim shrink: %s seed %d breaks no guarantee: nothing to shrink\n", sc.Name, *seed)
		return exitViolation
	case err != nil:
		fmt.Fprintln(stderr, "ebsim shrink:", err)
		return exitViolation
	}
	path := *out
	if path == "" {
		path = sc.Name + "-shrunk-seed" + strconv.FormatUint(*seed, 10) + ".toml"
	}
	var buf bytes.Buffer
	if err := sim.EncodeScenario(&buf, res.Scenario); err != nil {
		fmt.Fprintln(stderr, "ebsim shrink:", err)
		return exitViolation
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		fmt.Fprintln(stderr, "ebsim shrink:", err)
		return exitViolation
	}
	fmt.Fprintf(stdout, "%s seed %d breaks %s: %d of %d fault events suffice (%d runs, %v)\n",
		sc.Name, *seed, res.Guarantee, res.After, res.Before, res.Runs, time.Since(start).Round(time.Millisecond))
	for _, e := range res.Scenario.Faults.Events {
		fmt.Fprintf(stdout, "  event    %-14s at %-12v node %-8s for %v\n", e.Kind, e.At, e.Node, e.For)
	}
	for _, d := range res.Scenario.Faults.Decisions {
		fmt.Fprintf(stdout, "  decision %-14s at %-12v node %-8s n %d dur %v\n", d.Family, d.At, d.Node, d.N, d.Dur)
	}
	if res.Result != nil {
		for _, v := range res.Result.Violations {
			if v.Guarantee == res.Guarantee {
				fmt.Fprintf(stdout, "  %s at %v: %s\n", v.Guarantee, v.At, v.Detail)
				break
			}
		}
	}
	fmt.Fprintf(stdout, "wrote %s\nreplay: %s\n", path, strings.Replace(sim.ReplayCommand(path, *seed, false), "go run ./cmd/ebsim", "ebsim", 1))
	return exitOK
}
