package zmq

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/core"
)

func TestClientErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		config  core.BrokerConfig
		client  ClientOptions
		queued  int // requests to queue first, so that the tested one meets a full queue
		want    RequestError
		is      error
		minTime time.Duration
	}{
		{
			name:    "timed out",
			config:  core.BrokerConfig{QueueExpiry: -1},
			client:  ClientOptions{Timeout: 100 * time.Millisecond, Attempts: 2},
			want:    RequestError{Service: "nobody", Reason: core.TimedOut, Attempts: 2},
			is:      ErrTimeout,
			minTime: 200 * time.Millisecond,
		},
		{
			name:   "queue full",
			config: core.BrokerConfig{QueueLimit: 1, QueueExpiry: -1},
			client: ClientOptions{Timeout: waitLimit, Attempts: 1},
			queued: 1,
			want:   RequestError{Service: "nobody", Reason: core.QueueFull, Attempts: 1},
			is:     ErrRefused,
		},
		{
			name:    "expired in queue",
			config:  core.BrokerConfig{QueueExpiry: 100 * time.Millisecond},
			client:  ClientOptions{Timeout: waitLimit, Attempts: 1},
			want:    RequestError{Service: "nobody", Reason: core.Expired, Attempts: 1},
			is:      ErrRefused,
			minTime: 100 * time.Millisecond,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.config.HeartbeatInterval, tc.config.Liveness = testHeartbeat, testLiveness
			b := startBroker(t, BrokerOptions{Config: tc.config})
			c := newClient(t, b.Frontend(), tc.client)
			mark := b.rec.mark()
			for range tc.queued {
				go func() { _, _ = c.Request(t.Context(), "nobody", []byte("first")) }()
				_, mark = b.rec.waitFor(t, mark, "queued request", isEvent(core.RequestQueued, "nobody"))
			}
			start := time.Now()
			_, err := c.Request(ctxFor(t, waitLimit), "nobody", []byte("x"))
			elapsed := time.Since(start)
			if !errors.Is(err, tc.is) {
				t.Fatalf("Request: %v; want errors.Is %v", err, tc.is)
			}
			var re *RequestError
			if !errors.As(err, &re) {
				t.Fatalf("Request: %v; want a *RequestError", err)
			}
			got := *re
			got.Seq = 0
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("RequestError mismatch (-want +got):\n%s", d)
			}
			if elapsed < tc.minTime {
				t.Errorf("failed after %v; want at least %v", elapsed, tc.minTime)
			}
		})
	}
}

// TestClientContext: a request whose context ends returns the context's error at
// once, and the client goes on working.
func TestClientContext(t *testing.T) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat, QueueExpiry: -1}})
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	ctx, cancel := context.WithCancel(t.Context())
	mark := b.rec.mark()
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "echo", []byte("abandoned"))
		done <- err
	}()
	b.rec.waitFor(t, mark, "queued request", isEvent(core.RequestQueued, "echo"))
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Request with a cancelled context: %v; want context.Canceled", err)
	}
	if _, err := c.Request(ctx, "echo"); !errors.Is(err, context.Canceled) {
		t.Errorf("Request with an ended context: %v; want context.Canceled", err)
	}

	startWorker(t, b.Backend(), "echo", echo)
	got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("next"))
	if err != nil {
		t.Fatalf("Request after a cancelled one: %v", err)
	}
	if d := cmp.Diff([]string{"next"}, strs(got)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
}

