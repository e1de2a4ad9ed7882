package main

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/internal/metrics"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// benchStack is a broker, an echo worker and a client over TCP on 127.0.0.1.
type benchStack struct {
	name   string
	client *zmq.Client
	times  []time.Duration // each round trip's
}

// newBenchStack starts a stack, with CURVE (and Access) or without, and with the
// metrics Recorder fed by every event (as with --metrics) or without.
func newBenchStack(b *testing.B, name string, curve, withMetrics bool) *benchStack {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	opts := zmq.BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: zmq.NoBackend, Linger: -1}
	var keys *zmq.CurveKeys
	if curve {
		spub, ssec := keyPair(b)
		ppub, psec := keyPair(b)
		opts.Curve = &zmq.BrokerCurve{SecretKey: ssec}
		opts.Config.Access = core.Access{Workers: []core.Grant{{Service: "echo", Key: ppub}}, Clients: []string{ppub}}
		keys = &zmq.CurveKeys{ServerKey: spub, PublicKey: ppub, SecretKey: psec}
	}
	joined := make(chan struct{}, 1)
	var hook func(zmq.Event)
	if withMetrics {
		hook = metricsHook(metrics.NewRecorder())
	}
	opts.OnEvent = func(e zmq.Event) {
		if hook != nil {
			hook(e)
		}
		if e.Output.Event == core.WorkerJoined {
			select {
			case joined <- struct{}{}:
			default:
			}
		}
	}
	br, err := zmq.NewBroker(opts)
	if err != nil {
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	w := zmq.NewWorker(br.Frontend(), "echo", zmq.WorkerOptions{Linger: -1, Curve: keys})
	wdone := make(chan error, 1)
	go func() {
		wdone <- w.Serve(ctx, func(_ context.Context, req [][]byte) [][]byte { return req })
	}()
	<-joined
	c, err := zmq.NewClient(br.Frontend(), zmq.ClientOptions{Timeout: 10 * time.Second, Attempts: 1, Curve: keys})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Error(err)
		}
		cancel()
		if err := <-wdone; err != nil {
			b.Error(err)
		}
		if err := <-done; err != nil {
			b.Error(err)
		}
	})
	return &benchStack{name: name, client: c}
}

// BenchmarkSyncRoundTrip measures one client's request-reply round trip through the
// broker, with CURVE off and on and metrics off and on, in one run: four stacks
// (broker, worker, client) take turns in blocks of 10 round trips, so that all see
// the same load on a shared machine. It reports each stack's median round trip (the
// median, since a shared machine's stalls hit the mean) and its ratio to the plain
// stack's; one op is one round trip (of the stack whose turn it is).
func BenchmarkSyncRoundTrip(b *testing.B) {
	stacks := []*benchStack{
		newBenchStack(b, "plain", false, false),
		newBenchStack(b, "metrics", false, true),
		newBenchStack(b, "curve", true, false),
		newBenchStack(b, "curve+metrics", true, true),
	}
	ctx := b.Context()
	body := []byte("hello")
	const block = 10
	i := 0
	for b.Loop() {
		s := stacks[(i/block)%len(stacks)]
		i++
		start := time.Now()
		if _, err := s.client.Request(ctx, "echo", body); err != nil {
			b.Fatal(s.name, err)
		}
		s.times = append(s.times, time.Since(start))
	}
	plain := median(stacks[0].times)
	for _, s := range stacks {
		per := median(s.times)
		b.ReportMetric(per*1e6, "µs/"+s.name)
		if s != stacks[0] {
			b.ReportMetric(per/plain, s.name+"/plain")
		}
	}
}

// median returns the median of ds in seconds.
func median(ds []time.Duration) float64 {
	if len(ds) == 0 {
		return 0
	}
	ds = slices.Clone(ds)
	slices.Sort(ds)
	return ds[len(ds)/2].Seconds()
}

func keyPair(b *testing.B) (public, secret string) {
	b.Helper()
	public, secret, err := zmq.NewCurveKeyPair()
	if err != nil {
		b.Fatal(err)
	}
	return public, secret
}
