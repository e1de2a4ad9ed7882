package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/conformance/wirekit"
)

const wireHelp = `Usage: ebconform wire [flags] [case id or prefix ...]

Runs black-box MDP/0.1 (RFC 7) and MMI (RFC 8) cases against a Majordomo broker
over real sockets, each with raw peers of its own. Target a running broker with
--frontend (and --backend), or let the kit start one with --exec: {frontend} and
{backend} in the command become free endpoints on 127.0.0.1 (no {backend}: one
endpoint serves both); the kit waits until it accepts connections and restarts
it whenever it dies. --heartbeat, --liveness and --queue-expiry must match the
broker's settings: the timed cases depend on them.

Levels: MUST, SHOULD, MAY and ebwrk (ebwrk's extensions; a plain MDP broker
passes every MUST without them: --level MUST,SHOULD,MAY).
Exit status: 0 every selected case passed or was skipped, 1 some failed,
2 usage error or a broker that never came up.

Flags:
`

// wireFlags are what the wire command's flags say.
type wireFlags struct {
	frontend, backend, exec string
	settings                wirekit.Settings
	json, list              bool
	junit, report, log      string
	levels                  []wirekit.Level
	jobs                    int
	verbose                 bool
	patterns                []string
}

func parseWire(args []string, stdout, stderr io.Writer) (wireFlags, int) {
	var f wireFlags
	fs := flag.NewFlagSet("wire", flag.ContinueOnError)
	fs.StringVar(&f.frontend, "frontend", "", "`endpoint` of a running broker's frontend")
	fs.StringVar(&f.backend, "backend", "", "`endpoint` of its backend (default: the frontend serves both)")
	fs.StringVar(&f.exec, "exec", "", "shell `command` that starts the broker, with {frontend} and {backend} placeholders")
	fs.DurationVar(&f.settings.Heartbeat, "heartbeat", wirekit.Defaults.Heartbeat, "the broker's heartbeat `interval`")
	fs.IntVar(&f.settings.Liveness, "liveness", wirekit.Defaults.Liveness, "the broker's liveness (intervals a worker may stay silent)")
	fs.DurationVar(&f.settings.QueueExpiry, "queue-expiry", wirekit.Defaults.QueueExpiry, "how long the broker keeps a request for a service without workers; 0: forever (the expiry cases are skipped)")
	fs.DurationVar(&f.settings.Tolerance, "tolerance", 0, "how late a timed event (heartbeat, purge) may be; 0: half an interval, at least 100ms")
	fs.BoolVar(&f.json, "json", false, "print the results as JSON")
	fs.StringVar(&f.junit, "junit", "", "also write JUnit XML to `file`")
	fs.StringVar(&f.report, "report", "", "also write the Markdown report (catalogue and results) to `file`")
	fs.StringVar(&f.log, "broker-log", "", "write the started broker's output to `file` (default: discarded)")
	level := fs.String("level", "", "run only these comma-separated `levels` (MUST, SHOULD, MAY, ebwrk)")
	fs.IntVar(&f.jobs, "jobs", 4, "cases run at once (solo cases always run alone)")
	fs.BoolVar(&f.list, "list", false, "print the catalogue and exit")
	fs.BoolVar(&f.verbose, "v", false, "print each result to stderr as it comes")
	if code := parseFlags(fs, args, wireHelp, stdout, stderr); code >= 0 {
		return f, code
	}
	f.patterns = fs.Args()
	usageErr := func(format string, args ...any) (wireFlags, int) {
		fmt.Fprintf(stderr, "ebconform wire: "+format+" (see ebconform wire -h)\n", args...)
		return f, 2
	}
	if *level != "" {
		for _, s := range strings.Split(*level, ",") {
			l, err := wirekit.ParseLevel(strings.TrimSpace(s))
			if err != nil {
				return usageErr("--level: %v", err)
			}
			f.levels = append(f.levels, l)
		}
	}
	switch {
	case f.list:
	case f.exec == "" && f.frontend == "":
		return usageErr("give --exec or --frontend")
	case f.exec != "" && f.frontend != "":
		return usageErr("give --exec or --frontend, not both")
	case f.exec != "" && !strings.Contains(f.exec, "{frontend}"):
		return usageErr("--exec: the command has no {frontend} placeholder")
	case f.settings.Heartbeat <= 0:
		return usageErr("--heartbeat %v: must be positive", f.settings.Heartbeat)
	case f.settings.Liveness < 1:
		return usageErr("--liveness %d: must be at least 1", f.settings.Liveness)
	case f.settings.QueueExpiry < 0:
		return usageErr("--queue-expiry %v: must not be negative", f.settings.QueueExpiry)
	case f.settings.Tolerance < 0:
		return usageErr("--tolerance %v: must not be negative", f.settings.Tolerance)
	case f.jobs < 1:
		return usageErr("--jobs %d: must be at least 1", f.jobs)
	}
	return f, -1
}

