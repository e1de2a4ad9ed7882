package wirekit

import (
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// Joined waits until the broker heartbeats p, which shows that it registered p's
// READY (RFC 7: the broker heartbeats every worker), keeping p alive meanwhile. It
// waits Soon, not one interval: the heartbeat timing has cases of its own.
func (p *Peer) Joined() {
	d := p.t.Soon()
	end := time.Now().Add(d)
	for {
		p.Beat()
		left := time.Until(end)
		if left <= 0 {
			p.t.Fatalf("%s: no HEARTBEAT within %v of READY: not registered", p.Name, d)
		}
		if m := p.Recv(min(left, p.t.S.Heartbeat/2)); m != nil {
			if !IsHeartbeat(m) {
				p.t.Fatalf("%s: got %s after READY, want a HEARTBEAT", p.Name, Show(m))
			}
			return
		}
	}
}

// clientCases are RFC 7's MDP/Client rules.
var clientCases = []*Case{
	{
		ID: "rfc7/client/req-socket", RFC: "7 MDP/Client", Level: Must,
		Rule:   "a plain REQ client gets its reply as \"MDPC01\", service, body",
		Mutant: "client-reply-wrong-header", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Dial(true, zmq.RawREQ)
			c.Send(mdpc, svc, "hello")
			w.Serve("the REQUEST", t.Soon(), []string{"hello"}, "world")
			c.Expect("the REPLY on a REQ socket", t.Soon(), mdpc, svc, "world")
			t.Seen("REQ round trip")
		},
	},
	{
		ID: "rfc7/client/dealer-socket", RFC: "7 MDP/Client", Level: Must,
		Rule:   "a DEALER client that sends the empty frame itself gets \"\", \"MDPC01\", service, body",
		Mutant: "client-reply-wrong-header", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "hello")
			w.Serve("the REQUEST", t.Soon(), []string{"hello"}, "world")
			c.Expect("the REPLY on a DEALER socket", t.Soon(), empty, mdpc, svc, "world")
			t.Seen("DEALER round trip")
		},
	},
	{
		ID: "rfc7/client/multi-frame-body", RFC: "7 MDP/Client", Level: Must,
		Rule:   "a body of several frames reaches the worker and the client frame for frame",
		Mutant: "body-first-frame-only", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "a", "", "c")
			w.Serve("a 3-frame request body", t.Soon(), []string{"a", "", "c"}, "x", "y", "")
			c.Expect("a 3-frame reply body", t.Soon(), empty, mdpc, svc, "x", "y", "")
			t.Seen("3 frames each way, an empty one among them")
		},
	},
	{
		ID: "rfc7/client/queue-until-worker", RFC: "7 MDP/Client (broker SHOULD queue)", Level: Should,
		Rule:   "a request for a service with no worker waits and goes to the first worker that comes",
		Mutant: "no-queue", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("late")
			c := t.Client()
			c.Send(empty, mdpc, svc, "q")
			c.ExpectNothing("no worker yet", t.Queued(), false)
			w := t.Worker(svc)
			w.Serve("the queued request on READY", t.Soon(), []string{"q"}, "a")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "a")
			t.Seen("queued %v, then delivered", t.Queued())
		},
	},
	{
		ID: "rfc7/client/queue-fair", RFC: "7 MDP/Client (broker SHOULD serve clients fairly)", Level: Should,
		Rule:   "queued requests of several clients are served in the order they came",
		Mutant: "queue-lifo", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("late")
			cs := []*Peer{t.Client(), t.Client(), t.Client()}
			for i, c := range cs {
				c.Send(empty, mdpc, svc, string(rune('a'+i)))
				c.ExpectNothing("queued", max(t.Beat()/4, 50*time.Millisecond), false)
			}
			w := t.Worker(svc)
			for i, c := range cs {
				body := string(rune('a' + i))
				w.Serve("request "+body+" in turn", t.Soon(), []string{body}, body)
				c.Expect("its reply", t.Soon(), empty, mdpc, svc, body)
			}
			t.Seen("3 clients served first come, first served")
		},
	},
	{
		ID: "rfc7/client/queue-expiry", RFC: "7 MDP/Client (broker SHOULD expire queued requests)", Level: Should,
		Rule:   "a request queued longer than the broker's queue expiry is dropped, not delivered to a late worker",
		Mutant: "queue-never-expires", Bound: 30,
		Run: func(t *T) {
			if t.S.QueueExpiry <= 0 {
				t.Skipf("--queue-expiry 0: the broker is said never to expire queued requests")
			}
			svc := t.Svc("late")
			c := t.Client()
			c.Send(empty, mdpc, svc, "old")
			t.Wait(t.S.QueueExpiry + t.Beat() + t.Slack())
			w := t.Worker(svc)
			w.Joined()
			c.Send(empty, mdpc, svc, "new")
			w.Serve("only the fresh request", t.Soon(), []string{"new"}, "r")
			c.Expect("its reply", t.Soon(), empty, mdpc, svc, "r")
			t.Seen("dropped after %v", t.S.QueueExpiry)
		},
	},
}
