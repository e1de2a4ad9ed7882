package zmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/core"
)

func TestEchoRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		name    string
		backend string
	}{
		{"two endpoints", ""},
		{"one endpoint", NoBackend},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := startBroker(t, BrokerOptions{Backend: tc.backend})
			startWorker(t, b.Backend(), "echo", echo)
			c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
			for _, body := range [][]string{{"hello"}, {"a", "", "c"}, {""}} {
				got, err := c.Request(ctxFor(t, waitLimit), "echo", frames(body...)...)
				if err != nil {
					t.Fatalf("Request(%q): %v", body, err)
				}
				if d := cmp.Diff(body, strs(got)); d != "" {
					t.Errorf("Request(%q) reply mismatch (-want +got):\n%s", body, d)
				}
			}
			st := b.Stats()
			if st.Answered != 3 || st.Undeliverable != 0 {
				t.Errorf("Stats: answered %d, undeliverable %d; want 3, 0", st.Answered, st.Undeliverable)
			}
		})
	}
}

func TestMMI(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	mark := b.rec.mark()
	startWorker(t, b.Backend(), "echo", echo)
	b.waitJoined(t, mark, "echo", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	for _, tc := range []struct {
		name    string
		service string
		body    []string
		want    []string
	}{
		{"registered", "mmi.service", []string{"echo"}, []string{"200"}},
		{"unknown", "mmi.service", []string{"nope"}, []string{"404"}},
		{"not implemented", "mmi.foo", []string{"x"}, []string{"501"}},
		{"shorthand registered", "mmi.echo", nil, []string{"echo", "200"}},
		{"shorthand unknown", "mmi.nope", nil, []string{"nope", "404"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := c.Request(ctxFor(t, waitLimit), tc.service, frames(tc.body...)...)
			if err != nil {
				t.Fatalf("Request(%s %q): %v", tc.service, tc.body, err)
			}
			if d := cmp.Diff(tc.want, strs(got)); d != "" {
				t.Errorf("Request(%s %q) mismatch (-want +got):\n%s", tc.service, tc.body, d)
			}
		})
	}
	for service, want := range map[string]bool{"echo": true, "nope": false} {
		got, err := c.Discover(ctxFor(t, waitLimit), service)
		if err != nil || got != want {
			t.Errorf("Discover(%s) = %v, %v; want %v, nil", service, got, err, want)
		}
	}
	if n := len(b.Services()); n != 1 {
		t.Errorf("Services() has %d services after lookups; want 1 (lookups create nothing)", n)
	}
}

// TestConcurrentRequests pipelines the requests of many goroutines on one client and
// checks that every reply answers its own request.
func TestConcurrentRequests(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	startWorker(t, b.Backend(), "echo", echo)
	startWorker(t, b.Backend(), "echo", echo)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	const goroutines, each = 20, 25
	for _, err := range requestAll(t, c, goroutines, each, func(int) time.Duration { return waitLimit }) {
		t.Error(err)
	}
	if st := c.Stats(); st.Replies != goroutines*each || st.Retries != 0 {
		t.Errorf("client Stats: %d replies, %d retries; want %d, 0", st.Replies, st.Retries, goroutines*each)
	}
}

// requestAll sends each echo requests from each of goroutines goroutines on c at once,
// the i-th of each with the timeout timeout(i), and returns what went wrong: a reply
// that does not echo its request, or an error, except the expiry of a timeout shorter
// than waitLimit.
func requestAll(t *testing.T, c *Client, goroutines, each int, timeout func(i int) time.Duration) []error {
	var wg sync.WaitGroup
	errs := make(chan error, goroutines*each)
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				want := fmt.Sprintf("g%d-r%d", g, i)
				d := timeout(i)
				ctx, cancel := context.WithTimeout(t.Context(), d)
				got, err := c.Request(ctx, "echo", []byte(want))
				cancel()
				switch {
				case errors.Is(err, context.DeadlineExceeded) && d < waitLimit:
				case err != nil:
					errs <- fmt.Errorf("request %q: %w", want, err)
				case len(got) != 1 || string(got[0]) != want:
					errs <- fmt.Errorf("reply %q to request %q", strs(got), want)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	var out []error
	for err := range errs {
		out = append(out, err)
	}
	return out
}

// TestShutdownFailsRequests: at its stop the broker fails a queued request visibly and
// sends DISCONNECT to its workers.
func TestShutdownFailsRequests(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	w := rawSocket(t, dealer, b.Backend())
	mark := b.rec.mark()
	sendRaw(t, w, "", core.WorkerHeader, "\x01", "echo")
	b.waitJoined(t, mark, "echo", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctxFor(t, waitLimit), "queued.service", []byte("x"))
		done <- err
	}()
	b.rec.waitFor(t, mark, "queued request", isEvent(core.RequestQueued, "queued.service"))
	b.stop(t)

	err := <-done
	var re *RequestError
	if !errors.Is(err, ErrRefused) || !errors.As(err, &re) || re.Reason != core.Shutdown {
		t.Errorf("Request during shutdown: %v; want ErrRefused with reason %q", err, core.Shutdown)
	}
	got := recvRaw(t, w, notHeartbeat)
	if d := cmp.Diff([]string{"", core.WorkerHeader, "\x05"}, got); d != "" {
		t.Errorf("worker got (-want +got):\n%s", d)
	}
}

// TestUndeliverable: a worker whose connection is gone cannot be heartbeated; the
// broker counts and reports the message and removes the worker at once, long before
// its liveness runs out.
func TestUndeliverable(t *testing.T) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat, Liveness: 1000}})
	w := rawSocket(t, dealer, b.Backend())
	mark := b.rec.mark()
	sendRaw(t, w, "", core.WorkerHeader, "\x01", "echo")
	b.waitJoined(t, mark, "echo", 1)
	closeRaw(t, w)
	start := time.Now()
	e, _ := b.rec.waitFor(t, mark, "undeliverable message", func(e Event) bool { return e.Undeliverable != nil })
	if !errors.Is(e.Undeliverable, ErrUndeliverable) || e.Output.Command != core.Heartbeat {
		t.Errorf("event %v; want an undeliverable HEARTBEAT matching ErrUndeliverable", e)
	}
	removed, _ := b.rec.waitFor(t, mark, "worker removed", isEvent(core.WorkerRemoved, "echo"))
	if removed.Output.Reason != core.Unreachable {
		t.Errorf("worker removed with reason %q; want %q", removed.Output.Reason, core.Unreachable)
	}
	if elapsed := time.Since(start); elapsed > 1000*testHeartbeat/2 {
		t.Errorf("worker removed after %v; want well before its liveness", elapsed)
	}
	if st := b.Stats(); st.Undeliverable == 0 {
		t.Errorf("Stats().Undeliverable = 0; want > 0")
	}
}
