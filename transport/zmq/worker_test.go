package zmq

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// TestWorkerHeartbeatsWhileBusy: a handler that works for several times the broker's
// expiry does not get its worker expired, because the worker heartbeats meanwhile.
func TestWorkerHeartbeatsWhileBusy(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	const work = 5 * testLiveness * testHeartbeat
	startWorker(t, b.Backend(), "slow", func(ctx context.Context, request [][]byte) [][]byte {
		// The work itself: the handler is busy for this long.
		select {
		case <-time.After(work):
		case <-ctx.Done():
		}
		return request
	})
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	got, err := c.Request(ctxFor(t, waitLimit), "slow", []byte("done"))
	if err != nil {
		t.Fatalf("Request: %v", err)
	}
	if d := cmp.Diff([]string{"done"}, strs(got)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	if n := b.rec.count(isEvent(core.WorkerRemoved, "slow")); n != 0 {
		t.Errorf("busy worker removed %d times; want 0", n)
	}
}

// TestWorkerRecv: the seed's loop style, a video.cut worker that sets status 1 on the
// request and returns it.
func TestWorkerRecv(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	w := NewWorker(b.Backend(), "video.cut", testWorkerOptions)
	served := make(chan error, 1)
	go func() {
		var reply any
		for {
			var request map[string]any
			if err := w.RecvJSON(t.Context(), reply, &request); err != nil {
				served <- err
				return
			}
			request["status"] = 1
			reply = request
		}
	}()
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	for _, file := range []string{"a.mp4", "b.mp4"} {
		var got map[string]any
		if err := c.RequestJSON(ctxFor(t, waitLimit), "video.cut", map[string]any{"file": file}, &got); err != nil {
			t.Fatalf("RequestJSON: %v", err)
		}
		if d := cmp.Diff(map[string]any{"file": file, "status": 1.0}, got); d != "" {
			t.Errorf("reply mismatch (-want +got):\n%s", d)
		}
	}
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-served; !errors.Is(err, ErrWorkerStopped) {
		t.Errorf("RecvJSON after Close: %v; want ErrWorkerStopped", err)
	}
	if err := w.Serve(t.Context(), echo); !errors.Is(err, ErrWorkerServing) {
		t.Errorf("Serve after Recv: %v; want ErrWorkerServing", err)
	}
}

// rawBroker binds a plain ROUTER on a random port: a broker whose every frame the
// test writes out.
func rawBroker(t *testing.T) (*zmq4.Socket, string) {
	t.Helper()
	s, err := zmq4.NewSocket(zmq4.ROUTER)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeRaw(t, s) })
	if err := s.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := s.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, err := s.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	return s, ep
}

// isReady matches a READY for echo after the identity frame.
func isReady(m []string) bool {
	return len(m) == 5 && m[1] == "" && m[2] == "MDPW01" && m[3] == "\x01" && m[4] == "echo"
}

// TestWorkerReconnects: after DISCONNECT, and after the broker goes silent, the worker
// registers again on a new connection (a new identity at the ROUTER).
func TestWorkerReconnects(t *testing.T) {
	for _, tc := range []struct {
		name string
		act  func(t *testing.T, broker *zmq4.Socket, id string)
	}{
		{"DISCONNECT", func(t *testing.T, broker *zmq4.Socket, id string) {
			sendRaw(t, broker, id, "", "MDPW01", "\x05")
		}},
		{"silent broker", func(*testing.T, *zmq4.Socket, string) {}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			broker, ep := rawBroker(t)
			startWorker(t, ep, "echo", echo)
			first := recvRaw(t, broker, isReady)
			tc.act(t, broker, first[0])
			second := recvRaw(t, broker, isReady)
			if second[0] == first[0] {
				t.Errorf("READY again from identity %q; want a new connection", first[0])
			}
		})
	}
}

