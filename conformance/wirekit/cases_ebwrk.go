package wirekit

import (
	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// seq returns the ebwrk envelope frame for sequence n with status st.
func seq(n uint64, st core.Status) string {
	m := core.Message{Protocol: core.ClientProtocol, Envelope: true, Seq: n, Status: st}
	return string(m.Frames()[0])
}

// ebwrkCases check ebwrk's extensions; a plain MDP/0.1 broker may fail every one.
var ebwrkCases = []*Case{
	{
		ID: "ebwrk/envelope", RFC: "ebwrk sequence envelope", Level: Extension,
		Rule:   "a request's sequence envelope comes back on its reply (an mmi. one too); the worker never sees it",
		Mutant: "envelope-not-echoed", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(seq(7, core.StatusOK), empty, mdpc, svc, "hi")
			w.Serve("a REQUEST without the envelope", t.Soon(), []string{"hi"}, "re")
			c.Expect("the sequence number echoed", t.Soon(), seq(7, core.StatusOK), empty, mdpc, svc, "re")
			c.Send(seq(9, core.StatusOK), empty, mdpc, "mmi.service", svc)
			c.Expect("the envelope on an mmi reply", t.Soon(), seq(9, core.StatusOK), empty, mdpc, "mmi.service", "*")
			t.Seen("seq 7 and 9 echoed")
		},
	},
	{
		ID: "ebwrk/mmi-shorthand", RFC: "ebwrkapi mmi.<name>", Level: Extension,
		Rule:   "mmi.<name> without a body answers <name>, 200|404",
		Mutant: "mmi-shorthand-501", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			w.Joined()
			c := t.Client()
			c.Send(empty, mdpc, "mmi."+svc)
			c.Expect("the shorthand for a live service", t.Soon(), empty, mdpc, "mmi."+svc, svc, "200")
			c.Send(empty, mdpc, "mmi.nosuch")
			c.Expect("the shorthand for an unknown one", t.Soon(), empty, mdpc, "mmi.nosuch", "nosuch", "404")
			t.Seen("200 and 404")
		},
	},
	{
		ID: "ebwrk/requeue-on-disconnect", RFC: "ebwrk request tracking", Level: Extension,
		Rule:   "the request of a worker that sends DISCONNECT goes at once to another worker",
		Mutant: "no-requeue-on-death", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w1 := t.Worker(svc).KeepAlive()
			c := t.Client()
			c.Send(empty, mdpc, svc, "job")
			w1.ExpectBeating("the request to w1", t.Soon(), empty, mdpw, request, "*", empty, "job")
			w2 := t.Worker(svc)
			w2.Joined()
			w1.Send(empty, mdpw, disconnect)
			w2.Serve("the request requeued to w2", t.Soon(), []string{"job"}, "done")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "done")
			t.Seen("requeued")
		},
	},
	{
		ID: "ebwrk/requeue-on-silence", RFC: "ebwrk request tracking", Level: Extension,
		Rule:   "the request of a worker that falls silent goes to another worker within the purge bound",
		Mutant: "no-requeue-on-death", Bound: 35,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w1 := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "job")
			w1.Expect("the request to w1", t.Soon(), empty, mdpw, request, "*", empty, "job")
			w2 := t.Worker(svc)
			w2.Serve("the silent worker's request requeued to w2", t.PurgeBound()+t.Soon(), []string{"job"}, "done")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "done")
			t.Seen("requeued")
		},
	},
	{
		ID: "ebwrk/stale-reply", RFC: "ebwrk request tracking", Level: Extension,
		Rule:   "a REPLY naming another client, or from a worker holding nothing, reaches no client",
		Mutant: "reply-address-unchecked", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc).KeepAlive()
			c := t.Client()
			c.Send(empty, mdpc, svc, "one")
			req := w.ExpectBeating("the request", t.Soon(), empty, mdpw, request, "*", empty, "one")
			addr := string(req[3])
			w.Send(empty, mdpw, reply, "not-"+addr, empty, "wrong")
			w.ExpectBeating("the request back after a reply with the wrong address", t.Soon(), empty, mdpw, request, addr, empty, "one")
			c.ExpectNothing("no reply with the wrong address", t.Quiet(), false)
			w.Send(empty, mdpw, reply, addr, empty, "right")
			c.Expect("the right reply", t.Soon(), empty, mdpc, svc, "right")
			w.Send(empty, mdpw, reply, addr, empty, "again")
			c.ExpectNothing("no reply from a worker holding nothing", t.Quiet(), false)
			t.Seen("both dropped")
		},
	},
	{
		ID: "ebwrk/queue-expired-failure", RFC: "ebwrk broker-made failures", Level: Extension,
		Rule:   "an ebwrk client is told when its queued request expires (status in the envelope)",
		Mutant: "queue-never-expires", Bound: 30,
		Run: func(t *T) {
			if t.S.QueueExpiry <= 0 {
				t.Skipf("--queue-expiry 0: the broker is said never to expire queued requests")
			}
			c := t.Client()
			svc := t.Svc("nosuch")
			c.Send(seq(5, core.StatusOK), empty, mdpc, svc, "x")
			c.Expect("the expiry failure", t.S.QueueExpiry+t.Beat()+t.Soon(), seq(5, core.StatusExpired), empty, mdpc, svc)
			t.Seen("told after about %v", t.S.QueueExpiry)
		},
	},
	{
		ID: "ebwrk/no-failure-to-plain-client", RFC: "ebwrk broker-made failures; 7 MDP/Client", Level: Extension,
		Rule:   "a plain client is never sent a broker-made failure (it could not read one)",
		Mutant: "failure-to-plain-client", Bound: 30,
		Run: func(t *T) {
			if t.S.QueueExpiry <= 0 {
				t.Skipf("--queue-expiry 0: the broker is said never to expire queued requests")
			}
			c := t.Client()
			c.Send(empty, mdpc, t.Svc("nosuch"), "x")
			c.ExpectNothing("nothing for a plain client whose request expired", t.S.QueueExpiry+t.Beat()+t.Quiet(), false)
			t.Seen("silence")
		},
	},
	{
		ID: "ebwrk/worker-on-frontend", RFC: "ebwrk (7: MAY one socket for both)", Level: Extension,
		Rule:        "a worker connected to the frontend endpoint registers and serves",
		Unreachable: "ebbroker binds one ROUTER to both endpoints and core never learns which one a message came on",
		Bound:       20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Dial(true, zmq.RawDealer)
			w.Send(empty, mdpw, ready, svc)
			w.worker = true
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			w.Serve("the request to a worker on the frontend", t.Soon(), []string{"x"}, "y")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "y")
			t.Seen("served")
		},
	},
	{
		ID: "ebwrk/client-on-backend", RFC: "ebwrk (7: MAY one socket for both)", Level: Extension,
		Rule:        "a client connected to the backend endpoint is served",
		Unreachable: "ebbroker binds one ROUTER to both endpoints and core never learns which one a message came on",
		Bound:       20,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Raw()
			c.Send(empty, mdpc, svc, "x")
			w.Serve("the request of a client on the backend", t.Soon(), []string{"x"}, "y")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "y")
			t.Seen("served")
		},
	},
}
