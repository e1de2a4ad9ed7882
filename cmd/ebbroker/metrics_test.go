package main

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/metrics"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// startMetricsBroker runs a broker on 127.0.0.1 with metrics on a real HTTP listener
// and returns it, the metrics address and a channel told of each worker joining.
func startMetricsBroker(t *testing.T, opts zmq.BrokerOptions) (*zmq.Broker, string, <-chan struct{}) {
	t.Helper()
	rec := metrics.NewRecorder()
	hook := metricsHook(rec)
	joined := make(chan struct{}, 16)
	opts.Frontend, opts.Backend = "tcp://127.0.0.1:*", zmq.NoBackend
	opts.Linger = -1
	opts.OnEvent = func(e zmq.Event) {
		hook(e)
		if e.Output.Event == core.WorkerJoined {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	}
	b, err := zmq.NewBroker(opts)
	if err != nil {
		t.Fatal(err)
	}
	addr, stop, err := serveMetrics("127.0.0.1:0", b, rec, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(errors.Join(err, b.Close()))
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- b.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	return b, addr, joined
}

// startEcho serves echo at endpoint until the end of the test.
func startEcho(t *testing.T, endpoint string, opts zmq.WorkerOptions) {
	t.Helper()
	w := zmq.NewWorker(endpoint, "echo", opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- w.Serve(ctx, func(_ context.Context, req [][]byte) [][]byte { return req })
	}()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %q %v", url, resp.StatusCode, body, err)
	}
	return string(body)
}

// TestMetrics scrapes /metrics over real HTTP after known traffic and checks the
// exact counts, and the names with client_golang's linter.
func TestMetrics(t *testing.T) {
	// The default interval: at 50 ms a loaded machine starved the worker past its
	// liveness, and the echo requests expired in the queue.
	hb := core.DefaultHeartbeatInterval
	b, addr, joined := startMetricsBroker(t, zmq.BrokerOptions{Config: core.BrokerConfig{
		HeartbeatInterval: hb, QueueExpiry: 200 * time.Millisecond}})
	startEcho(t, b.Frontend(), zmq.WorkerOptions{HeartbeatInterval: hb, Linger: -1})
	select {
	case <-joined:
	case <-t.Context().Done():
		t.Fatal("no worker joined")
	}
	c, err := zmq.NewClient(b.Frontend(), zmq.ClientOptions{Timeout: 10 * time.Second, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for range 3 {
		if _, err := c.Request(t.Context(), "echo", []byte("x")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Request(t.Context(), "nobody", []byte("x")); !errors.Is(err, zmq.ErrRefused) {
		t.Fatalf("request to nobody: %v; want refused (expired)", err)
	}
	if got := get(t, "http://"+addr+"/healthz"); got != "ok\n" {
		t.Errorf("/healthz = %q", got)
	}
	body := get(t, "http://"+addr+"/metrics")
	for _, want := range []string{
		`ebwrk_requests_total{service="echo"} 3`,
		`ebwrk_replies_total{service="echo"} 3`,
		`ebwrk_requests_total{service="nobody"} 1`,
		`ebwrk_replies_total{service="nobody"} 0`,
		`ebwrk_failures_total{reason="expired_in_queue",service="nobody"} 1`,
		`ebwrk_requeues_total{service="echo"} 0`,
		`ebwrk_workers{service="echo",state="idle"} 1`,
		`ebwrk_workers{service="echo",state="busy"} 0`,
		`ebwrk_queue_depth{service="echo"} 0`,
		`ebwrk_request_duration_seconds_count{service="echo"} 3`,
		`ebwrk_queue_wait_seconds_count{service="echo"} 3`,
		`ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0001"} 3`,
		`ebwrk_undeliverable_total 0`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s", body)
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}
