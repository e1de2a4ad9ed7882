package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// Exit codes.
const (
	exitOK      = 0 // nothing lost, nothing answered wrongly, no process died by itself
	exitFailure = 1 // any of those, or the run could not be set up
	exitUsage   = 2 // bad flags
)

// run is the whole command. The hidden subcommands worker, client and rawecho are
// the processes ebbench starts from its own executable; they read their control
// words from the process's stdin.
func run(args []string, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(args) > 0 {
		childLog := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		switch args[0] {
		case "worker":
			return cmdWorker(ctx, args[1:], os.Stdin, childLog)
		case "client":
			return cmdClient(ctx, args[1:], os.Stdin, stdout, childLog)
		case "rawecho":
			return cmdRawEcho(ctx, args[1:], os.Stdin, childLog)
		case "soak":
			cfg, err := parseSoak(args[1:], stdout)
			if code, done := parsed(err, "ebbench soak", stderr); done {
				return code
			}
			return runSoak(ctx, cfg, newLogger(stderr, cfg.common.verbose), stdout, stderr)
		case "compare":
			cfg, err := parseCompare(args[1:], stdout)
			if code, done := parsed(err, "ebbench compare", stderr); done {
				return code
			}
			return runCompare(ctx, cfg, newLogger(stderr, cfg.common.verbose), stdout, stderr)
		case "help":
			fmt.Fprint(stdout, benchUsage)
			return exitOK
		}
	}
	cfg, err := parseBench(args, stdout)
	if code, done := parsed(err, "ebbench", stderr); done {
		return code
	}
	return runBench(ctx, cfg, newLogger(stderr, cfg.common.verbose), stdout, stderr)
}

// parsed turns a parse error into an exit: 0 after -h, 2 with one line otherwise.
func parsed(err error, name string, stderr io.Writer) (int, bool) {
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK, true
	case err != nil:
		fmt.Fprintf(stderr, "%s: %v (see %s -h)\n", name, err, name)
		return exitUsage, true
	}
	return 0, false
}

// newLogger logs warnings and errors to stderr, or everything with --verbose.
func newLogger(stderr io.Writer, verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}