// runWire is the wire command.
func runWire(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code := parseWire(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	cases, err := wirekit.Select(wirekit.Catalogue(), f.patterns, f.levels)
	if err != nil {
		fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
		return 2
	}
	if f.list {
		if err := wirekit.WriteList(stdout, cases); err != nil {
			fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
			return 1
		}
		return 0
	}
	var target *wirekit.Target
	what := f.frontend
	if f.exec != "" {
		logw := io.Discard
		if f.log != "" {
			lf, err := os.Create(f.log)
			if err != nil {
				fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
				return 2
			}
			defer lf.Close()
			logw = lf
		}
		target, err = wirekit.Exec(ctx, f.exec, logw)
		if target != nil {
			defer target.Stop()
		}
		if err != nil {
			fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
			return 2
		}
		what = "--exec " + f.exec
	} else {
		target = wirekit.Fixed(f.frontend, f.backend)
		if err := target.WaitUp(ctx, 10*time.Second); err != nil {
			fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
			return 2
		}
	}
	r := &wirekit.Runner{Target: target, Settings: f.settings, Jobs: f.jobs}
	if f.verbose {
		r.OnResult = func(res wirekit.Result) {
			fmt.Fprintf(stderr, "%-4s %s (%v): %s\n", res.Result, res.Case.ID, res.Elapsed.Round(time.Millisecond), res.Detail)
		}
	}
	results, runErr := r.Run(ctx, cases)
	if err := writeWire(f, what, args, stdout, r, results); err != nil {
		fmt.Fprintf(stderr, "ebconform wire: %v\n", err)
		return 1
	}
	if runErr != nil {
		fmt.Fprintf(stderr, "ebconform wire: %v\n", runErr)
		return 1
	}
	if wirekit.Count(results).Fail > 0 {
		return 1
	}
	return 0
}

// writeWire prints the results and writes the files the flags ask for.
func writeWire(f wireFlags, what string, args []string, stdout io.Writer, r *wirekit.Runner, results []wirekit.Result) error {
	var err error
	if f.json {
		err = wirekit.WriteJSON(stdout, what, f.settings, r.Restarts, results)
	} else {
		err = wirekit.WriteTable(stdout, results)
		if err == nil && r.Restarts > 0 {
			_, err = fmt.Fprintf(stdout, "the broker was restarted %d times\n", r.Restarts)
		}
	}
	write := func(path string, fn func(io.Writer) error) {
		if path == "" || err != nil {
			return
		}
		var file *os.File
		if file, err = os.Create(path); err != nil {
			return
		}
		err = errors.Join(fn(file), file.Close())
	}
	write(f.junit, func(w io.Writer) error { return wirekit.WriteJUnit(w, results) })
	write(f.report, func(w io.Writer) error {
		return wirekit.WriteMarkdown(w, what, "ebconform wire "+quoteArgs(args), f.settings, results)
	})
	return err
}

// quoteArgs prints args as a shell would need them.
func quoteArgs(args []string) string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " '\"{}$") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		out[i] = a
	}
	return strings.Join(out, " ")
}
