package wirekit

import (
	"bytes"
	"fmt"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// garbage is what the hostile peer sends: none of it is a valid MDP/0.1 message.
var garbage = [][]string{
	{"x"},
	{empty},
	{empty, mdpc},
	{empty, "MDPX01", "echo"},
	{empty, mdpw, "\x09"},
	{empty, mdpw, ready},
	{empty, mdpw, ready, "a", "b"},
	{empty, mdpw, reply, "a", "b", empty, "x"},
	{empty, mdpw, heartbeat, "extra"},
	{empty, mdpw, "\x01\x02", "echo"},
	{empty, mdpw, request, "c"},
	{"x", empty, mdpc, "echo"},
	{"12345678", "x", mdpc, "echo"},
	{empty, mdpw, "\x09", string(make([]byte, 64<<10))},
}

// garbageCase sends every garbage message on the frontend (front) or backend and
// checks that the hostile peer gets no answer while a client and a worker go on.
func garbageCase(front bool) func(t *T) {
	return func(t *T) {
		svc := t.Svc("echo")
		w := t.Worker(svc).KeepAlive()
		w.Joined()
		c := t.Client()
		hostile := t.Dial(front, zmq.RawDealer)
		for _, g := range garbage {
			hostile.Send(g...)
		}
		c.Send(empty, mdpc, svc, "still")
		w.Serve("the worker undisturbed", t.Soon(), []string{"still"}, "fine")
		c.Expect("the client undisturbed", t.Soon(), empty, mdpc, svc, "fine")
		hostile.ExpectNothing("no answer to garbage", t.Quiet(), true)
		t.Seen("%d malformed messages dropped", len(garbage))
	}
}

// robustCases are about size, load and hostile input.
var robustCases = []*Case{
	{
		ID: "robust/garbage-frontend", RFC: "7 rule 5 (SHOULD drop invalid)", Level: Should,
		Rule:   "malformed messages on the frontend get no answer and disturb no other peer",
		Mutant: "malformed-answered", Bound: 30, Run: garbageCase(true),
	},
	{
		ID: "robust/garbage-backend", RFC: "7 rule 5 (SHOULD drop invalid)", Level: Should,
		Rule:   "malformed messages on the backend get no answer and disturb no other peer",
		Mutant: "malformed-answered", Bound: 30, Run: garbageCase(false),
	},
	{
		ID: "robust/large-body", RFC: "7 MDP/Client (the body is opaque)", Level: Must,
		Rule: "a 5 MB body frame goes through both ways intact",
		Unreachable: "no core code depends on a frame's size: a size limit would live in the " +
			"transport (ZMQ_MAXMSGSIZE), which no mutant of core reaches",
		Bound: 30, Solo: true,
		Run: func(t *T) {
			svc := t.Svc("big")
			big := bytes.Repeat([]byte("0123456789abcdef"), 5<<20/16)
			// The request waits in the queue, so that the worker is registered
			// only from its dispatch on: it cannot fall silent while 5 MB travel.
			c := t.Client()
			c.SendFrames([][]byte{{}, []byte(mdpc), []byte(svc), big})
			c.ExpectNothing("queued", t.Queued(), false)
			for attempt := 1; ; attempt++ {
				if largeBodyRound(t, c, svc, big) {
					t.Seen("5 MiB each way (attempt %d)", attempt)
					return
				}
				if attempt == 3 {
					t.Fatalf("the worker was purged three times while its 5 MB reply travelled")
				}
			}
		},
	},
	{
		ID: "robust/many-frames", RFC: "7 MDP/Client (F3+ body)", Level: Must,
		Rule:   "a body of 100 frames goes through both ways, in order",
		Mutant: "body-first-frame-only", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			body := make([]string, 100)
			for i := range body {
				body[i] = strconv.Itoa(i)
			}
			w := t.Worker(svc)
			c := t.Client()
			c.Send(append([]string{empty, mdpc, svc}, body...)...)
			w.Serve("a 100-frame request", t.Soon(), body, body...)
			c.Expect("a 100-frame reply", t.Soon(), append([]string{empty, mdpc, svc}, body...)...)
			t.Seen("100 frames each way")
		},
	},
	{
		ID: "robust/thousand-clients", RFC: "7 MDP/Client", Level: Must,
		Rule:   "1,000 clients asking at once each get their own reply",
		Mutant: "queue-limit-100", Bound: 60, Solo: true,
		Run: thousandClients,
	},
}

