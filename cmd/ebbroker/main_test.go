package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

const waitLimit = 20 * time.Second

func TestRunUsage(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	busyEP := "tcp://" + busy.Addr().String()
	for _, tc := range []struct {
		name       string
		args       []string
		code       int
		stdout     string // a substring of stdout
		stderrLine string // a substring of the one line of stderr
	}{
		{"help", []string{"-h"}, 0, "Usage: ebbroker", ""},
		{"help names the hold limit", []string{"-h"}, 0, "-hold-limit duration", ""},
		// The bad endpoint makes a missing check fail fast instead of serving.
		{"negative hold limit", []string{"--hold-limit", "-1s", "--frontend", "nonsense", "--backend", "-"}, 2, "", "--hold-limit -1s: must not be negative (0 means no limit)"},
		{"bad hold limit", []string{"--hold-limit", "long"}, 2, "", "invalid value \"long\" for flag -hold-limit"},
		{"unknown flag", []string{"--nope"}, 2, "", "flag provided but not defined: -nope"},
		{"bad duration", []string{"--heartbeat", "soon"}, 2, "", "invalid value \"soon\" for flag -heartbeat"},
		{"bad liveness", []string{"--liveness", "0"}, 2, "", "--liveness 0: must be at least 1"},
		{"bad policy", []string{"--on-worker-death", "ignore"}, 2, "", "--on-worker-death \"ignore\": want requeue or fail"},
		{"bad log level", []string{"--log-level", "loud"}, 2, "", "--log-level \"loud\""},
		{"bad log format", []string{"--log-format", "xml"}, 2, "", "--log-format \"xml\": want text or json"},
		{"argument", []string{"extra"}, 2, "", "unexpected argument \"extra\""},
		{"endpoint in use", []string{"--frontend", busyEP, "--backend", "tcp://127.0.0.1:*"}, 2, "", "zmq: bind " + busyEP},
		{"bad endpoint", []string{"--frontend", "nonsense", "--backend", "-"}, 2, "", "zmq: bind nonsense"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Errorf("run(%q) = %d; want %d (stderr %q)", tc.args, code, tc.code, stderr.String())
			}
			if !strings.Contains(stdout.String(), tc.stdout) {
				t.Errorf("stdout %q; want it to contain %q", stdout.String(), tc.stdout)
			}
			if tc.stderrLine == "" {
				if stderr.Len() != 0 {
					t.Errorf("stderr %q; want nothing", stderr.String())
				}
				return
			}
			lines := strings.Split(strings.TrimSuffix(stderr.String(), "\n"), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tc.stderrLine) {
				t.Errorf("stderr %q; want one line containing %q", stderr.String(), tc.stderrLine)
			}
		})
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want core.BrokerConfig
	}{
		{"every broker flag", []string{"--frontend", "tcp://*:7000", "--backend", "-", "--heartbeat", "250ms",
			"--liveness", "5", "--queue-limit", "0", "--queue-expiry", "0", "--on-worker-death", "fail", "--hold-limit", "90s"},
			core.BrokerConfig{HeartbeatInterval: 250 * time.Millisecond, Liveness: 5, QueueLimit: -1,
				QueueExpiry: -1, OnWorkerDeath: core.FailRequest, HoldLimit: 90 * time.Second}},
		{"hold limit off by default", []string{"--frontend", "tcp://*:7000", "--backend", "-"},
			core.BrokerConfig{HeartbeatInterval: core.DefaultHeartbeatInterval, Liveness: core.DefaultLiveness,
				QueueLimit: core.DefaultQueueLimit, QueueExpiry: core.DefaultQueueExpiry}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := parse(tc.args, io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			want := zmq.BrokerOptions{Frontend: "tcp://*:7000", Backend: zmq.NoBackend, Linger: time.Second, Config: tc.want}
			if d := cmp.Diff(want, cfg.broker); d != "" {
				t.Errorf("parse mismatch (-want +got):\n%s", d)
			}
		})
	}
}

// TestBinary builds ebbroker, runs it as a process, serves a request through it and
// stops it with SIGTERM.
func TestBinary(t *testing.T) {
	gobin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command to build ebbroker with")
	}
	bin := filepath.Join(t.TempDir(), "ebbroker")
	build := exec.CommandContext(t.Context(), gobin, "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ctx, cancel := context.WithTimeout(t.Context(), waitLimit)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--frontend", "tcp://127.0.0.1:*", "--backend", "tcp://127.0.0.1:*",
		"--heartbeat", "100ms", "--log-format", "json", "--log-level", "debug")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ebbroker: %v", err)
	}
	logs := make(chan map[string]any, 1000)
	go func() {
		defer close(logs)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var rec map[string]any
			if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
				rec = map[string]any{"msg": "not JSON: " + sc.Text()}
			}
			logs <- rec
		}
	}()
	next := func(msg string) map[string]any {
		t.Helper()
		for rec := range logs {
			if rec["msg"] == msg {
				return rec
			}
		}
		t.Fatalf("ebbroker ended its log without %q", msg)
		return nil
	}

	listening := next("broker listening")
	front, _ := listening["frontend"].(string)
	back, _ := listening["backend"].(string)
	w := zmq.NewWorker(back, "echo", zmq.WorkerOptions{HeartbeatInterval: 100 * time.Millisecond, Linger: -1})
	wctx, wstop := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- w.Serve(wctx, func(_ context.Context, r [][]byte) [][]byte { return r }) }()
	c, err := zmq.NewClient(front, zmq.ClientOptions{Timeout: waitLimit, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got, err := c.Request(ctx, "echo", []byte("through the binary"))
	if err != nil || len(got) != 1 || string(got[0]) != "through the binary" {
		t.Errorf("Request = %q, %v; want the echo", got, err)
	}
	joined := next("worker joined")
	if joined["service"] != "echo" {
		t.Errorf("worker joined log %v; want service echo", joined)
	}
	wstop()
	if err := <-served; err != nil {
		t.Errorf("Worker.Serve: %v", err)
	}
	// Unreachable: a heartbeat to the worker met its closed connection before the
	// broker read its DISCONNECT. Both mean it left.
	left := next("worker left")
	if r := left["reason"]; r != core.Disconnected.String() && r != core.Unreachable.String() {
		t.Errorf("worker left log %v; want reason %q (or %q)", left, core.Disconnected, core.Unreachable)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stopped := next("broker stopped")
	if stopped["answered"] != 1.0 {
		t.Errorf("broker stopped log %v; want answered 1", stopped)
	}
	for range logs {
	}
	if err := cmd.Wait(); err != nil {
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			t.Fatalf("ebbroker exit status %d after SIGTERM; want 0", exit.ExitCode())
		}
		t.Fatal(err)
	}
}
