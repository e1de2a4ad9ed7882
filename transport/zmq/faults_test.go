package zmq

import (
	"flag"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// onDeath sets the death policy of the test brokers, so that the tests that rest on
// the requeue can be seen to fail without it: go test -args -ondeath=fail.
var onDeath = flag.String("ondeath", "requeue", "what test brokers do with the request of a dead worker: requeue or fail")

// testDeathPolicy returns the policy -ondeath names.
func testDeathPolicy(t *testing.T) core.DeathPolicy {
	t.Helper()
	switch *onDeath {
	case "requeue":
		return core.Requeue
	case "fail":
		return core.FailRequest
	}
	t.Fatalf("-ondeath=%q: want requeue or fail", *onDeath)
	return core.Requeue
}

// victimWorker registers a raw DEALER worker for service ahead of a real one, so that
// the broker, dispatching to the least recently used worker, gives it the next
// request. It returns the raw socket.
func victimWorker(t *testing.T, b *testBroker, service string) *zmq4.Socket {
	t.Helper()
	mark := b.rec.mark()
	victim := rawSocket(t, dealer, b.Backend())
	sendRaw(t, victim, "", core.WorkerHeader, "\x01", service)
	mark = b.waitJoined(t, mark, service, 1)
	startWorker(t, b.Backend(), service, echo)
	b.waitJoined(t, mark, service, 1)
	return victim
}

// TestKilledWorkerRequeued: a worker dies (its connection closes) while it holds a
// request; the broker notices (its heartbeat is undeliverable, or the worker goes
// silent) and hands the request to the other worker, so the client gets its reply
// on its first attempt, well before its own timeout would retry.
func TestKilledWorkerRequeued(t *testing.T) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat,
		Liveness: testLiveness, OnWorkerDeath: testDeathPolicy(t)}})
	victim := victimWorker(t, b, "echo")
	const timeout = 5 * time.Second
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: timeout, Attempts: 2})

	start := time.Now()
	done := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("survives"))
		done <- result{body, err}
	}()
	got := recvRaw(t, victim, notHeartbeat)
	if len(got) != 6 || got[2] != "\x02" || got[5] != "survives" {
		t.Fatalf("victim got %q; want the REQUEST", got)
	}
	closeRaw(t, victim)

	r := <-done
	elapsed := time.Since(start)
	if r.err != nil {
		t.Fatalf("Request: %v; want the reply of the other worker", r.err)
	}
	if d := cmp.Diff([]string{"survives"}, strs(r.body)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	if elapsed >= timeout {
		t.Errorf("reply after %v; want it before the client's timeout %v", elapsed, timeout)
	}
	if st := c.Stats(); st.Retries != 0 {
		t.Errorf("client retried %d times; want 0", st.Retries)
	}
	if n := b.rec.count(isEvent(core.RequestRequeued, "echo")); n != 1 {
		t.Errorf("%d requeue events; want 1", n)
	}
}

// TestHungWorkerExpired: a worker that takes a request and then goes silent, its
// connection still open, is expired after liveness × heartbeat, and its request goes
// to another worker.
func TestHungWorkerExpired(t *testing.T) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: testHeartbeat,
		Liveness: testLiveness, OnWorkerDeath: testDeathPolicy(t)}})
	victim := victimWorker(t, b, "echo")
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})

	done := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("hung"))
		done <- result{body, err}
	}()
	recvRaw(t, victim, notHeartbeat) // the REQUEST; the victim never answers nor heartbeats

	r := <-done
	if r.err != nil {
		t.Fatalf("Request: %v; want the reply of the other worker", r.err)
	}
	if d := cmp.Diff([]string{"hung"}, strs(r.body)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	e, _ := b.rec.waitFor(t, 0, "hung worker removed", isEvent(core.WorkerRemoved, "echo"))
	if e.Output.Reason != core.Silent {
		t.Errorf("hung worker removed with reason %q; want %q", e.Output.Reason, core.Silent)
	}
}

// TestBrokerRestart: the broker stops and a new one binds the same endpoints; the
// workers, sent DISCONNECT by the first, register with the second, and a request sent
// while no broker runs succeeds by the client's retries.
func TestBrokerRestart(t *testing.T) {
	b1 := startBroker(t, BrokerOptions{})
	front, back := b1.Frontend(), b1.Backend()
	startWorker(t, back, "echo", echo)
	startWorker(t, back, "echo", echo)
	c := newClient(t, front, ClientOptions{Timeout: 250 * time.Millisecond, Attempts: 40})
	if _, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("before")); err != nil {
		t.Fatalf("Request before the restart: %v", err)
	}
	b1.stop(t)

	done := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("across"))
		done <- result{body, err}
	}()
	b2 := startBroker(t, BrokerOptions{Frontend: front, Backend: back})
	b2.waitJoined(t, 0, "echo", 2)
	r := <-done
	if r.err != nil {
		t.Fatalf("Request across the restart: %v", r.err)
	}
	if d := cmp.Diff([]string{"across"}, strs(r.body)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	if _, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("after")); err != nil {
		t.Errorf("Request after the restart: %v", err)
	}
}

