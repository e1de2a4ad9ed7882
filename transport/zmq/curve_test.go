package zmq

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// keyPair is a CURVE key pair for a test.
type keyPair struct{ public, secret string }

func newKeyPair(t *testing.T) keyPair {
	t.Helper()
	pub, sec, err := NewCurveKeyPair()
	if err != nil {
		t.Fatal(err)
	}
	return keyPair{pub, sec}
}

func (k keyPair) client(server keyPair) *CurveKeys {
	return &CurveKeys{ServerKey: server.public, PublicKey: k.public, SecretKey: k.secret}
}

// startCurveWorker serves service with keys, counting the requests its handler gets,
// until the end of the test or until the function it returns is called.
func startCurveWorker(t *testing.T, endpoint, service string, keys *CurveKeys, n *atomic.Int64) func() {
	t.Helper()
	opts := testWorkerOptions
	opts.Curve = keys
	w := NewWorker(endpoint, service, opts)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- w.Serve(ctx, func(ctx context.Context, req [][]byte) [][]byte { n.Add(1); return req })
	}()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Worker.Serve: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

// TestCurve runs the broker with CURVE and Access on real sockets: an allowed worker
// serves an allowed client; a worker whose key may not serve the service is refused
// and never gets a request, even with one waiting; a client key not admitted and a
// plain peer get nothing through.
func TestCurve(t *testing.T) {
	broker, good, bad, client, stranger := newKeyPair(t), newKeyPair(t), newKeyPair(t), newKeyPair(t), newKeyPair(t)
	b := startBroker(t, BrokerOptions{
		Curve: &BrokerCurve{SecretKey: broker.secret, Allow: []string{good.public, bad.public, client.public}},
		Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat, Liveness: testLiveness,
			Access: core.Access{
				Workers: []core.Grant{{Service: "echo", Key: good.public}, {Service: "other", Key: bad.public}},
				Clients: []string{client.public},
			}},
	})
	var goodN, badN atomic.Int64
	mark := b.rec.mark()
	startCurveWorker(t, b.Backend(), "echo", good.client(broker), &goodN)
	b.waitJoined(t, mark, "echo", 1)

	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1, Curve: client.client(broker)})
	t.Run("allowed worker serves allowed client", func(t *testing.T) {
		got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("hello"))
		if err != nil || len(got) != 1 || string(got[0]) != "hello" {
			t.Fatalf("Request = %q, %v; want [hello]", strs(got), err)
		}
	})

	t.Run("worker not allowed for the service is refused", func(t *testing.T) {
		refused := func(e Event) bool {
			o := e.Output
			return o.Event == core.InputDropped && o.Reason == core.NotAuthorized && o.Key == bad.public && o.Service == "echo"
		}
		mark := b.rec.mark()
		stop := startCurveWorker(t, b.Backend(), "echo", bad.client(broker), &badN)
		defer stop()
		_, mark = b.rec.waitFor(t, mark, "READY of the bad key refused", refused)
		for range 20 {
			if _, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("x")); err != nil {
				t.Fatalf("Request: %v", err)
			}
		}
		// A refused worker reconnects at once (DISCONNECT) and is refused again: after
		// a refusal seen since the requests, it is still nobody's worker.
		b.rec.waitFor(t, mark, "READY of the bad key refused again", refused)
		if n := badN.Load(); n != 0 {
			t.Errorf("refused worker handled %d requests; want 0", n)
		}
		for _, w := range b.Workers() {
			if w.Service != "echo" || len(b.Workers()) != 1 {
				t.Errorf("Workers() = %+v; want the allowed echo worker alone", b.Workers())
			}
		}
	})

	// failsUnheard checks that a client with opts gets no request through: the
	// broker takes no request in and refuses none from a key but the bad worker's
	// (whose refused connections may still be draining).
	failsUnheard := func(t *testing.T, opts ClientOptions) {
		before := b.Stats()
		mark := b.rec.mark()
		opts.Timeout, opts.Attempts = 300*time.Millisecond, 1
		x := newClient(t, b.Frontend(), opts)
		_, err := x.Request(ctxFor(t, waitLimit), "echo", []byte("x"))
		if !errors.Is(err, ErrTimeout) {
			t.Fatalf("Request = %v; want a timeout", err)
		}
		if st := b.Stats(); st.Requests != before.Requests {
			t.Errorf("the broker took in the peer's request: requests %d → %d", before.Requests, st.Requests)
		}
		heard := func(e Event) bool {
			o := e.Output
			return o.Event == core.InputDropped && (o.Reason == core.Malformed || o.Reason == core.NotAuthorized && o.Key != bad.public)
		}
		if n := countSince(b.rec, mark, heard); n != 0 {
			t.Errorf("the broker refused %d messages of the peer; want none to reach it", n)
		}
	}
	t.Run("client key not admitted", func(t *testing.T) {
		failsUnheard(t, ClientOptions{Curve: stranger.client(broker)})
	})
	t.Run("plain client", func(t *testing.T) {
		failsUnheard(t, ClientOptions{})
	})
	t.Run("client with the wrong server key", func(t *testing.T) {
		failsUnheard(t, ClientOptions{Curve: client.client(stranger)})
	})
	if n := goodN.Load(); n != 21 {
		t.Errorf("allowed worker handled %d requests; want 21", n)
	}
}

// TestCurveBadKey checks that a bad key is an error at once, never a plain socket.
func TestCurveBadKey(t *testing.T) {
	_, err := NewBroker(BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: NoBackend,
		Curve: &BrokerCurve{SecretKey: "not a key"}})
	if !errors.Is(err, ErrBadKey) {
		t.Errorf("NewBroker with a bad secret key: %v; want ErrBadKey", err)
	}
	_, err = NewClient("tcp://127.0.0.1:1", ClientOptions{Curve: &CurveKeys{ServerKey: "x"}})
	if !errors.Is(err, ErrBadKey) {
		t.Errorf("NewClient with a bad server key: %v; want ErrBadKey", err)
	}
}

// countSince returns how many events from index from on match.
func countSince(r *recorder, from int, match func(Event) bool) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, e := range r.events[from:] {
		if match(e) {
			n++
		}
	}
	return n
}
