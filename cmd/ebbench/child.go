package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// cmdWorker is the hidden worker subcommand: a zmq.Worker with an echo handler, or
// with --plain a plain MDP/0.1 DEALER worker (servePlain),
// (optionally sleeping up to --delay-max first) until SIGINT, SIGTERM or the end of
// stdin (the parent is gone). It exits 1 when Serve fails: that is a worker process
// dying by itself, which ebbench reports. --exit-after makes it exit 3 by itself
// after a while, for the test of that report.
func cmdWorker(ctx context.Context, args []string, stdin io.Reader, log *slog.Logger) int {
	fs := flag.NewFlagSet("ebbench worker", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	backend := fs.String("backend", "", "broker backend")
	service := fs.String("service", "echo", "service")
	heartbeat := fs.Duration("heartbeat", 0, "heartbeat interval (0: the Worker's default)")
	delayMax := fs.Duration("delay-max", 0, "each request sleeps a random time up to this")
	exitAfter := fs.Duration("exit-after", 0, "exit 3 by itself after this (tests)")
	plain := fs.Bool("plain", false, "a plain MDP/0.1 DEALER worker, frames written out (plainworker.go)")
	concurrency := fs.Int("concurrency", 0, "requests handled at once, announced as the worker's credit (0 or 1: one at a time)")
	if err := fs.Parse(args); err != nil || *backend == "" {
		log.Error("bad arguments", "err", err, "backend", *backend)
		return 2
	}
	ctx, cancel := untilParentGone(ctx, stdin)
	defer cancel()
	if *exitAfter > 0 {
		time.AfterFunc(*exitAfter, func() { os.Exit(3) })
	}
	if *plain {
		if err := servePlain(ctx, *backend, *service, cmp.Or(*heartbeat, time.Second), log); err != nil {
			log.Error("worker died", "err", err)
			return 1
		}
		return 0
	}
	w := zmq.NewWorker(*backend, *service, zmq.WorkerOptions{HeartbeatInterval: *heartbeat, Logger: log, Concurrency: *concurrency})
	handler := func(ctx context.Context, req [][]byte) [][]byte {
		if *delayMax > 0 {
			t := time.NewTimer(rand.N(*delayMax))
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
		}
		return req
	}
	if err := w.Serve(ctx, handler); err != nil {
		log.Error("worker died", "err", err)
		return 1
	}
	return 0
}

// cmdRawEcho is the hidden rawecho subcommand: a zmq.RawEcho bound to --bind until
// SIGINT, SIGTERM or the end of stdin.
func cmdRawEcho(ctx context.Context, args []string, stdin io.Reader, log *slog.Logger) int {
	fs := flag.NewFlagSet("ebbench rawecho", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	bind := fs.String("bind", "", "endpoint to bind")
	if err := fs.Parse(args); err != nil || *bind == "" {
		log.Error("bad arguments", "err", err, "bind", *bind)
		return 2
	}
	ctx, cancel := untilParentGone(ctx, stdin)
	defer cancel()
	e, err := zmq.ListenRawEcho(*bind)
	if err != nil {
		log.Error("raw echo", "err", err)
		return 2
	}
	err = errors.Join(e.Serve(ctx), e.Close())
	if err != nil {
		log.Error("raw echo died", "err", err)
		return 1
	}
	return 0
}

// untilParentGone returns a context that ends with ctx or at the end of stdin: the
// parent closes a child's stdin when it stops, or the pipe breaks when it dies.
func untilParentGone(ctx context.Context, stdin io.Reader) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		for range readControl(stdin) {
		}
		cancel()
	}()
	return ctx, cancel
}
