package zmq

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"
)

// logWatch is a slog.Handler that lets a test wait for a log record by its message.
type logWatch struct {
	mu     sync.Mutex
	msgs   []string
	notify chan struct{} // closed and replaced at every record
}

func newLogWatch() *logWatch { return &logWatch{notify: make(chan struct{})} }

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler       { return w }
func (w *logWatch) WithGroup(string) slog.Handler            { return w }

func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	w.mu.Lock()
	w.msgs = append(w.msgs, r.Message)
	close(w.notify)
	w.notify = make(chan struct{})
	w.mu.Unlock()
	return nil
}

// wait waits for a record with message msg, logged at any time so far or later.
func (w *logWatch) wait(ctx context.Context, msg string) bool {
	for {
		w.mu.Lock()
		for _, m := range w.msgs {
			if m == msg {
				w.mu.Unlock()
				return true
			}
		}
		notify := w.notify
		w.mu.Unlock()
		select {
		case <-notify:
		case <-ctx.Done():
			return false
		}
	}
}

// The worker's log messages the test waits for.
const (
	logDropped = "worker message dropped: the connection to the broker is at its high-water mark"
	logWaits   = "worker reply waits: the connection to the broker is at its high-water mark"
)

// TestWorkerReplyWaits: a REPLY that meets the high-water mark is not dropped. The
// broker goes away while the handler runs; the worker's connection (high-water mark
// 1) fills with a heartbeat, so the reply cannot be queued when the handler returns.
// When a broker binds the endpoint again, the reply reaches it, after the heartbeat.
// Dropping it instead would leave the broker holding the worker busy for ever.
func TestWorkerReplyWaits(t *testing.T) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	first, ep := rawBrokerIn(t, zctx, "tcp://127.0.0.1:*")

	watch := newLogWatch()
	opts := testWorkerOptions
	opts.HeartbeatInterval, opts.Liveness = 100*time.Millisecond, 100 // the broker is not lost meanwhile
	opts.HighWaterMark = 1
	opts.Logger = slog.New(watch)
	w := NewWorker(ep, "echo", opts)
	ctx := ctxFor(t, waitLimit)
	started := make(chan struct{})
	handler := func(hctx context.Context, req [][]byte) [][]byte {
		close(started)
		// Answer once the connection is full: a heartbeat is queued and the next one
		// was dropped.
		if !watch.wait(ctx, logDropped) {
			t.Errorf("no %q log", logDropped)
		}
		return req
	}
	served := make(chan error, 1)
	wctx, stop := context.WithCancel(context.Background())
	go func() { served <- w.Serve(wctx, handler) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()

	ready := recvRaw(t, first, isReady)
	sendRaw(t, first, ready[0], "", "MDPW01", "\x02", "client-1", "", "held reply")
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the handler did not start")
	}
	// The broker goes away; its context's end closes the listener and the connection.
	closeRaw(t, first)
	if err := zctx.Term(); err != nil {
		t.Fatal(err)
	}
	if !watch.wait(ctx, logWaits) {
		t.Fatalf("no %q log", logWaits)
	}

	zctx2, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	second, _ := rawBrokerIn(t, zctx2, ep)
	defer func() {
		closeRaw(t, second)
		if err := zctx2.Term(); err != nil {
			t.Error(err)
		}
	}()
	got := recvRaw(t, second, func(m []string) bool { return len(m) != 4 || m[3] != "\x04" })
	want := []string{got[0], "", "MDPW01", "\x03", "client-1", "", "held reply"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("second broker got (-want +got):\n%s", d)
	}
}

// rawBrokerIn binds a plain ROUTER of zctx to ep and returns the endpoint bound; the
// caller closes it.
func rawBrokerIn(t *testing.T, zctx *zmq4.Context, ep string) (*zmq4.Socket, string) {
	t.Helper()
	s, err := zctx.NewSocket(zmq4.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind(ep); err != nil {
		t.Fatalf("bind %s: %v", ep, err)
	}
	got, err := s.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	return s, got
}
