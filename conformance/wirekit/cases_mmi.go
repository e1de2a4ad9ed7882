package wirekit

import "time"

// lookup asks mmi.service about name and checks the code.
func lookup(t *T, c *Peer, name, code, what string) {
	c.Send(empty, mdpc, "mmi.service", name)
	c.Expect(what, t.Soon(), empty, mdpc, "mmi.service", code)
}

// mmiCases are RFC 8's rules.
var mmiCases = []*Case{
	{
		ID: "rfc8/service-found-idle", RFC: "8 mmi.service", Level: Must,
		Rule:   "mmi.service answers 200 for a service with an idle worker",
		Mutant: "mmi-never-found", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			w.Joined()
			lookup(t, t.Client(), svc, "200", "200 with an idle worker")
			t.Seen("200")
		},
	},
	{
		ID: "rfc8/service-found-busy", RFC: "8 mmi.service", Level: Must,
		Rule:   "mmi.service answers 200 for a service whose only worker is busy (registered)",
		Mutant: "mmi-200-only-for-idle", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "job")
			req := w.ExpectBeating("the request", t.Soon(), empty, mdpw, request, "*", empty, "job")
			lookup(t, t.Client(), svc, "200", "200 with only a busy worker")
			w.Send(empty, mdpw, reply, string(req[3]), empty, "done")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "done")
			t.Seen("200")
		},
	},
	{
		ID: "rfc8/service-not-found", RFC: "8 mmi.service", Level: Must,
		Rule:   "mmi.service answers 404 for a name never registered, and after the last worker left",
		Mutant: "disconnect-counted-as-heartbeat", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			c := t.Client()
			lookup(t, c, svc, "404", "404 for an unknown service")
			w := t.Worker(svc)
			w.Joined()
			lookup(t, c, svc, "200", "200 with a worker")
			w.Send(empty, mdpw, disconnect)
			// The lookup travels on another connection than the DISCONNECT, so
			// the broker may read it first: ask until 404, for at most Soon.
			end := time.Now().Add(t.Soon())
			for {
				c.Send(empty, mdpc, "mmi.service", svc)
				m := c.Expect("a lookup after the worker's DISCONNECT", t.Soon(), empty, mdpc, "mmi.service", "*")
				if string(m[3]) == "404" {
					break
				}
				if time.Now().After(end) {
					t.Fatalf("404 after its worker's DISCONNECT: still %s after %v", Show(m), t.Soon())
				}
				t.Wait(t.Beat() / 4)
			}
			t.Seen("404, 200, 404")
		},
	},
	{
		ID: "rfc8/service-requested-only", RFC: "8 mmi.service", Level: Must,
		Rule:   "a service that clients asked for but no worker offers is not found (404)",
		Mutant: "mmi-200-if-service-known", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("wanted")
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			c.ExpectNothing("queued", t.Beat()/2, false)
			lookup(t, t.Client(), svc, "404", "404 for a service with queued requests and no worker")
			t.Seen("404")
		},
	},
	{
		ID: "rfc8/not-implemented", RFC: "8", Level: Must,
		Rule:   "any other mmi. service answers 501",
		Mutant: "mmi-unknown-404", Bound: 20,
		Run: func(t *T) {
			c := t.Client()
			c.Send(empty, mdpc, "mmi.nosuch", "x")
			c.Expect("501 for mmi.nosuch", t.Soon(), empty, mdpc, "mmi.nosuch", "501")
			t.Seen("501")
		},
	},
	{
		ID: "rfc8/reply-frames", RFC: "8 mmi.service", Level: Must,
		Rule:   "the reply names the service \"mmi.service\" (not the looked-up one) with the code as its body",
		Mutant: "mmi-reply-names-target", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			c := t.Client()
			c.Send(empty, mdpc, "mmi.service", svc)
			m := c.Expect("the reply", t.Soon(), empty, mdpc, "*", "*")
			if string(m[2]) != "mmi.service" || string(m[3]) != "404" {
				t.Fatalf("got %s, want [\"\" \"MDPC01\" \"mmi.service\" \"404\"]", Show(m))
			}
			t.Seen("%s", Show(m))
		},
	},
	{
		ID: "rfc8/no-body", RFC: "8; 7 rule 5 (SHOULD drop invalid)", Level: Must,
		Rule:   "an mmi.service request without a body frame does not disturb the broker (the zguide brokers crash on it)",
		Mutant: "mmi-empty-body-crash", Bound: 20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			c := t.Client()
			c.Send(empty, mdpc, "mmi.service")
			c.Drain(t.Quiet())
			lookup(t, t.Client(), svc, "404", "the broker still answers")
			t.Seen("the broker still answers")
		},
	},
	{
		ID: "rfc8/ready-reserved", RFC: "8 (MUST disconnect workers registering mmi.)", Level: Must,
		Rule:   "a READY for an mmi. service gets DISCONNECT and registers nothing",
		Mutant: "mmi-check-on-sender", Bound: 25,
		Run: func(t *T) {
			name := "mmi." + t.Svc("x")
			w := t.Worker(name)
			expectDisconnected(t, w, "DISCONNECT for READY "+name)
			t.Seen("DISCONNECT")
		},
	},
}