// TestClientLeaderHandOff: the goroutine that runs the client's loop (the first
// caller) gives up on its request; the loop passes to a caller still waiting, whose
// reply still arrives.
func TestClientLeaderHandOff(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	release, started := make(chan struct{}), make(chan string, 2)
	startWorker(t, b.Backend(), "slow", func(ctx context.Context, request [][]byte) [][]byte {
		started <- string(request[0])
		select {
		case <-release:
		case <-ctx.Done():
		}
		return request
	})
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	ctx, cancel := context.WithCancel(t.Context())
	leader := make(chan error, 1)
	go func() {
		_, err := c.Request(ctx, "slow", []byte("leader"))
		leader <- err
	}()
	if got := <-started; got != "leader" {
		t.Fatalf("handler started with %q; want the leader's request", got)
	}
	mark := b.rec.mark()
	follower := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "slow", []byte("follower"))
		follower <- result{body, err}
	}()
	b.rec.waitFor(t, mark, "queued request", isEvent(core.RequestQueued, "slow"))
	cancel()
	if err := <-leader; !errors.Is(err, context.Canceled) {
		t.Fatalf("leader's Request: %v; want context.Canceled", err)
	}
	close(release)
	r := <-follower
	if r.err != nil {
		t.Fatalf("follower's Request: %v", r.err)
	}
	if d := cmp.Diff([]string{"follower"}, strs(r.body)); d != "" {
		t.Errorf("follower's reply mismatch (-want +got):\n%s", d)
	}
}

// TestClientCancelStorm: many goroutines share a client and a third of their
// requests give up after a millisecond, often while their goroutine runs the loop.
// Every request ends with its own reply or its context's error, the loop never
// stalls, and Close ends it.
func TestClientCancelStorm(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	startWorker(t, b.Backend(), "echo", func(_ context.Context, request [][]byte) [][]byte {
		time.Sleep(100 * time.Microsecond) // the work: long enough for cancels to land
		return request
	})
	c, err := NewClient(b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	timeout := func(i int) time.Duration {
		if i%3 == 0 {
			return time.Millisecond
		}
		return waitLimit
	}
	for _, err := range requestAll(t, c, 16, 30, timeout) {
		t.Error(err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestClientClose: Close fails the outstanding requests with ErrClosed, and later
// requests too.
func TestClientClose(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	c, err := NewClient(b.Frontend(), ClientOptions{Timeout: waitLimit})
	if err != nil {
		t.Fatal(err)
	}
	mark := b.rec.mark()
	done := make(chan error, 1)
	go func() {
		_, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("x"))
		done <- err
	}()
	b.rec.waitFor(t, mark, "queued request", isEvent(core.RequestQueued, "echo"))
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := <-done; !errors.Is(err, ErrClosed) {
		t.Errorf("outstanding Request: %v; want ErrClosed", err)
	}
	if _, err := c.Request(ctxFor(t, waitLimit), "echo"); !errors.Is(err, ErrClosed) {
		t.Errorf("Request after Close: %v; want ErrClosed", err)
	}
	if st := c.Stats(); st.Requests != 1 {
		t.Errorf("Stats after Close: %d requests; want 1", st.Requests)
	}
}

// TestJSON: the seed's dict requests, through RequestJSON and HandleJSON.
func TestJSON(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	type check struct {
		URI   string `json:"uri"`
		Valid bool   `json:"valid"`
	}
	startWorker(t, b.Backend(), "validate.content", HandleJSON(func(_ context.Context, req check) (check, error) {
		if req.URI == "" {
			return check{}, errors.New("no uri")
		}
		req.Valid = true
		return req, nil
	}))
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	for _, tc := range []struct {
		name string
		req  any
		want map[string]any
	}{
		{"valid", map[string]any{"uri": "http://www.encodingbooth.com/test.bin"},
			map[string]any{"uri": "http://www.encodingbooth.com/test.bin", "valid": true}},
		{"handler error", map[string]any{}, map[string]any{"error": "no uri"}},
		{"undecodable", []int{1}, map[string]any{"error": "zmq: decode request"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got map[string]any
			if err := c.RequestJSON(ctxFor(t, waitLimit), "validate.content", tc.req, &got); err != nil {
				t.Fatalf("RequestJSON: %v", err)
			}
			// The decoder's own words after the prefix are not ours to fix.
			if msg, ok := got["error"].(string); ok {
				got["error"], _, _ = strings.Cut(msg, ": json")
			}
			if d := cmp.Diff(tc.want, got); d != "" {
				t.Errorf("reply mismatch (-want +got):\n%s", d)
			}
		})
	}
}
