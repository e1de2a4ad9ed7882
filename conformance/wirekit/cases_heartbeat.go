package wirekit

import (
	"time"
)

// arrival is a message and when it came.
type arrival struct {
	at time.Time
	m  [][]byte
}

// watch records what p receives for d. Each peer in alive sends a HEARTBEAT every
// half interval meanwhile, and what they receive is read and dropped; p itself
// beats too when beat is set.
func watch(t *T, p *Peer, d time.Duration, beat bool, alive ...*Peer) []arrival {
	if beat {
		alive = append(alive, p)
	}
	var got []arrival
	end := time.Now().Add(d)
	var nextBeat time.Time
	for time.Now().Before(end) {
		if now := time.Now(); !now.Before(nextBeat) {
			for _, a := range alive {
				a.Beat()
			}
			nextBeat = now.Add(t.Beat() / 2)
		}
		for _, a := range alive {
			if a != p {
				a.Drain(0)
			}
		}
		if m := p.Recv(min(time.Until(end), 10*time.Millisecond)); m != nil {
			got = append(got, arrival{time.Now(), m})
		}
	}
	return got
}

// maxGap returns the longest time between from and the first arrival, between two
// arrivals, and between the last one and until.
func maxGap(from, until time.Time, got []arrival) time.Duration {
	var gap time.Duration
	prev := from
	for _, a := range got {
		gap = max(gap, a.at.Sub(prev))
		prev = a.at
	}
	return max(gap, until.Sub(prev))
}

// heartbeatGaps checks that p, kept alive, hears from the broker at least once per
// interval (plus Slack) for five intervals from since.
func heartbeatGaps(t *T, p *Peer, since time.Time, what string) {
	got := watch(t, p, 5*t.Beat(), true)
	until := time.Now()
	for _, a := range got {
		if !IsHeartbeat(a.m) {
			t.Fatalf("%s: got %s, want only HEARTBEATs", what, Show(a.m))
		}
	}
	bound := t.Beat() + t.Slack()
	if gap := maxGap(since, until, got); gap > bound {
		t.Fatalf("%s: %d HEARTBEATs in %v, longest silence %v, bound interval + %v = %v",
			what, len(got), until.Sub(since).Round(time.Millisecond), gap.Round(time.Millisecond), t.Slack(), bound)
	}
	t.Seen("%d HEARTBEATs, longest gap %v (bound %v)", len(got), maxGap(since, until, got).Round(time.Millisecond), bound)
}

// expectPurged watches the silent worker p, whose last command went at last, and
// checks that the broker stops sending to it within the purge bound.
func expectPurged(t *T, p *Peer, last time.Time, alive ...*Peer) {
	bound := t.PurgeBound()
	got := watch(t, p, time.Until(last.Add(bound))+t.Quiet(), false, alive...)
	for _, a := range got {
		if a.at.Sub(last) > bound {
			t.Fatalf("the silent worker still got %s %v after its last command; bound liveness × interval + interval + %v = %v",
				Show(a.m), a.at.Sub(last).Round(time.Millisecond), t.Slack(), bound)
		}
	}
	lastMsg := time.Duration(0)
	if len(got) > 0 {
		lastMsg = got[len(got)-1].at.Sub(last)
	}
	t.Seen("last message to the silent worker %v after its last command (bound %v)", lastMsg.Round(time.Millisecond), bound)
}

// heartbeatCases are RFC 7's heartbeating rules, timed on the wall clock.
var heartbeatCases = []*Case{
	{
		ID: "rfc7/heartbeat/idle-worker", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "the broker heartbeats an idle worker at least once per interval",
		Mutant: "no-heartbeats", Bound: 20,
		Run: func(t *T) {
			w := t.Worker(t.Svc("echo"))
			w.Joined()
			heartbeatGaps(t, w, time.Now(), "an idle worker")
		},
	},
	{
		ID: "rfc7/heartbeat/busy-worker", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "the broker heartbeats a worker that holds a request at least once per interval",
		Mutant: "heartbeats-only-to-idle", Bound: 25,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			req := w.ExpectBeating("the request", t.Soon(), empty, mdpw, request, "*", empty, "x")
			heartbeatGaps(t, w, time.Now(), "a busy worker")
			w.Send(empty, mdpw, reply, string(req[3]), empty, "y")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "y")
		},
	},
	{
		ID: "rfc7/heartbeat/any-command", RFC: "7 MDP/Worker rule 8", Level: Must,
		Rule:   "a worker that only replies, never sending HEARTBEAT, stays registered: any command is a heartbeat",
		Mutant: "reply-not-heartbeat", Bound: 40,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			c := t.Client()
			end := time.Now().Add(time.Duration(t.S.Liveness+2) * t.Beat())
			n := 0
			for time.Now().Before(end) {
				c.Send(empty, mdpc, svc, "r")
				req := w.Expect("a request to a worker that only replies", t.Soon(), empty, mdpw, request, "*", empty, "r")
				w.Send(empty, mdpw, reply, string(req[3]), empty, "r")
				c.Expect("the reply", t.Soon(), empty, mdpc, svc, "r")
				n++
				w.ExpectNothing("between requests", t.Beat()/2, false)
			}
			t.Seen("%d requests over %d intervals without a HEARTBEAT", n, t.S.Liveness+2)
		},
	},
	{
		ID: "rfc7/heartbeat/liveness", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "a worker that heartbeats just within liveness × interval is never dropped",
		Mutant: "liveness-ignored", Bound: 40,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			w.Joined()
			period := max(time.Duration(t.S.Liveness)*t.Beat()-t.Slack(), t.Beat()/2)
			for range 3 {
				for _, a := range watch(t, w, period, false) {
					if !IsHeartbeat(a.m) {
						t.Fatalf("a worker beating every %v got %s", period, Show(a.m))
					}
				}
				w.Beat()
			}
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			w.Serve("a request for the worker still registered", t.Soon(), []string{"x"}, "y")
			c.Expect("the reply", t.Soon(), empty, mdpc, svc, "y")
			t.Seen("kept with a HEARTBEAT every %v", period)
		},
	},
	{
		ID: "rfc7/heartbeat/purge-idle", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "the broker stops sending to a silent idle worker within liveness × interval + one interval",
		Mutant: "idle-workers-never-expire", Bound: 30,
		Run: func(t *T) {
			w := t.Worker(t.Svc("echo"))
			expectPurged(t, w, time.Now())
		},
	},
	{
		ID: "rfc7/heartbeat/purge-behind-live", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "a silent worker behind a live one in the waiting list is purged as well",
		Mutant: "purge-stops-at-first-live", Bound: 35,
		Run: func(t *T) {
			svc := t.Svc("echo")
			live := t.Worker(svc)
			live.Joined()
			silent := t.Worker(svc)
			expectPurged(t, silent, time.Now(), live)
		},
	},
	{
		ID: "rfc7/heartbeat/purge-busy", RFC: "7 MDP/Worker rule 9", Level: Must,
		Rule:   "a silent worker holding a request is purged within the same bound",
		Mutant: "busy-workers-never-expire", Bound: 30,
		Run: func(t *T) {
			svc := t.Svc("echo")
			w := t.Worker(svc)
			last := time.Now()
			c := t.Client()
			c.Send(empty, mdpc, svc, "x")
			expectPurged(t, w, last)
		},
	},
}