// TestWorkerDisconnectWhileBusy: a DISCONNECT that arrives while the handler runs is
// read at once by the worker's keeper: the handler's context ends and the worker
// registers again on a new connection without waiting for the handler to answer.
// The raw broker never heartbeats, so the worker runs with a 1 s interval: with the
// tests' 50 ms it gave up on the silent broker within 150 ms, and a loaded machine
// sent the REQUEST to a connection already gone (the test then waited forever). The
// keeper reads every half interval, so the DISCONNECT must bring the new READY well
// before the worker's 3 s silence bound would.
func TestWorkerDisconnectWhileBusy(t *testing.T) {
	broker, ep := rawBroker(t)
	started, lost := make(chan struct{}), make(chan struct{})
	opts := testWorkerOptions
	opts.HeartbeatInterval = time.Second
	silence := time.Duration(opts.Liveness) * opts.HeartbeatInterval
	startWorkerWith(t, ep, "echo", opts, func(ctx context.Context, request [][]byte) [][]byte {
		close(started)
		<-ctx.Done()
		close(lost)
		return request
	})
	first := recvRaw(t, broker, isReady)
	sendRaw(t, broker, first[0], "", "MDPW01", "\x02", "client", "", "body")
	select {
	case <-started:
	case <-time.After(waitLimit):
		t.Fatal("the worker's handler did not start within the wait limit")
	}
	sent := time.Now()
	sendRaw(t, broker, first[0], "", "MDPW01", "\x05")
	second := recvRaw(t, broker, isReady)
	if second[0] == first[0] {
		t.Errorf("READY again from identity %q; want a new connection", first[0])
	}
	if d := time.Since(sent); d >= silence {
		t.Errorf("READY again %v after DISCONNECT; want it before the %v silence bound (the keeper did not read the DISCONNECT)", d, silence)
	}
	select {
	case <-lost:
	case <-time.After(waitLimit):
		t.Fatal("the handler's context did not end after DISCONNECT")
	}
}

// TestWorkerStopRequeues: a worker stopped while its handler runs sends DISCONNECT,
// and the broker gives the request to another worker.
func TestWorkerStopRequeues(t *testing.T) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat,
		Liveness: testLiveness, OnWorkerDeath: testDeathPolicy(t)}})
	mark := b.rec.mark()
	started := make(chan struct{})
	stop := startWorker(t, b.Backend(), "echo", func(ctx context.Context, request [][]byte) [][]byte {
		close(started)
		<-ctx.Done()
		return frames("from the stopped worker")
	})
	mark = b.waitJoined(t, mark, "echo", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	done := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("handed over"))
		done <- result{body, err}
	}()
	<-started
	startWorker(t, b.Backend(), "echo", echo)
	b.waitJoined(t, mark, "echo", 1)
	stop()
	r := <-done
	if r.err != nil {
		t.Fatalf("Request: %v; want the reply of the other worker", r.err)
	}
	if d := cmp.Diff([]string{"handed over"}, strs(r.body)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	// Unreachable: a message to the worker met its closed connection before the
	// broker read its DISCONNECT (ZeroMQ reports the connection's end to a send at
	// once, and a receive reads what came before it first). Both mean it left.
	e, _ := b.rec.waitFor(t, 0, "worker removed", isEvent(core.WorkerRemoved, "echo"))
	if r := e.Output.Reason; r != core.Disconnected && r != core.Unreachable {
		t.Errorf("stopped worker removed with reason %q; want %q (or %q)", r, core.Disconnected, core.Unreachable)
	}
}

// TestWorkerCloseBeforeRecv: a worker closed before it served stops at once.
func TestWorkerCloseBeforeRecv(t *testing.T) {
	w := NewWorker("tcp://127.0.0.1:1", "echo", testWorkerOptions)
	if err := w.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := w.Recv(t.Context(), nil); !errors.Is(err, ErrWorkerStopped) {
		t.Errorf("Recv after Close: %v; want ErrWorkerStopped", err)
	}
}
