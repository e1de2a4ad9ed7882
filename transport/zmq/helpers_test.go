package zmq

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// Test timing: short heartbeats keep the tests fast; waitLimit bounds every wait for an
// outcome, generously, since the machine is shared.
const (
	testHeartbeat = 50 * time.Millisecond
	testLiveness  = 3
	waitLimit     = 10 * time.Second
)

// testWorkerOptions are worker options matching the test brokers' heartbeat.
var testWorkerOptions = WorkerOptions{
	HeartbeatInterval: testHeartbeat,
	Liveness:          testLiveness,
	ReconnectInitial:  testHeartbeat,
	ReconnectMax:      4 * testHeartbeat,
	Linger:            -1,
}

// recorder keeps every event of a broker, so that a test can wait for one.
type recorder struct {
	mu     sync.Mutex
	events []Event
	notify chan struct{} // closed and replaced at every event
}

func newRecorder() *recorder { return &recorder{notify: make(chan struct{})} }

func (r *recorder) add(e Event) {
	e.Output.Frames, e.Output.Body = nil, nil
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.notify)
	r.notify = make(chan struct{})
	r.mu.Unlock()
}

// mark returns the number of events so far, to wait for later ones only.
func (r *recorder) mark() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.events)
}

// all returns the events so far.
func (r *recorder) all() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// count returns how many events match.
func (r *recorder) count(match func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events {
		if match(e) {
			n++
		}
	}
	return n
}

// waitFor waits for the first event from index from on that matches, and returns it
// with the index after it.
func (r *recorder) waitFor(t *testing.T, from int, what string, match func(Event) bool) (Event, int) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		for i := from; i < len(r.events); i++ {
			if match(r.events[i]) {
				e := r.events[i]
				r.mu.Unlock()
				return e, i + 1
			}
		}
		from = len(r.events)
		notify := r.notify
		r.mu.Unlock()
		select {
		case <-notify:
		case <-deadline.C:
			t.Fatalf("no %s within %v", what, waitLimit)
		case <-t.Context().Done():
			t.Fatalf("no %s: test ended", what)
		}
	}
}

// isEvent matches core events of kind k, and of service s when s is not empty.
func isEvent(k core.EventKind, s string) func(Event) bool {
	return func(e Event) bool {
		return e.Undeliverable == nil && e.Output.Event == k && (s == "" || e.Output.Service == s)
	}
}

// testBroker is a Broker running on 127.0.0.1 with random ports.
type testBroker struct {
	*Broker
	rec    *recorder
	cancel context.CancelFunc
	done   chan error
}

