package wirekit

import "strconv"

// expectDisconnected checks that p gets DISCONNECT and then nothing at all, not even
// a HEARTBEAT (RFC 7 rule 5: "and then send nothing more").
func expectDisconnected(t *T, p *Peer, what string) {
	p.Expect(what, t.Soon(), empty, mdpw, disconnect)
	p.worker = false
	p.ExpectNothing("nothing more after DISCONNECT", t.Quiet()+t.Beat(), true)
}

// workerCases are RFC 7's MDP/Worker rules, the frame-level ones included.
var workerCases = []*Case{
	{
		ID: "rfc7/worker/request-format", RFC: "7 MDP/Worker rule 7", Level: Must,
		Rule:   "a REQUEST carries precisely one client address frame, an empty frame, then the body",
		Mutant: "request-without-delimiter", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "body")
			m := w.ExpectBeating("the REQUEST", t.Soon(), empty, mdpw, request, "*", empty, "body")
			if len(m[3]) == 0 {
				t.Fatalf("the REQUEST's client address frame is empty: %s", Show(m))
			}
			t.Seen("6 frames, address %d bytes", len(m[3]))
		},
	},
	{
		ID: "rfc7/worker/one-request-at-a-time", RFC: "7 Assumptions, rule 7", Level: Must,
		Rule:   "a worker holding a request gets no other until it replies; then it gets the next",
		Mutant: "busy-worker-stays-waiting", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc).KeepAlive()
			c := t.Client()
			c.Send(empty, mdpc, svc, "1")
			req := w.ExpectBeating("the first request", t.Soon(), empty, mdpw, request, "*", empty, "1")
			c.Send(empty, mdpc, svc, "2")
			w.ExpectNothing("no second request while busy", t.Queued(), false)
			w.Send(empty, mdpw, reply, string(req[3]), empty, "r1")
			c.Expect("the first reply", t.Soon(), empty, mdpc, svc, "r1")
			w.Serve("the second request after the reply", t.Soon(), []string{"2"}, "r2")
			c.Expect("the second reply", t.Soon(), empty, mdpc, svc, "r2")
			t.Seen("held 1, got 2 only after replying")
		},
	},
	{
		ID: "rfc7/worker/service-routing", RFC: "7 MDP/Worker rule 1", Level: Must,
		Rule:   "requests go only to workers of their own service",
		Mutant: "waiting-list-of-another-service", Bound: 30,
		Run: func(t *T) {
			a, b := t.Svc("a"), t.Svc("b")
			wb := t.Worker(b).KeepAlive()
			wb.Joined()
			wa := t.Worker(a).KeepAlive()
			wa.Joined()
			ca, cb := t.Client(), t.Client()
			for round := range 2 {
				n := strconv.Itoa(round)
				ca.Send(empty, mdpc, a, "for-a"+n)
				wa.Serve("a's request to a's worker", t.Soon(), []string{"for-a" + n}, "ra")
				ca.Expect("a's reply", t.Soon(), empty, mdpc, a, "ra")
				cb.Send(empty, mdpc, b, "for-b"+n)
				wb.Serve("b's request to b's worker", t.Soon(), []string{"for-b" + n}, "rb")
				cb.Expect("b's reply", t.Soon(), empty, mdpc, b, "rb")
			}
			t.Seen("2 rounds over 2 services")
		},
	},
	{
		ID: "rfc7/worker/lru", RFC: "7 MDP/Worker (MAY any basis)", Level: May,
		Rule:   "with several idle workers, the one idle the longest gets the request (ebwrk: LRU)",
		Mutant: "most-recently-used-dispatch", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w1 := t.Worker(svc).KeepAlive()
			w1.Joined()
			w2 := t.Worker(svc).KeepAlive()
			w2.Joined()
			c := t.Client()
			c.Send(empty, mdpc, svc, "a")
			w1.Serve("the first request to w1, idle longest", t.Soon(), []string{"a"}, "ra")
			c.Expect("w1's reply", t.Soon(), empty, mdpc, svc, "ra")
			c.Send(empty, mdpc, svc, "b")
			w2.Serve("the second request to w2, now idle longest", t.Soon(), []string{"b"}, "rb")
			c.Expect("w2's reply", t.Soon(), empty, mdpc, svc, "rb")
			t.Seen("w1 then w2")
		},
	},
	{
		ID: "rfc7/worker/ready-twice", RFC: "7 MDP/Worker rules 1 and 5", Level: Must,
		Rule:   "a second READY gets DISCONNECT, then nothing more, and no request reaches that worker",
		Mutant: "second-ready-accepted", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			w.Joined()
			w.Send(empty, mdpw, ready, svc)
			c := t.Client()
			expectDisconnected(t, w, "DISCONNECT after a second READY")
			c.Send(empty, mdpc, svc, "x")
			w.ExpectNothing("no request for a disconnected worker", t.Quiet(), true)
			t.Seen("DISCONNECT, then silence")
		},
	},
	{
		ID: "rfc7/worker/unknown-heartbeat", RFC: "7 MDP/Worker rule 5", Level: Must,
		Rule:   "a HEARTBEAT from a peer that never sent READY gets DISCONNECT, then nothing more",
		Mutant: "unknown-heartbeat-ignored", Bound: 25,
		Run: func(t *T) {
			p := t.Raw()
			p.Beat()
			expectDisconnected(t, p, "DISCONNECT for an unknown worker's HEARTBEAT")
			t.Seen("DISCONNECT")
		},
	},
	{
		ID: "rfc7/worker/unknown-reply", RFC: "7 MDP/Worker rule 5", Level: Must,
		Rule:   "a REPLY from an unknown worker gets DISCONNECT and reaches no client",
		Mutant: "unknown-reply-ignored", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			p := t.Raw()
			p.Send(empty, mdpw, reply, "someone", empty, "x")
			expectDisconnected(t, p, "DISCONNECT for an unknown worker's REPLY")
			c.ExpectNothing("no reply from an unknown worker", 0, false)
			t.Seen("DISCONNECT")
		},
	},
	{
		ID: "rfc7/worker/unknown-disconnect", RFC: "7 MDP/Worker rule 3", Level: Must,
		Rule:   "a DISCONNECT, even before READY, is answered with nothing at all",
		Mutant: "disconnect-from-unknown-answered", Bound: 20,
		Run: func(t *T) {
			p := t.Raw()
			p.Send(empty, mdpw, disconnect)
			p.ExpectNothing("nothing after a worker's DISCONNECT", t.Quiet()+t.Beat(), true)
			t.Seen("silence")
		},
	},
	{
		ID: "rfc7/worker/disconnect-honoured", RFC: "7 MDP/Worker rule 3", Level: Must,
		Rule:   "after a registered worker's DISCONNECT the broker sends it nothing, neither HEARTBEAT nor REQUEST",
		Mutant: "disconnect-counted-as-heartbeat", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			w.Joined()
			w.Send(empty, mdpw, disconnect)
			w.Drain(t.Beat() / 4) // what the broker sent before it read the DISCONNECT
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			w.ExpectNothing("nothing after DISCONNECT", t.Quiet()+t.Beat(), true)
			t.Seen("silence")
		},
	},
	{
		ID: "rfc7/worker/request-from-worker", RFC: "7 MDP/Worker rule 5", Level: Must,
		Rule:   "a REQUEST (a broker-to-worker command) from a worker gets DISCONNECT",
		Mutant: "request-from-worker-ignored", Bound: 25,
		Run: func(t *T) {
			w := t.Worker(t.Svc("echo"))
			w.Joined()
			w.Send(empty, mdpw, request, "c", empty, "x")
			expectDisconnected(t, w, "DISCONNECT for a REQUEST from a worker")
			t.Seen("DISCONNECT")
		},
	},
	{
		ID: "rfc7/worker/unknown-command", RFC: "7 MDP/Worker rule 5 (SHOULD drop invalid)", Level: Should,
		Rule:   "a command byte outside 0x01..0x05 is dropped: no answer, no registration",
		Mutant: "malformed-answered", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			p := t.Raw()
			p.Send(empty, mdpw, "\x09", svc)
			p.Send(empty, mdpw, "\x00")
			p.ExpectNothing("no answer to an unknown command", t.Quiet(), true)
			t.Seen("dropped")
		},
	},
	{
		ID: "rfc7/worker/wrong-header", RFC: "7 MDP/Worker (the header validates every command)", Level: Should,
		Rule:   "a READY with header \"MDPW02\" is dropped: nothing registered, nothing answered",
		Mutant: "header-unchecked", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			p := t.Raw()
			p.Send(empty, "MDPW02", ready, svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			p.ExpectNothing("no REQUEST for a worker with the wrong header", t.Quiet(), true)
			t.Seen("dropped")
		},
	},
	{
		ID: "rfc7/worker/missing-delimiter", RFC: "7 MDP/Worker (every command starts with an empty frame)", Level: Should,
		Rule:   "a READY without the empty first frame, or with a non-empty one, is dropped",
		Mutant: "delimiter-unchecked", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			p1, p2 := t.Raw(), t.Raw()
			p1.Send(mdpw, ready, svc)
			p2.Send("x", mdpw, ready, svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			p1.ExpectNothing("no REQUEST for a READY without delimiter", t.Quiet(), true)
			p2.ExpectNothing("no REQUEST for a READY with a non-empty delimiter", 0, true)
			t.Seen("both dropped")
		},
	},
	{
		ID: "rfc7/worker/reply-without-delimiter", RFC: "7 MDP/Worker rule 7", Level: Should,
		Rule:   "a REPLY whose address is not followed by an empty frame is dropped; a correct one then goes through",
		Mutant: "reply-delimiter-unchecked", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc).KeepAlive()
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			req := w.ExpectBeating("the request", t.Soon(), empty, mdpw, request, "*", empty, "x")
			w.Send(empty, mdpw, reply, string(req[3]), "not-empty", "bad")
			c.ExpectNothing("no reply from a malformed REPLY", t.Quiet(), false)
			w.Drain(0)
			w.Send(empty, mdpw, reply, string(req[3]), empty, "good")
			c.Expect("the correct reply", t.Soon(), empty, mdpc, svc, "good")
			t.Seen("malformed dropped, correct delivered")
		},
	},
}