// TestUnexpectedCommandsDisconnect: RFC 7 and 8 — a valid but unexpected command gets
// DISCONNECT, on either endpoint.
func TestUnexpectedCommandsDisconnect(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	for _, tc := range []struct {
		name   string
		socket core.Socket // the endpoint dialled
		before [][]string  // sent first, without an answer
		send   []string
		reason core.Reason
	}{
		{"second READY", core.Backend, [][]string{{"", core.WorkerHeader, "\x01", "echo"}},
			[]string{"", core.WorkerHeader, "\x01", "echo"}, core.DuplicateReady},
		{"HEARTBEAT from unknown worker", core.Backend, nil,
			[]string{"", core.WorkerHeader, "\x04"}, core.UnknownWorker},
		{"REPLY from unknown worker", core.Backend, nil,
			[]string{"", core.WorkerHeader, "\x03", "client", "", "body"}, core.UnknownWorker},
		{"READY for mmi service", core.Backend, nil,
			[]string{"", core.WorkerHeader, "\x01", "mmi.service"}, core.ReservedService},
		{"HEARTBEAT from unknown worker on the frontend", core.Frontend, nil,
			[]string{"", core.WorkerHeader, "\x04"}, core.UnknownWorker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ep := b.Backend()
			if tc.socket == core.Frontend {
				ep = b.Frontend()
			}
			w := rawSocket(t, dealer, ep)
			mark := b.rec.mark()
			for _, m := range tc.before {
				sendRaw(t, w, m...)
			}
			sendRaw(t, w, tc.send...)
			got := recvRaw(t, w, notHeartbeat)
			if d := cmp.Diff([]string{"", core.WorkerHeader, "\x05"}, got); d != "" {
				t.Errorf("answer mismatch (-want +got):\n%s", d)
			}
			e, _ := b.rec.waitFor(t, mark, "input dropped", isEvent(core.InputDropped, ""))
			if e.Output.Reason != tc.reason {
				t.Errorf("dropped with reason %q; want %q", e.Output.Reason, tc.reason)
			}
		})
	}
}

// TestGarbageFrames: malformed messages on both endpoints are dropped and reported, and
// disturb no other peer: requests go on being answered by the same worker.
func TestGarbageFrames(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	mark := b.rec.mark()
	startWorker(t, b.Backend(), "echo", echo)
	mark = b.waitJoined(t, mark, "echo", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
	garbage := [][]string{
		{"junk"},
		{""},
		{"", "MDPX01", "echo", "x"},
		{"", core.WorkerHeader},
		{"", core.WorkerHeader, "\x09"},
		{"", core.WorkerHeader, "\x01\x01", "echo"},
		{"", core.WorkerHeader, "\x01", "echo", "extra"},
		{"", core.WorkerHeader, "\x03", "a", "b", "", "body"},
		{"short", "", core.ClientHeader, "echo"},
		{"\x00\x00\x00\x00\x00\x00\x00\x01\x07", "", core.ClientHeader, "echo", "status on a request"},
		{"", core.ClientHeader},
	}
	front := rawSocket(t, dealer, b.Frontend())
	back := rawSocket(t, dealer, b.Backend())
	for i, g := range garbage {
		sendRaw(t, front, g...)
		sendRaw(t, back, g...)
		want := []string{"answer"}
		got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("answer"))
		if err != nil {
			t.Fatalf("Request after garbage %d: %v", i, err)
		}
		if d := cmp.Diff(want, strs(got)); d != "" {
			t.Errorf("reply after garbage %d mismatch (-want +got):\n%s", i, d)
		}
	}
	for range 2 * len(garbage) {
		_, mark = b.rec.waitFor(t, mark, "dropped garbage", isEvent(core.InputDropped, ""))
	}
	if n := b.rec.count(isEvent(core.InputDropped, "")); n != 2*len(garbage) {
		t.Errorf("%d inputs dropped; want %d", n, 2*len(garbage))
	}
	if n := b.rec.count(isEvent(core.WorkerRemoved, "")); n != 0 {
		t.Errorf("%d workers removed; want 0", n)
	}
	if st := b.Stats(); st.Dropped[core.Malformed] != uint64(2*len(garbage)) {
		t.Errorf("Stats().Dropped[malformed] = %d; want %d", st.Dropped[core.Malformed], 2*len(garbage))
	}
}
