package zmq

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// The benchmarks run every role on its own socket and ZeroMQ context (its own I/O
// thread, as separate processes would have), over 127.0.0.1 TCP:
//
//	go test -run '^$' -bench . -benchtime 1x ./transport/zmq/   (one pass of each)
//	go test -run '^$' -bench RoundTrip -benchtime 5000x -count 5 ./transport/zmq/

// benchBroker starts a broker on random 127.0.0.1 ports, stopped at the end of b.
func benchBroker(b *testing.B, cfg core.BrokerConfig) *Broker {
	b.Helper()
	return benchBrokerOpts(b, BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*", Config: cfg, Linger: -1})
}

// benchBrokerOpts starts a broker with opts, stopped at the end of b.
func benchBrokerOpts(b *testing.B, opts BrokerOptions) *Broker {
	b.Helper()
	br, err := NewBroker(opts)
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- br.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			b.Errorf("Broker.Run: %v", err)
		}
	})
	return br
}

// benchWorkers starts n echo workers, stopped at the end of b.
func benchWorkers(b *testing.B, endpoint string, n int) {
	b.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range n {
		w := NewWorker(endpoint, "echo", WorkerOptions{Linger: -1})
		wg.Go(func() {
			if err := w.Serve(ctx, echo); err != nil {
				b.Errorf("Worker.Serve: %v", err)
			}
		})
	}
	b.Cleanup(func() { cancel(); wg.Wait() })
}

// benchClient returns a client that never retries, so that a lost request fails.
func benchClient(b *testing.B, endpoint string) *Client {
	b.Helper()
	c, err := NewClient(endpoint, ClientOptions{Timeout: time.Minute, Attempts: 1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := c.Close(); err != nil {
			b.Errorf("Client.Close: %v", err)
		}
	})
	return c
}

// rawEcho is a plain ROUTER that echoes every message, in a context of its own: the
// far end of the physical limit on a round trip.
type rawEcho struct {
	zctx *zmq4.Context
	ep   string
	done chan error
}

func startRawEcho(b *testing.B) *rawEcho {
	b.Helper()
	zctx, err := zmq4.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	s, err := zctx.NewSocket(zmq4.ROUTER)
	if err != nil {
		b.Fatal(err)
	}
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		b.Fatal(err)
	}
	ep, err := s.GetLastEndpoint()
	if err != nil {
		b.Fatal(err)
	}
	e := &rawEcho{zctx: zctx, ep: ep, done: make(chan error, 1)}
	go func() { e.done <- errors.Join(e.serve(s), s.SetLinger(0), s.Close()) }()
	return e
}

// serve echoes until a "stop" message.
func (e *rawEcho) serve(s *zmq4.Socket) error {
	for {
		msg, err := s.RecvMessageBytes(0)
		if err != nil {
			return err
		}
		if len(msg) == 2 && string(msg[1]) == "stop" {
			return nil
		}
		if _, err := s.SendMessage(msg); err != nil {
			return err
		}
	}
}

// rawDealer is a plain DEALER in a context of its own.
type rawDealer struct {
	zctx *zmq4.Context
	s    *zmq4.Socket
}

func newRawDealer(b *testing.B, ep string) *rawDealer {
	b.Helper()
	zctx, err := zmq4.NewContext()
	if err != nil {
		b.Fatal(err)
	}
	s, err := zctx.NewSocket(zmq4.DEALER)
	if err != nil {
		b.Fatal(err)
	}
	if err := errors.Join(s.SetLinger(0), s.Connect(ep)); err != nil {
		b.Fatal(err)
	}
	return &rawDealer{zctx: zctx, s: s}
}

func (d *rawDealer) close(b *testing.B) {
	if err := errors.Join(d.s.Close(), d.zctx.Term()); err != nil {
		b.Errorf("raw dealer close: %v", err)
	}
}

// roundTrip sends frames on the raw dealer and waits for the answer.
func (d *rawDealer) roundTrip(b *testing.B, frames ...any) [][]byte {
	if _, err := d.s.SendMessage(frames...); err != nil {
		b.Fatal(err)
	}
	msg, err := d.s.RecvMessageBytes(0)
	if err != nil {
		b.Fatal(err)
	}
	return msg
}

