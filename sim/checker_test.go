package sim

import (
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// testRun returns a started run of a small scenario whose checker tests can feed.
func testRun(t *testing.T) *run {
	t.Helper()
	sc := Scenario{Name: "t", Services: []ServiceSpec{{Name: "echo", Workers: 1}}, Clients: ClientSpec{Requests: 1}}
	r := newRun(sc.withDefaults(), 1, Options{})
	r.begin()
	return r
}

var (
	w9 = core.Peer{Socket: core.Backend, ID: "w9.1"}
	c1 = core.Peer{Socket: core.Frontend, ID: "c1.1"}
)

func ev(e core.EventKind, p core.Peer, seq uint64) *core.Output {
	return &core.Output{Kind: core.EventOutput, Event: e, Peer: p, Service: "echo", Seq: seq}
}

// TestCheckerCatches feeds the checker event sequences that break a guarantee, and
// their sound twins that do not.
func TestCheckerCatches(t *testing.T) {
	for _, tc := range []struct {
		name string
		feed func(r *run)
		want string // the guarantee broken, or "" for none
	}{
		{"dispatch to a registered idle worker", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 1))
		}, ""},
		{"dispatch to an unknown worker", func(r *run) {
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 1))
		}, GDispatch},
		{"dispatch to a busy worker", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 1))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 2))
		}, GDispatch},
		{"dispatch to a removed worker", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.brokerEvent(ev(core.WorkerRemoved, w9, 0))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 1))
		}, GDispatch},
		{"dispatch to an expired worker", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.model(w9).lastHeard = -5 * time.Second
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 1))
		}, GDispatch},
		{"silent worker never purged", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.model(w9).lastHeard = -5 * time.Second
			r.chk.scan()
		}, GPurge},
		{"dead worker's request requeued", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 4))
			r.chk.brokerEvent(ev(core.WorkerRemoved, w9, 0))
			r.chk.brokerEvent(ev(core.RequestRequeued, c1, 4))
			r.chk.brokerStepDone()
		}, ""},
		{"dead worker's request lost", func(r *run) {
			r.chk.brokerEvent(ev(core.WorkerJoined, w9, 0))
			r.chk.brokerEvent(ev(core.RequestDispatched, w9, 4))
			r.chk.brokerEvent(ev(core.WorkerRemoved, w9, 0))
			r.chk.brokerStepDone()
		}, GHeld},
		{"mmi.service 200 with no worker", func(r *run) {
			mmiReply(r, "nosuch", "200")
		}, GMMI},
		{"mmi.service 404 with no worker", func(r *run) {
			mmiReply(r, "nosuch", "404")
		}, ""},
		{"reply with another request's body", func(r *run) {
			c := r.clients[0]
			rq := c.req(1)
			rq.mmiName, rq.service = "", "echo"
			r.chk.clientEnded(c, rq, &core.Output{Kind: core.DeliverOutput, Seq: 1, Service: "echo",
				Body: [][]byte{[]byte("c1:2")}}, true, time.Millisecond)
		}, GReply},
		{"timed out after too few attempts", func(r *run) {
			c := r.clients[0]
			r.chk.clientEnded(c, c.req(1), &core.Output{Kind: core.FailOutput, Seq: 1, Service: "echo",
				Reason: core.TimedOut, Attempts: 1}, false, time.Second)
		}, GEnds},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := testRun(t)
			tc.feed(r)
			var got []string
			for _, v := range r.chk.violations {
				got = append(got, v.Guarantee)
			}
			switch {
			case tc.want == "" && len(got) > 0:
				t.Errorf("violations %v, want none: %v", got, r.chk.violations)
			case tc.want != "" && (len(got) == 0 || got[0] != tc.want):
				t.Errorf("violations %v, want %s", got, tc.want)
			}
		})
	}
}

// mmiReply makes the broker's reply to c1's request 1, an mmi.service lookup of name.
func mmiReply(r *run, name, answer string) {
	c := r.clients[0]
	rq := c.req(1)
	rq.service, rq.mmiName = "mmi.service", name
	m := core.Message{Protocol: core.ClientProtocol, Envelope: true, Seq: 1, Service: []byte("mmi.service"),
		Body: [][]byte{[]byte(answer)}}
	r.chk.brokerSend(&core.Output{Kind: core.SendOutput, To: c1, Frames: m.Frames(), Protocol: core.ClientProtocol, Command: core.Reply})
}

// TestMalformedHarmless sends every malformed template to the real broker.
func TestMalformedHarmless(t *testing.T) {
	r := testRun(t)
	for i, f := range malformedTemplates {
		if _, err := core.Parse(f); err == nil {
			t.Errorf("template %d parses: it is not malformed", i)
		}
		r.broker.receive(core.Socket(i%2), hostileName+".1", f)
	}
	if len(r.chk.violations) > 0 {
		t.Errorf("violations: %v", r.chk.violations)
	}
	if got := r.broker.m.Stats().Dropped[core.Malformed]; got != uint64(len(malformedTemplates)) {
		t.Errorf("broker dropped %d malformed messages, want %d", got, len(malformedTemplates))
	}
}

func TestViolationString(t *testing.T) {
	v := Violation{Guarantee: GEnds, At: 1500 * time.Millisecond, Line: "1.5 c1 fail", Detail: "x", Replay: ReplayCommand("a b.toml", 3, true)}
	s := v.String()
	for _, want := range []string{"G2 request-ends at 1.500000000s", "trace: 1.5 c1 fail", "replay: go run ./cmd/ebsim run 'a b.toml' --seed 3 --swarm"} {
		if !strings.Contains(s, want) {
			t.Errorf("%q lacks %q", s, want)
		}
	}
}
