package zmq

import (
	"context"
	"errors"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"
)

// TestEndedError: the error of an ended Client or Worker matches ErrClosed, a
// Worker's ErrWorkerStopped too, and its cause.
func TestEndedError(t *testing.T) {
	cause := zmq4.Errno(syscall.ENOTSOCK)
	for _, e := range []*EndedError{{Cause: cause}, {Worker: true, Cause: cause}} {
		var err error = e
		if !errors.Is(err, ErrClosed) || !errors.Is(err, cause) {
			t.Errorf("%v: want it to match ErrClosed and %v", err, cause)
		}
		if got := errors.Is(err, ErrWorkerStopped); got != e.Worker {
			t.Errorf("%v: errors.Is(ErrWorkerStopped) = %v; want %v", err, got, e.Worker)
		}
	}
}

// TestClientSurvivesSocketError: a send that fails with a socket error (ENOTSOCK,
// injected once) does not end the client: it reconnects, says so in its log, and the
// request succeeds by its retry on the new connection.
func TestClientSurvivesSocketError(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	mark := b.rec.mark()
	startWorker(t, b.Backend(), "echo", echo)
	b.waitJoined(t, mark, "echo", 1)
	watch := newLogWatch()
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: 300 * time.Millisecond, Attempts: 3, Logger: slog.New(watch)})
	c.loop.out.faults = faults{every: 1, errno: syscall.ENOTSOCK, n: 1} // no loop runs yet

	got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("again"))
	if err != nil {
		t.Fatalf("Request: %v; want the reply after a reconnect", err)
	}
	if d := cmp.Diff([]string{"again"}, strs(got)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	if !watch.wait(ctxFor(t, waitLimit), "client reconnects after a socket error") {
		t.Error("no reconnect in the client's log")
	}
}

// TestClientEndsWithCause: a socket error that reconnecting does not cure (every
// receive fails with ENOTSOCK) ends the client, and every caller learns why: the request
// outstanding, a later one and Close all get an error that matches ErrClosed and the
// cause, and the client logs it.
func TestClientEndsWithCause(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	watch := newLogWatch()
	c, err := NewClient(b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1, Logger: slog.New(watch)})
	if err != nil {
		t.Fatal(err)
	}
	c.loop.scratch.faults = faults{every: 1, errno: syscall.ENOTSOCK, n: 1 << 30} // no loop runs yet
	cause := zmq4.Errno(syscall.ENOTSOCK)

	_, err = c.Request(ctxFor(t, waitLimit), "echo", []byte("lost"))
	var ended *EndedError
	if !errors.Is(err, ErrClosed) || !errors.Is(err, cause) || !errors.As(err, &ended) {
		t.Errorf("Request: %v; want an *EndedError matching ErrClosed and %v", err, cause)
	}
	if _, err := c.Request(ctxFor(t, waitLimit), "echo"); !errors.Is(err, ErrClosed) || !errors.Is(err, cause) {
		t.Errorf("Request after the end: %v; want it to match ErrClosed and %v", err, cause)
	}
	if err := c.Close(); !errors.Is(err, cause) {
		t.Errorf("Close: %v; want the cause %v", err, cause)
	}
	if !watch.wait(ctxFor(t, waitLimit), "client ended") {
		t.Error("no end in the client's log")
	}
}

// injectWorkerFaults makes the receives of the workers started from now on fail with
// errno n times, every part, until the end of the test.
func injectWorkerFaults(t *testing.T, errno syscall.Errno, n int32) {
	workerFaults = func() faults { return faults{every: 1, errno: errno, n: n} }
	t.Cleanup(func() { workerFaults = nil })
}

// TestWorkerSurvivesSocketError: a receive that fails with a socket error (ENOTSOCK,
// injected once) does not end the worker: it registers again on a new connection,
// says so in its log, and serves.
func TestWorkerSurvivesSocketError(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	injectWorkerFaults(t, syscall.ENOTSOCK, 1)
	watch := newLogWatch()
	opts := testWorkerOptions
	opts.Logger = slog.New(watch)
	w := NewWorker(b.Backend(), "echo", opts)
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- w.Serve(ctx, echo) }()
	defer func() {
		stop()
		if err := <-served; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}()
	if !watch.wait(ctxFor(t, waitLimit), "worker reconnects after a socket error") {
		t.Fatal("no reconnect in the worker's log")
	}
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit})
	if got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("served")); err != nil || len(got) != 1 || string(got[0]) != "served" {
		t.Errorf("Request = %q, %v; want the echo", got, err)
	}
}

// TestWorkerEndsWithCause: a socket error that reconnecting does not cure (every
// receive fails with ENOTSOCK) ends the worker: Serve returns an error that matches
// ErrClosed, ErrWorkerStopped and the cause, and the worker logs it; Recv, in the
// loop style, returns the same.
func TestWorkerEndsWithCause(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	injectWorkerFaults(t, syscall.ENOTSOCK, 1<<30)
	cause := zmq4.Errno(syscall.ENOTSOCK)
	watch := newLogWatch()
	opts := testWorkerOptions
	opts.Logger = slog.New(watch)
	err := NewWorker(b.Backend(), "echo", opts).Serve(ctxFor(t, waitLimit), echo)
	var ended *EndedError
	if !errors.As(err, &ended) || !errors.Is(err, ErrClosed) || !errors.Is(err, ErrWorkerStopped) || !errors.Is(err, cause) {
		t.Errorf("Serve: %v; want an *EndedError matching ErrClosed, ErrWorkerStopped and %v", err, cause)
	}
	if !watch.wait(ctxFor(t, waitLimit), "worker ended") {
		t.Error("no end in the worker's log")
	}

	w := NewWorker(b.Backend(), "echo", testWorkerOptions)
	if _, err := w.Recv(ctxFor(t, waitLimit), nil); !errors.Is(err, ErrWorkerStopped) || !errors.Is(err, cause) {
		t.Errorf("Recv: %v; want it to match ErrWorkerStopped and %v", err, cause)
	}
	if err := w.Close(); !errors.Is(err, cause) {
		t.Errorf("Close: %v; want the cause %v", err, cause)
	}
}