// BenchmarkRoundTrip measures synchronous round trips through the broker with one
// worker (brokered, by this package's Client and Worker; raw-peers, by a plain
// DEALER client and a plain DEALER worker, so only the broker is ours) against the
// raw round trip of a DEALER and a ROUTER echo, in alternating blocks of the same run
// so that the load of the machine weighs on both alike. ratio is raw time / brokered
// time: 0.5 is the limit, a brokered trip having twice the hops.
func BenchmarkRoundTrip(b *testing.B) {
	b.Run("brokered", func(b *testing.B) {
		br := benchBroker(b, core.BrokerConfig{})
		benchWorkers(b, br.Backend(), 1)
		c := benchClient(b, br.Frontend())
		body := []byte("hello")
		compareRaw(b, func() {
			got, err := c.Request(context.Background(), "echo", body)
			if err != nil || len(got) != 1 {
				b.Fatalf("Request = %q, %v", got, err)
			}
		})
	})
	for _, one := range []bool{false, true} {
		name := "raw-peers"
		if one {
			name = "raw-peers-one-endpoint"
		}
		b.Run(name, func(b *testing.B) { rawPeersRoundTrip(b, one) })
	}
}

// rawPeersRoundTrip is BenchmarkRoundTrip through the broker, with a plain DEALER
// client and a plain DEALER worker; one puts both on the broker's frontend endpoint.
func rawPeersRoundTrip(b *testing.B, one bool) {
	opts := BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*", Linger: -1}
	if one {
		opts.Backend = NoBackend
	}
	br := benchBrokerOpts(b, opts)
	w := newRawDealer(b, br.Backend())
	defer w.close(b)
	if _, err := w.s.SendMessage("", "MDPW01", "\x01", "echo"); err != nil {
		b.Fatal(err)
	}
	stop := make(chan struct{})
	served := make(chan error, 1)
	go func() { served <- serveRawWorker(w.s, stop) }()
	c := newRawDealer(b, br.Frontend())
	defer c.close(b)
	compareRaw(b, func() {
		got := c.roundTrip(b, "", "MDPC01", "echo", "hello")
		if len(got) != 4 {
			b.Fatalf("reply %q", got)
		}
	})
	close(stop)
	if err := <-served; err != nil {
		b.Error(err)
	}
}

// serveRawWorker answers REQUESTs with REPLYs on a plain DEALER worker until stop,
// as lean as the raw echo: a blocking receive, with a timeout to heartbeat.
func serveRawWorker(s *zmq4.Socket, stop chan struct{}) error {
	if err := s.SetRcvtimeo(100 * time.Millisecond); err != nil {
		return err
	}
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		msg, err := s.RecvMessageBytes(0)
		if isAgain(err) {
			if _, err := s.SendMessage("", "MDPW01", "\x04"); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		if len(msg) >= 6 && msg[2][0] == 0x02 {
			if _, err := s.SendMessage("", "MDPW01", "\x03", msg[3], "", msg[5:]); err != nil {
				return err
			}
		}
	}
}

// compareRaw runs b.N brokered round trips (brokered) and b.N raw DEALER↔ROUTER echo
// round trips in alternating blocks, and reports both and their ratio.
func compareRaw(b *testing.B, brokered func()) {
	echo := startRawEcho(b)
	d := newRawDealer(b, echo.ep)
	for range 100 { // warm up both paths: connections, caches, scheduling
		brokered()
		d.roundTrip(b, "", "MDPC01", "echo", "hello")
	}
	const block = 50
	var raw, brk time.Duration
	b.ResetTimer()
	for done := 0; done < b.N; done += block {
		n := min(block, b.N-done)
		t0 := time.Now()
		for range n {
			d.roundTrip(b, "", "MDPC01", "echo", "hello")
		}
		t1 := time.Now()
		for range n {
			brokered()
		}
		raw += t1.Sub(t0)
		brk += time.Since(t1)
	}
	b.StopTimer()
	b.ReportMetric(float64(raw.Microseconds())/float64(b.N), "raw-µs/rt")
	b.ReportMetric(float64(brk.Microseconds())/float64(b.N), "brokered-µs/rt")
	b.ReportMetric(float64(raw)/float64(brk), "ratio")
	if _, err := d.s.SendMessage("stop"); err != nil {
		b.Fatal(err)
	}
	if err := <-echo.done; err != nil {
		b.Error(err)
	}
	d.close(b)
	if err := echo.zctx.Term(); err != nil {
		b.Error(err)
	}
}

