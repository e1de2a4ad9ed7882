// Command ebconform is the conformance kit for any Majordomo broker.
//
// Usage:
//
//	ebconform wire [flags] [case id or prefix ...]
//	ebconform scenario [flags] NAME|FILE
//	ebconform fidelity [flags]
//
// wire runs black-box RFC 7 (MDP/0.1) and RFC 8 (MMI) cases over real sockets
// against a running broker (--frontend, --backend) or one it starts (--exec), and
// prints a table, JSON (--json), JUnit XML (--junit) or a Markdown report (--report).
// Exit status: 0 when every selected case passed (or was skipped), 1 when any
// failed, 2 for a usage error or a broker that never came up.
//
// scenario runs a sim catalogue scenario (or a scenario file) live, with the broker
// (ebbroker, or --exec) and each worker as processes of their own and real faults,
// and prints it side by side with the sim run of the same scenario and seed (package
// live). Exit status: 0 when both verdicts hold and every gating row agrees, 1
// otherwise, 2 for a usage error or a run that could not be set up. fidelity does
// that for every live-capable catalogue scenario and writes reports/fidelity.md
// with latency plots. The hidden live-worker subcommand is a worker process of
// those runs (live.WorkerMain).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/ebwrk/ebwrk/live"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// commands are ebconform's subcommands.
var commands = []struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) int
}{
	{"wire", "black-box RFC 7 and RFC 8 cases against a broker over real sockets", runWire},
	{"scenario", "a catalogue scenario live on real sockets with real faults, side by side with the sim", runScenario},
	{"fidelity", "every live-capable catalogue scenario, sim vs live: reports/fidelity.md", runFidelity},
}

// run dispatches to the subcommand named by args[0].
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stdout)
		return 0
	}
	if args[0] == live.WorkerCommand {
		// Hidden: a worker process of a live scenario run.
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runLiveWorker(ctx, args[1:], stdout, stderr)
	}
	for _, c := range commands {
		if c.name == args[0] {
			ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return c.run(ctx, args[1:], stdout, stderr)
		}
	}
	fmt.Fprintf(stderr, "ebconform: unknown command %q (see ebconform -h)\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "Usage: ebconform COMMAND [flags]\n\nThe conformance kit for any Majordomo (MDP/0.1 + MMI) broker.\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'ebconform COMMAND -h' for a command's flags.")
}

// parseFlags parses args with fs; -h prints the help to stdout. It returns the exit
// status to end with, or -1 to go on.
func parseFlags(fs *flag.FlagSet, args []string, head string, stdout, stderr io.Writer) int {
	fs.SetOutput(io.Discard)
	err := fs.Parse(args)
	if errors.Is(err, flag.ErrHelp) {
		fmt.Fprint(stdout, head)
		fs.SetOutput(stdout)
		fs.PrintDefaults()
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "ebconform %s: %v (see ebconform %s -h)\n", fs.Name(), err, fs.Name())
		return 2
	}
	return -1
}