// startBroker starts a broker with opts; empty endpoints become random 127.0.0.1
// ports and a zero heartbeat testHeartbeat. It stops at the end of the test.
func startBroker(t *testing.T, opts BrokerOptions) *testBroker {
	t.Helper()
	if opts.Frontend == "" {
		opts.Frontend = "tcp://127.0.0.1:*"
	}
	if opts.Backend == "" {
		opts.Backend = "tcp://127.0.0.1:*"
	}
	if opts.Config.HeartbeatInterval == 0 {
		opts.Config.HeartbeatInterval = testHeartbeat
		opts.Config.Liveness = testLiveness
	}
	if opts.Linger == 0 {
		opts.Linger = 100 * time.Millisecond
	}
	rec := newRecorder()
	opts.OnEvent = rec.add
	b, err := NewBroker(opts)
	if err != nil {
		t.Fatalf("NewBroker: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	tb := &testBroker{Broker: b, rec: rec, cancel: cancel, done: make(chan error, 1)}
	go func() { tb.done <- b.Run(ctx) }()
	t.Cleanup(func() { tb.stop(t) })
	return tb
}

// stop stops the broker and waits for Run to return; a second stop does nothing.
func (tb *testBroker) stop(t *testing.T) {
	t.Helper()
	tb.cancel()
	select {
	case err, ok := <-tb.done:
		if ok && err != nil {
			t.Errorf("Broker.Run: %v", err)
		}
		if ok {
			close(tb.done)
		}
	case <-time.After(waitLimit):
		t.Errorf("Broker.Run did not return within %v of its stop", waitLimit)
	}
}

// waitJoined waits for the n-th worker of service to join after event index from.
func (tb *testBroker) waitJoined(t *testing.T, from int, service string, n int) int {
	t.Helper()
	for range n {
		_, from = tb.rec.waitFor(t, from, "worker joined "+service, isEvent(core.WorkerJoined, service))
	}
	return from
}

// startWorker serves service at endpoint with h until the end of the test.
func startWorker(t *testing.T, endpoint, service string, h Handler) context.CancelFunc {
	t.Helper()
	return startWorkerWith(t, endpoint, service, testWorkerOptions, h)
}

// startWorkerWith is startWorker with the worker's options.
func startWorkerWith(t *testing.T, endpoint, service string, opts WorkerOptions, h Handler) context.CancelFunc {
	t.Helper()
	w := NewWorker(endpoint, service, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx, h) }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("Worker.Serve: %v", err)
				}
			case <-time.After(waitLimit):
				t.Errorf("Worker.Serve did not return within %v of its stop", waitLimit)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// echo is a Handler that replies with the request.
func echo(_ context.Context, request [][]byte) [][]byte { return request }

// newClient returns a client of endpoint, closed at the end of the test.
func newClient(t *testing.T, endpoint string, opts ClientOptions) *Client {
	t.Helper()
	c, err := NewClient(endpoint, opts)
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	t.Cleanup(func() {
		if err := c.Close(); err != nil {
			t.Errorf("Client.Close: %v", err)
		}
	})
	return c
}

// rawSocket opens a plain socket of type typ connected to endpoint, closed at the end
// of the test: a peer that speaks frames written out in the test.
func rawSocket(t *testing.T, typ zmq4.Type, endpoint string) *zmq4.Socket {
	t.Helper()
	s, err := zmq4.NewSocket(typ)
	if err != nil {
		t.Fatalf("NewSocket: %v", err)
	}
	if err := s.SetLinger(0); err != nil {
		t.Fatalf("SetLinger: %v", err)
	}
	if err := s.Connect(endpoint); err != nil {
		t.Fatalf("Connect %s: %v", endpoint, err)
	}
	t.Cleanup(func() { closeRaw(t, s) })
	return s
}

// closeRaw closes a raw socket; closing it twice is fine.
func closeRaw(t *testing.T, s *zmq4.Socket) {
	t.Helper()
	if err := s.Close(); err != nil && !errors.Is(err, zmq4.ErrorSocketClosed) {
		t.Errorf("Close: %v", err)
	}
}

// sendRaw sends frames as one message.
func sendRaw(t *testing.T, s *zmq4.Socket, frames ...string) {
	t.Helper()
	parts := make([]any, len(frames))
	for i, f := range frames {
		parts[i] = f
	}
	if _, err := s.SendMessage(parts...); err != nil {
		t.Fatalf("SendMessage: %v", err)
	}
}

// recvRaw waits for the next message matching keep on s, skipping others (such as
// heartbeats), and returns its frames as strings.
func recvRaw(t *testing.T, s *zmq4.Socket, keep func([]string) bool) []string {
	t.Helper()
	p := zmq4.NewPoller()
	p.Add(s, zmq4.POLLIN)
	deadline := time.Now().Add(waitLimit)
	for {
		left := time.Until(deadline)
		if left <= 0 {
			t.Fatalf("no message within %v", waitLimit)
		}
		polled, err := p.Poll(left)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if len(polled) == 0 {
			continue
		}
		msg, err := s.RecvMessage(0)
		if err != nil {
			t.Fatalf("RecvMessage: %v", err)
		}
		if keep == nil || keep(msg) {
			return msg
		}
	}
}

// notHeartbeat keeps every message but the worker-protocol HEARTBEAT.
func notHeartbeat(m []string) bool {
	return !(len(m) == 3 && m[0] == "" && m[1] == core.WorkerHeader && m[2] == "\x04")
}

// strs turns frames into strings, for cmp.
func strs(frames [][]byte) []string {
	out := make([]string, len(frames))
	for i, f := range frames {
		out[i] = string(f)
	}
	return out
}

// frames turns strings into frames.
func frames(s ...string) [][]byte {
	out := make([][]byte, len(s))
	for i, x := range s {
		out[i] = []byte(x)
	}
	return out
}

// ctxFor returns a context that ends at the end of the test or after d.
func ctxFor(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), d)
	t.Cleanup(cancel)
	return ctx
}

// Socket types of the raw peers.
const (
	dealer = zmq4.DEALER
	router = zmq4.ROUTER
	req    = zmq4.REQ
)