// BenchmarkPipelined sends 100,000 requests per op from 200 goroutines on one Client
// through the broker to 1 and to 4 echo workers, and asserts that none is lost. It
// also measures the synchronous rate (one goroutine) in the same run and reports the
// speedup of pipelining over it.
func BenchmarkPipelined(b *testing.B) {
	const total, callers, syncN = 100000, 200, 2000
	for _, workers := range []int{1, 4} {
		b.Run(fmt.Sprintf("workers=%d", workers), func(b *testing.B) {
			br := benchBroker(b, core.BrokerConfig{QueueLimit: -1, QueueExpiry: -1})
			benchWorkers(b, br.Backend(), workers)
			c := benchClient(b, br.Frontend())
			request := func(i int) {
				want := fmt.Sprint(i)
				got, err := c.Request(context.Background(), "echo", []byte(want))
				if err != nil || len(got) != 1 || string(got[0]) != want {
					b.Errorf("request %d: reply %q, %v", i, got, err)
				}
			}
			start := time.Now()
			for i := range syncN {
				request(i)
			}
			syncRate := syncN / time.Since(start).Seconds()

			b.ResetTimer()
			start = time.Now()
			for range b.N {
				var next atomic.Int64
				var wg sync.WaitGroup
				for range callers {
					wg.Go(func() {
						for i := next.Add(1); i <= total; i = next.Add(1) {
							request(int(i))
						}
					})
				}
				wg.Wait()
			}
			rate := float64(b.N*total) / time.Since(start).Seconds()
			b.StopTimer()
			st := br.Stats()
			if want := uint64(b.N*total + syncN); st.Answered != want || st.Undeliverable != 0 {
				b.Errorf("broker answered %d (undeliverable %d); want %d, 0", st.Answered, st.Undeliverable, want)
			}
			if cs := c.Stats(); cs.Retries != 0 || cs.Replies != uint64(b.N*total+syncN) {
				b.Errorf("client: %d replies, %d retries; want %d, 0", cs.Replies, cs.Retries, b.N*total+syncN)
			}
			b.ReportMetric(rate, "req/s")
			b.ReportMetric(syncRate, "sync-req/s")
			b.ReportMetric(rate/syncRate, "speedup")
		})
	}
}

// BenchmarkQueuedRequestMemory measures the broker's heap per queued request: 20,000
// requests as the ebwrk Client sends them (envelope, "", "MDPC01", service, a 16-byte
// body), from a plain DEALER, to a service without workers.
func BenchmarkQueuedRequestMemory(b *testing.B) {
	const n = 20000
	for range b.N {
		br := benchBroker(b, core.BrokerConfig{QueueLimit: -1, QueueExpiry: -1})
		d := newRawDealer(b, br.Frontend())
		env := make([]byte, 8)
		body := []byte("0123456789abcdef")
		before := heapAlloc()
		for i := range n {
			env[7] = byte(i)
			if _, err := d.s.SendMessage(env, "", "MDPC01", "nobody", body); err != nil {
				b.Fatal(err)
			}
		}
		for queued := 0; queued < n; {
			// Wait for the broker to take them all (each query is a round trip to
			// its loop, not a sleep).
			queued = 0
			for _, s := range br.Services() {
				queued += s.Queued
			}
		}
		after := heapAlloc()
		b.ReportMetric(float64(after-before)/n, "B/queued-request")
		d.close(b)
	}
}

// heapAlloc returns the live heap after a full collection.
func heapAlloc() int64 {
	var m runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}
