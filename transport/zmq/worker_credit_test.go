package zmq

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// startCreditWorker serves service at endpoint with h, Concurrency n, until the end
// of the test.
func startCreditWorker(t *testing.T, endpoint, service string, n int, h Handler) {
	t.Helper()
	opts := testWorkerOptions
	opts.Concurrency = n
	w := NewWorker(endpoint, service, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Serve(ctx, h) }()
	t.Cleanup(func() {
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

// barrier is a handler that answers nothing until n requests are in it at once, then
// answers them all (in the order they arrived, last first): with fewer requests at
// once it waits until its ctx ends, and the test's requests time out.
type barrier struct {
	n       int
	mu      sync.Mutex
	in      int
	most    int
	release chan struct{}
}

func newBarrier(n int) *barrier { return &barrier{n: n, release: make(chan struct{})} }

func (b *barrier) handle(ctx context.Context, request [][]byte) [][]byte {
	b.mu.Lock()
	b.in++
	b.most = max(b.most, b.in)
	if b.in == b.n {
		close(b.release)
	}
	b.mu.Unlock()
	select {
	case <-b.release:
	case <-ctx.Done():
	}
	b.mu.Lock()
	b.in--
	b.mu.Unlock()
	return append([][]byte{[]byte("re:")}, request...)
}

// TestWorkerConcurrency: a worker with Concurrency 4 at our broker holds four
// requests at once (the broker dispatches by the credit its READY announced), and
// each reply reaches the request it answers, though the four come back in any order.
func TestWorkerConcurrency(t *testing.T) {
	const n = 4
	b := startBroker(t, BrokerOptions{})
	bar := newBarrier(n)
	startCreditWorker(t, b.Backend(), "echo", n, bar.handle)
	b.waitJoined(t, 0, "echo", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	got := make([][]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			rep, err := c.Request(ctxFor(t, waitLimit), "echo", fmt.Appendf(nil, "r%d", i))
			got[i], errs[i] = strs(rep), err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request r%d: %v", i, errs[i])
		}
		if d := cmp.Diff([]string{"re:", fmt.Sprintf("r%d", i)}, got[i]); d != "" {
			t.Errorf("reply to r%d mismatch (-want +got):\n%s", i, d)
		}
	}
	if bar.most != n {
		t.Errorf("at most %d requests were handled at once; want %d", bar.most, n)
	}
}

// TestWorkerConcurrencyStandardBroker: a broker that reads READY's service frame and
// drops the rest (as the zguide brokers do) and dispatches one request at a time,
// each after the reply to the one before: the credit worker announces its credit and
// answers every request, one at a time, with the plain client address it came with.
func TestWorkerConcurrencyStandardBroker(t *testing.T) {
	broker, ep := rawBroker(t)
	var mu sync.Mutex
	in, most := 0, 0
	startCreditWorker(t, ep, "echo", 4, func(_ context.Context, request [][]byte) [][]byte {
		mu.Lock()
		in++
		most = max(most, in)
		mu.Unlock()
		defer func() {
			mu.Lock()
			in--
			mu.Unlock()
		}()
		return request
	})
	ready := recvRaw(t, broker, func(m []string) bool { return len(m) >= 5 && m[3] == "\x01" })
	if d := cmp.Diff([]string{"", "MDPW01", "\x01", "echo", "4"}, ready[1:]); d != "" {
		t.Errorf("READY mismatch (-want +got):\n%s", d)
	}
	id := ready[0] // the credit frame, ready[5], is dropped: this broker never reads it
	isReply := func(m []string) bool { return len(m) >= 4 && m[3] == "\x03" }
	for i := range 3 {
		client, body := fmt.Sprintf("client-%d", i), fmt.Sprintf("job %d", i)
		sendRaw(t, broker, id, "", "MDPW01", "\x02", client, "", body)
		rep := recvRaw(t, broker, isReply)
		if d := cmp.Diff([]string{id, "", "MDPW01", "\x03", client, "", body}, rep); d != "" {
			t.Errorf("REPLY %d mismatch (-want +got):\n%s", i, d)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if most != 1 {
		t.Errorf("at most %d requests were handled at once; want 1 (the broker sends one at a time)", most)
	}
}