// largeBodyRound serves the 5 MB request with a new worker and waits for the
// client's reply. It reports false when the broker purged the worker while its
// reply travelled (a loaded machine and a short liveness): the worker was told
// DISCONNECT, and (RFC 7 rule 6) a new one must take the request again.
func largeBodyRound(t *T, c *Peer, svc string, big []byte) bool {
	w := t.Worker(svc)
	m := w.ExpectBeating("the 5 MB request", t.Soon(), empty, mdpw, request, "*", empty, "*")
	if !bytes.Equal(m[5], big) {
		t.Fatalf("the worker got a %d-byte body, want the %d bytes sent", len(m[5]), len(big))
	}
	w.Beat()
	w.SendFrames([][]byte{{}, []byte(mdpw), []byte(reply), m[3], {}, big})
	end := time.Now().Add(t.Soon())
	for time.Now().Before(end) {
		if r := c.Recv(25 * time.Millisecond); r != nil {
			if !Match(r, []string{empty, mdpc, svc, "*"}) || !bytes.Equal(r[3], big) {
				t.Fatalf("the client got %s, want the 5 MB reply", Show(r))
			}
			return true
		}
		if m := w.Recv(0); m != nil && Match(m, []string{empty, mdpw, disconnect}) {
			w.worker = false
			return false
		}
	}
	t.Fatalf("the 5 MB reply: nothing within %v", t.Soon())
	return false
}

// thousandClients opens 1,000 DEALER clients that send one request each at once;
// sixteen workers answer with the request's body, and every client must get its own.
func thousandClients(t *T) {
	const n, workers = 1000, 16
	svc := t.Svc("echo")
	cs := make([]*Peer, n)
	socks := make([]*zmq.RawSocket, n)
	for i := range cs {
		cs[i] = t.Client()
		socks[i] = cs[i].s
	}
	// The workers come after the clients are dialled (which takes a while), so
	// that they are not silent meanwhile.
	ws := make([]*Peer, workers)
	for i := range ws {
		ws[i] = t.Worker(svc)
	}
	start := time.Now()
	sent := make([]time.Time, n)
	for i, c := range cs {
		c.Send(empty, mdpc, svc, "c"+strconv.Itoa(i))
		sent[i] = time.Now()
		if i%100 == 0 {
			for _, w := range ws {
				w.Beat()
			}
		}
	}
	poller := zmq.NewRawPoller(socks)
	got, served, reconnects, resent := 0, 0, 0, 0
	// A request that waited past the queue expiry is gone; its client sends it
	// again once, as RFC 7's clients recover (a reply to both is then no error).
	// Once only: a broker that drops requests for good still fails.
	resendAfter := time.Duration(0)
	if t.S.QueueExpiry > 0 {
		resendAfter = t.S.QueueExpiry + t.Beat()
	}
	var nextResend time.Time
	again := make([]bool, n)
	done := make([]bool, n)
	last := time.Now()
	var nextBeat time.Time
	for got < n {
		t.check()
		// A thousand handshakes on a loaded machine may take seconds: the case
		// fails only when nothing moves for ten seconds.
		if stall := max(t.Soon(), 10*time.Second); time.Since(last) > stall {
			t.Fatalf("%d of %d replies, %d requests served; none for %v", got, n, served, stall)
		}
		for _, w := range ws {
			for {
				m := w.Recv(0)
				if m == nil {
					break
				}
				if IsHeartbeat(m) {
					continue
				}
				if Match(m, []string{empty, mdpw, disconnect}) {
					// RFC 7 rule 6: a worker told to go reconnects on a new
					// socket. A broker slowed by the load may purge one; the
					// request it held is then the broker's to requeue.
					_ = w.s.Close()
					*w = *t.Worker(svc) // the old socket is closed: both close again harmlessly
					reconnects++
					break
				}
				if !Match(m, []string{empty, mdpw, request, "*", empty, "*"}) {
					t.Fatalf("a worker got %s, want a REQUEST", Show(m))
				}
				w.SendFrames([][]byte{{}, []byte(mdpw), []byte(reply), m[3], {}, m[5]})
				served++
				last = time.Now()
			}
			if time.Now().After(nextBeat) {
				w.Beat()
			}
		}
		if time.Now().After(nextBeat) {
			nextBeat = time.Now().Add(t.Beat() / 2)
		}
		if resendAfter > 0 && time.Now().After(nextResend) {
			for i, c := range cs {
				if !done[i] && !again[i] && time.Since(sent[i]) > resendAfter {
					c.Send(empty, mdpc, svc, "c"+strconv.Itoa(i))
					again[i] = true
					resent++
				}
			}
			nextResend = time.Now().Add(t.Beat())
		}
		ready, err := poller.Poll(time.Millisecond)
		if err != nil {
			t.Fatalf("poll: %v", err)
		}
		for _, i := range ready {
			m := cs[i].Recv(0)
			want := []string{empty, mdpc, svc, "c" + strconv.Itoa(i)}
			switch {
			case m == nil:
			case !Match(m, want):
				t.Fatalf("client %d got %s, want %s", i, Show(m), showWant(want))
			case !done[i]:
				done[i] = true
				got++
				last = time.Now()
			}
		}
	}
	t.Seen("%s", fmt.Sprintf("%d replies in %v, %d worker reconnects, %d resent", n, time.Since(start).Round(time.Millisecond), reconnects, resent))
}
