package conformance

import (
	"slices"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// The frames of the wire cases, as RFC 7 writes them.
const (
	empty      = ""
	mdpc       = core.ClientHeader
	mdpw       = core.WorkerHeader
	ready      = "\x01"
	request    = "\x02"
	reply      = "\x03"
	disconnect = "\x05"
)

// soon is how long a case waits for what must come at once: ten intervals.
func (s *Script) soon() time.Duration { return 10 * s.Beat }

// purgeBound is guarantee 4's bound, liveness × interval + one interval, plus two
// intervals of slack for a wall-clock broker.
func (s *Script) purgeBound() time.Duration { return time.Duration(s.Live+3) * s.Beat }

// garbage is what the hostile peer sends: none of it parses as RFC 7 allows, or it
// carries a status byte only a broker may send.
var garbage = [][]string{
	{"x"},
	{empty},
	{empty, mdpc},
	{empty, "MDPX01", "echo"},
	{empty, mdpw, "\x09"},
	{empty, mdpw, ready},
	{empty, mdpw, ready, "a", "b"},
	{empty, mdpw, reply, "a", "b", empty, "x"},
	{empty, mdpw, "\x04", "extra"},
	{empty, mdpw, "\x01\x02", "echo"},
	{empty, mdpw, request, "c"},
	{"x", empty, mdpc, "echo"},
	{"12345678", "x", mdpc, "echo"},
	{Seq(3, core.StatusQueueFull), empty, mdpc, "echo"},
	{Seq(3, core.Status(7)), empty, mdpc, "echo"},
	{empty, mdpw, "\x09", string(make([]byte, 64<<10))},
}

// WireCases are the wire-level conformance cases, written once for every transport.
var WireCases = []WireCase{
	{Name: "echo-standard", Checks: []string{R7Format, G1ReplyMatches}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "hello", "x")
		req := w.Expect(R7Format, "REQUEST with one address frame", s.soon(), empty, mdpw, request, "*", empty, "hello", "x")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "world", "y")
		c.Expect(R7Format, "REPLY to a plain client", s.soon(), empty, mdpc, "echo", "world", "y")
	}},
	{Name: "echo-envelope", Checks: []string{E2Envelope, G1ReplyMatches}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(Seq(7, core.StatusOK), empty, mdpc, "echo", "hi")
		req := w.Expect(E2Envelope, "the worker sees no envelope", s.soon(), empty, mdpw, request, "*", empty, "hi")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "re")
		c.Expect(E2Envelope, "the sequence number echoed", s.soon(), Seq(7, core.StatusOK), empty, mdpc, "echo", "re")
	}},
	{Name: "queue-until-worker", Checks: []string{L4Queue}, Run: func(s *Script) {
		c := s.Client()
		c.Send(empty, mdpc, "late", "q")
		c.ExpectNothing(L4Queue, "no worker yet", 2*s.Beat, false)
		w := s.Worker("late")
		req := w.Expect(L4Queue, "the queued request dispatched on READY", s.soon(), empty, mdpw, request, "*", empty, "q")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "a")
		c.Expect(L4Queue, "the reply", s.soon(), empty, mdpc, "late", "a")
	}},
	{Name: "lru", Checks: []string{L3LRU}, Run: func(s *Script) {
		w1 := s.Worker("echo")
		s.Registered(1)
		w2 := s.Worker("echo")
		s.Registered(2)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "a")
		req := w1.Expect(L3LRU, "the first request to w1, idle longest", s.soon(), empty, mdpw, request, "*", empty, "a")
		w1.Send(empty, mdpw, reply, string(req[3]), empty, "ra")
		c.Expect(L3LRU, "the reply from w1", s.soon(), empty, mdpc, "echo", "ra")
		c.Send(empty, mdpc, "echo", "b")
		req = w2.Expect(L3LRU, "the second request to w2, now idle longest", s.soon(), empty, mdpw, request, "*", empty, "b")
		w2.Send(empty, mdpw, reply, string(req[3]), empty, "rb")
		c.Expect(L3LRU, "the reply from w2", s.soon(), empty, mdpc, "echo", "rb")
	}},
	{Name: "second-ready", Checks: []string{R7ReadyOnce}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		w.Send(empty, mdpw, ready, "echo")
		w.Expect(R7ReadyOnce, "DISCONNECT after a second READY", s.soon(), empty, mdpw, disconnect)
		s.Eventually(R7ReadyOnce, "the worker forgotten", s.soon(), func() bool { return s.Workers() == 0 }, nil)
		s.Client().Send(empty, mdpc, "echo", "x")
		w.ExpectNothing(R7ReadyOnce, "nothing for a forgotten worker", 2*s.Beat, true)
	}},
	{Name: "unknown-heartbeat", Checks: []string{R7Unexpected}, Run: func(s *Script) {
		p := s.Dial(core.Backend)
		p.Beat()
		p.Expect(R7Unexpected, "DISCONNECT for a HEARTBEAT from an unknown worker", s.soon(), empty, mdpw, disconnect)
	}},
	{Name: "unknown-reply", Checks: []string{R7Unexpected}, Run: func(s *Script) {
		c := s.Client()
		c.Send(empty, mdpc, "echo", "x")
		p := s.Dial(core.Backend)
		p.Send(empty, mdpw, reply, "someone", empty, "x")
		p.Expect(R7Unexpected, "DISCONNECT for a REPLY from an unknown worker", s.soon(), empty, mdpw, disconnect)
		c.ExpectNothing(R7Unexpected, "no reply from an unknown worker", 2*s.Beat, false)
	}},
	{Name: "request-from-worker", Checks: []string{R7Unexpected}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		w.Send(empty, mdpw, request, "c", empty, "x")
		w.Expect(R7Unexpected, "DISCONNECT for a REQUEST from a worker", s.soon(), empty, mdpw, disconnect)
		s.Eventually(R7Unexpected, "the worker forgotten", s.soon(), func() bool { return s.Workers() == 0 }, nil)
	}},
	{Name: "ready-reserved", Checks: []string{R8Reserved}, Run: func(s *Script) {
		w := s.Worker("mmi.echo")
		w.Expect(R8Reserved, "DISCONNECT for READY mmi.echo", s.soon(), empty, mdpw, disconnect)
		c := s.Client()
		c.Send(empty, mdpc, "mmi.service", "mmi.echo")
		c.Expect(R8Reserved, "mmi.echo not registered", s.soon(), empty, mdpc, "mmi.service", "404")
		if n := s.Workers(); n != 0 {
			s.fail(R8Reserved, "%d workers registered after READY mmi.echo", n)
		}
	}},
	{Name: "mmi-service", Checks: []string{R8Replies, G6MMIRegistry, E2Envelope}, Run: func(s *Script) {
		c := s.Client()
		c.Send(empty, mdpc, "mmi.service", "echo")
		c.Expect(G6MMIRegistry, "404 before any worker", s.soon(), empty, mdpc, "mmi.service", "404")
		w := s.Worker("echo")
		s.Registered(1)
		c.Send(empty, mdpc, "mmi.service", "echo")
		c.Expect(G6MMIRegistry, "200 with an idle worker", s.soon(), empty, mdpc, "mmi.service", "200")
		c.Send(empty, mdpc, "mmi.service", "a", "echo")
		c.Expect(R8Replies, "the last body frame replaced", s.soon(), empty, mdpc, "mmi.service", "a", "200")
		c.Send(empty, mdpc, "mmi.echo")
		c.Expect(R8Replies, "the mmi.<name> shorthand", s.soon(), empty, mdpc, "mmi.echo", "echo", "200")
		c.Send(empty, mdpc, "mmi.nosuch")
		c.Expect(R8Replies, "the shorthand for an unknown name", s.soon(), empty, mdpc, "mmi.nosuch", "nosuch", "404")
		c.Send(empty, mdpc, "mmi.foo", "x")
		c.Expect(R8Replies, "501 for another mmi. service", s.soon(), empty, mdpc, "mmi.foo", "501")
		c.Send(Seq(9, core.StatusOK), empty, mdpc, "mmi.service", "echo")
		c.Expect(E2Envelope, "the envelope echoed on an mmi reply", s.soon(), Seq(9, core.StatusOK), empty, mdpc, "mmi.service", "200")
		c2 := s.Client()
		c2.Send(empty, mdpc, "echo", "job")
		req := w.Expect(G6MMIRegistry, "the request", s.soon(), empty, mdpw, request, "*", empty, "job")
		c.Send(empty, mdpc, "mmi.service", "echo")
		c.Expect(G6MMIRegistry, "200 with only a busy worker", s.soon(), empty, mdpc, "mmi.service", "200")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "done")
		c2.Expect(G6MMIRegistry, "the reply", s.soon(), empty, mdpc, "echo", "done")
	}},
	{Name: "worker-disconnect", Checks: []string{R7Disconnect}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		w.Send(empty, mdpw, disconnect)
		s.Eventually(R7Disconnect, "the worker forgotten after its DISCONNECT", s.soon(), func() bool { return s.Workers() == 0 }, nil)
		w.Drain(s.Beat / 4) // what the broker sent before it read the DISCONNECT
		w.ExpectNothing(R7Disconnect, "nothing, not even a HEARTBEAT, after DISCONNECT", 3*s.Beat, true)
		c := s.Client()
		c.Send(empty, mdpc, "mmi.service", "echo")
		c.Expect(R7Disconnect, "the service gone", s.soon(), empty, mdpc, "mmi.service", "404")
	}},
	{Name: "garbage", Checks: []string{G7Malformed}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		front, back := s.Dial(core.Frontend), s.Dial(core.Backend)
		for _, g := range garbage {
			front.Send(g...)
			back.Send(g...)
		}
		c.Send(empty, mdpc, "echo", "still")
		req := w.Expect(G7Malformed, "other peers undisturbed", s.soon(), empty, mdpw, request, "*", empty, "still")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "fine")
		c.Expect(G7Malformed, "other peers undisturbed", s.soon(), empty, mdpc, "echo", "fine")
		front.ExpectNothing(G7Malformed, "no answer to garbage on the frontend", 2*s.Beat, true)
		back.ExpectNothing(G7Malformed, "no answer to garbage on the backend", 0, true)
		ws, ss := s.tr.Workers(), s.tr.Services()
		if len(ws) != 1 || len(ss) != 1 || ss[0].Name != "echo" {
			s.fail(G7Malformed, "garbage changed the registry: workers %s, services %v", workersString(ws), ss)
		}
	}},
	{Name: "heartbeat-busy", Checks: []string{R7BrokerHeartbeats}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		w.ExpectHeartbeat(R7BrokerHeartbeats, "a HEARTBEAT to an idle worker", 2*s.Beat)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "x")
		req := w.Expect(R7BrokerHeartbeats, "the request", s.soon(), empty, mdpw, request, "*", empty, "x")
		for range 3 {
			w.Beat()
			w.ExpectHeartbeat(R7BrokerHeartbeats, "a HEARTBEAT to a busy worker", 2*s.Beat)
		}
		w.Send(empty, mdpw, reply, string(req[3]), empty, "y")
		c.Expect(R7BrokerHeartbeats, "the reply", s.soon(), empty, mdpc, "echo", "y")
	}},
	{Name: "purge-silent", Checks: []string{G4Purge}, Config: core.BrokerConfig{Liveness: 3}, Run: func(s *Script) {
		w1 := s.Worker("echo")
		s.Registered(1)
		s.Worker("echo")
		s.Registered(2)
		s.Eventually(G4Purge, "the silent worker (joined second) purged", s.purgeBound(),
			func() bool { return s.Workers() == 1 }, w1.Beat)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "x")
		w1.ExpectBeating(G4Purge, "the live worker kept", s.soon(), empty, mdpw, request, "*", empty, "x")
	}},
	{Name: "busy-death-requeue", Checks: []string{G4Purge, G5HeldNotLost}, Config: core.BrokerConfig{Liveness: 3}, Run: func(s *Script) {
		w1 := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "job")
		w1.Expect(G5HeldNotLost, "the request to w1", s.soon(), empty, mdpw, request, "*", empty, "job")
		w2 := s.Worker("echo")
		s.Registered(2)
		// w1 falls silent holding the request; it must expire and its request move on.
		req := w2.ExpectBeating(G5HeldNotLost, "the silent busy worker's request requeued to w2", s.purgeBound(), empty, mdpw, request, "*", empty, "job")
		w2.Send(empty, mdpw, reply, string(req[3]), empty, "done")
		c.Expect(G5HeldNotLost, "the reply", s.soon(), empty, mdpc, "echo", "done")
	}},
	{Name: "death-disconnect-requeue", Checks: []string{G5HeldNotLost}, Run: func(s *Script) {
		w1 := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "job")
		w1.Expect(G5HeldNotLost, "the request to w1", s.soon(), empty, mdpw, request, "*", empty, "job")
		w2 := s.Worker("echo")
		s.Registered(2)
		w1.Send(empty, mdpw, disconnect)
		req := w2.Expect(G5HeldNotLost, "requeued at once to the idle w2", 2*s.Beat, empty, mdpw, request, "*", empty, "job")
		w2.Send(empty, mdpw, reply, string(req[3]), empty, "done")
		c.Expect(G5HeldNotLost, "the reply", s.soon(), empty, mdpc, "echo", "done")
	}},
	{Name: "stale-reply", Checks: []string{E1StaleReply}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "one")
		req := w.Expect(E1StaleReply, "the request", s.soon(), empty, mdpw, request, "*", empty, "one")
		addr := string(req[3])
		w.Send(empty, mdpw, reply, "not-"+addr, empty, "wrong")
		w.Expect(E1StaleReply, "the request back after a reply with the wrong address", s.soon(), empty, mdpw, request, addr, empty, "one")
		c.ExpectNothing(E1StaleReply, "no reply with the wrong address", s.Beat, false)
		w.Send(empty, mdpw, reply, addr, empty, "right")
		c.Expect(E1StaleReply, "the right reply", s.soon(), empty, mdpc, "echo", "right")
		w.Send(empty, mdpw, reply, addr, empty, "again")
		c.ExpectNothing(E1StaleReply, "no reply from a worker holding nothing", 2*s.Beat, false)
	}},
	{Name: "queue-expiry", Checks: []string{L4Queue, E2Envelope}, Config: core.BrokerConfig{QueueExpiry: 300 * time.Millisecond}, Run: func(s *Script) {
		ebwrk, plain := s.Client(), s.Client()
		ebwrk.Send(Seq(5, core.StatusOK), empty, mdpc, "nosuch", "x")
		plain.Send(empty, mdpc, "nosuch", "y")
		ebwrk.Expect(L4Queue, "an ebwrk client told its request expired", 300*time.Millisecond+3*s.Beat, Seq(5, core.StatusExpired), empty, mdpc, "nosuch")
		plain.ExpectNothing(E2Envelope, "a plain client is never sent a failure", 2*s.Beat, false)
		s.Eventually(L2Services, "the service gone", s.soon(), func() bool { return len(s.tr.Services()) == 0 }, nil)
	}},
	{Name: "queue-full", Checks: []string{L4Queue, E2Envelope}, Config: core.BrokerConfig{QueueLimit: 1}, Run: func(s *Script) {
		ebwrk, plain := s.Client(), s.Client()
		ebwrk.Send(Seq(1, core.StatusOK), empty, mdpc, "nosuch", "a")
		ebwrk.Send(Seq(2, core.StatusOK), empty, mdpc, "nosuch", "b")
		ebwrk.Expect(L4Queue, "refused: the queue is full", s.soon(), Seq(2, core.StatusQueueFull), empty, mdpc, "nosuch")
		plain.Send(empty, mdpc, "nosuch", "c")
		plain.ExpectNothing(E2Envelope, "a plain client is never sent a failure", 2*s.Beat, false)
		w := s.Worker("nosuch")
		req := w.Expect(L4Queue, "the queued request", s.soon(), empty, mdpw, request, "*", empty, "a")
		w.Send(empty, mdpw, reply, string(req[3]), empty, "ra")
		ebwrk.Expect(L4Queue, "its reply", s.soon(), Seq(1, core.StatusOK), empty, mdpc, "nosuch", "ra")
	}},
	{Name: "service-lifetime", Checks: []string{L2Services}, Config: core.BrokerConfig{QueueExpiry: 200 * time.Millisecond}, Run: func(s *Script) {
		has := func(name string) bool {
			return slices.ContainsFunc(s.tr.Services(), func(x core.ServiceInfo) bool { return x.Name == name })
		}
		c := s.Client()
		c.Send(empty, mdpc, "typo", "x")
		s.Eventually(L2Services, "the service of a queued request exists", s.soon(), func() bool { return has("typo") }, nil)
		s.Eventually(L2Services, "the service gone once its request expired", s.soon(), func() bool { return len(s.tr.Services()) == 0 }, nil)
		c.Send(empty, mdpc, "mmi.service", "ghost")
		c.Expect(L2Services, "the lookup", s.soon(), empty, mdpc, "mmi.service", "404")
		if ss := s.tr.Services(); len(ss) != 0 {
			s.fail(L2Services, "an mmi. lookup left services %v", ss)
		}
		w := s.Worker("echo")
		s.Registered(1)
		w.Send(empty, mdpw, disconnect)
		s.Eventually(L2Services, "the service gone with its last worker", s.soon(), func() bool { return len(s.tr.Services()) == 0 }, nil)
	}},
	{Name: "two-services", Checks: []string{G3Dispatch}, Run: func(s *Script) {
		wb := s.Worker("b")
		s.Registered(1)
		wa := s.Worker("a")
		s.Registered(2)
		ca, cb := s.Client(), s.Client()
		for round := range 2 {
			n := strconv.Itoa(round)
			ca.Send(empty, mdpc, "a", "for-a"+n)
			ra := wa.Expect(G3Dispatch, "a's request to a's worker", s.soon(), empty, mdpw, request, "*", empty, "for-a"+n)
			cb.Send(empty, mdpc, "b", "for-b"+n)
			rb := wb.Expect(G3Dispatch, "b's request to b's worker", s.soon(), empty, mdpw, request, "*", empty, "for-b"+n)
			wa.Send(empty, mdpw, reply, string(ra[3]), empty, "ra")
			wb.Send(empty, mdpw, reply, string(rb[3]), empty, "rb")
			ca.Expect(G3Dispatch, "a's reply", s.soon(), empty, mdpc, "a", "ra")
			cb.Expect(G3Dispatch, "b's reply", s.soon(), empty, mdpc, "b", "rb")
		}
	}},
	{Name: "replies-keep-alive", Checks: []string{R7AnyCommand}, Config: core.BrokerConfig{Liveness: 3}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		for i := range 4 * (s.Live + 1) {
			body := "r" + strconv.Itoa(i)
			c.Send(empty, mdpc, "echo", body)
			req := w.Expect(R7AnyCommand, "a worker that only replies stays registered", s.soon(), empty, mdpw, request, "*", empty, body)
			w.Send(empty, mdpw, reply, string(req[3]), empty, body)
			c.Expect(R7AnyCommand, "the reply", s.soon(), empty, mdpc, "echo", body)
			s.Wait(s.Beat / 2)
		}
	}},
	{Name: "broker-restart", Checks: []string{R7Unexpected}, Run: func(s *Script) {
		w := s.Worker("echo")
		s.Registered(1)
		if err := s.tr.Restart(); err != nil {
			s.t.Fatalf("restart: %v", err)
		}
		w.Beat()
		w.Expect(R7Unexpected, "DISCONNECT for a HEARTBEAT after a broker restart", s.soon(), empty, mdpw, disconnect)
		w.Close()
		w2 := s.Worker("echo")
		s.Registered(1)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "x")
		req := w2.Expect(R7Unexpected, "the re-registered worker serves", s.soon(), empty, mdpw, request, "*", empty, "x")
		w2.Send(empty, mdpw, reply, string(req[3]), empty, "y")
		c.Expect(R7Unexpected, "the reply", s.soon(), empty, mdpc, "echo", "y")
	}},
	{Name: "hold-limit", Checks: []string{E3HoldLimit, G5HeldNotLost}, Config: core.BrokerConfig{HoldLimit: 400 * time.Millisecond}, Run: func(s *Script) {
		w1 := s.Worker("echo")
		s.Registered(1)
		w2 := s.Worker("echo")
		s.Registered(2)
		c := s.Client()
		c.Send(empty, mdpc, "echo", "job")
		w1.Expect(E3HoldLimit, "the request to w1, idle the longest", s.soon(), empty, mdpw, request, "*", empty, "job")
		// w1 heartbeats on and never replies: liveness keeps it, the hold limit must not.
		w1.Beat()
		w1.ExpectNothing(E3HoldLimit, "no DISCONNECT before the hold limit", 250*time.Millisecond, false)
		w1.ExpectBeating(E3HoldLimit, "DISCONNECT once held past the hold limit", s.soon(), empty, mdpw, disconnect)
		req := w2.Expect(G5HeldNotLost, "w1's request requeued to w2", s.soon(), empty, mdpw, request, "*", empty, "job")
		w2.Send(empty, mdpw, reply, string(req[3]), empty, "done")
		c.Expect(G5HeldNotLost, "the reply", s.soon(), empty, mdpc, "echo", "done")
	}},
}
