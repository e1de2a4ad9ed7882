package wirekit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// The frames of RFC 7, as the cases write them.
const (
	empty      = ""
	mdpc       = "MDPC01"
	mdpw       = "MDPW01"
	ready      = "\x01"
	request    = "\x02"
	reply      = "\x03"
	heartbeat  = "\x04"
	disconnect = "\x05"
)

// stop is what T.Fatalf and T.Skipf panic with; Run recovers it.
type stop struct{}

// T is a running case: its peers, its deadline and its verdict. A case's script
// calls only T's and Peer's methods, from one goroutine.
type T struct {
	ctx      context.Context
	deadline time.Time
	S        Settings
	front    string
	back     string
	rc       *zmq.RawContext
	tag      string
	peers    []*Peer
	failed   bool
	skipped  bool
	detail   string
	seen     []string
}

// Fatalf fails the case with what was seen and ends its script.
func (t *T) Fatalf(format string, args ...any) {
	t.failed = true
	t.detail = fmt.Sprintf(format, args...)
	panic(stop{})
}

// Skipf skips the case and ends its script.
func (t *T) Skipf(format string, args ...any) {
	t.skipped = true
	t.detail = fmt.Sprintf(format, args...)
	panic(stop{})
}

// Seen records what a passing case observed, for its report line.
func (t *T) Seen(format string, args ...any) { t.seen = append(t.seen, fmt.Sprintf(format, args...)) }

// Svc returns a service name unique to this run of the case, so that cases running
// at once, and leftovers of earlier ones, never meet in the broker.
func (t *T) Svc(name string) string { return name + "." + t.tag }

// Beat is the broker's heartbeat interval.
func (t *T) Beat() time.Duration { return t.S.Heartbeat }

// Soon is how long the case waits for what must come at once: five intervals, and
// at least two seconds.
func (t *T) Soon() time.Duration { return max(5*t.S.Heartbeat, 2*time.Second) }

// Quiet is how long the case waits to see that nothing comes: two intervals, and at
// least 300 ms.
func (t *T) Quiet() time.Duration { return max(2*t.S.Heartbeat, 300*time.Millisecond) }

// Queued is how long a case leaves a request in the broker's queue to see that
// it waits: Quiet, but at most half the queue expiry, so that it does not expire.
func (t *T) Queued() time.Duration {
	if t.S.QueueExpiry > 0 {
		return min(t.Quiet(), t.S.QueueExpiry/2)
	}
	return t.Quiet()
}

// Slack is the tolerance of a timed bound on a wall-clock broker: Settings.Tolerance,
// or half an interval and at least 100 ms.
func (t *T) Slack() time.Duration {
	if t.S.Tolerance > 0 {
		return t.S.Tolerance
	}
	return max(t.S.Heartbeat/2, 100*time.Millisecond)
}

// PurgeBound is RFC 7's bound for a silent worker: liveness × interval, plus one
// interval for the broker's tick, plus Slack.
func (t *T) PurgeBound() time.Duration {
	return time.Duration(t.S.Liveness+1)*t.S.Heartbeat + t.Slack()
}

// check ends the script when the case's time is up or the run cancelled it.
func (t *T) check() {
	if err := context.Cause(t.ctx); err != nil {
		t.Fatalf("%v", err)
	}
	if time.Now().After(t.deadline) {
		t.Fatalf("no answer: the case passed its bound")
	}
}

// Wait lets d pass (a worker falling silent, a heartbeat coming due), never past
// the case's deadline.
func (t *T) Wait(d time.Duration) {
	end := time.Now().Add(d)
	for {
		t.check()
		t.tickAlive()
		left := time.Until(end)
		if left <= 0 {
			return
		}
		timer := time.NewTimer(min(left, 25*time.Millisecond))
		select {
		case <-timer.C:
		case <-t.ctx.Done():
			timer.Stop()
		}
	}
}

// Dial opens a raw peer on the frontend (front) or the backend.
func (t *T) Dial(front bool, kind zmq.RawKind) *Peer {
	ep := t.back
	if front {
		ep = t.front
	}
	s, err := t.rc.Dial(ep, kind)
	if err != nil {
		t.Fatalf("dial %s: %v", ep, err)
	}
	p := &Peer{t: t, s: s, Name: "p" + strconv.Itoa(len(t.peers)+1), req: kind == zmq.RawREQ}
	t.peers = append(t.peers, p)
	return p
}

// Raw opens a DEALER on the backend that has sent nothing yet.
func (t *T) Raw() *Peer { return t.Dial(false, zmq.RawDealer) }

// Client opens a DEALER client on the frontend.
func (t *T) Client() *Peer { return t.Dial(true, zmq.RawDealer) }

// Worker opens a DEALER worker on the backend and sends READY for service.
func (t *T) Worker(service string) *Peer {
	p := t.Dial(false, zmq.RawDealer)
	p.Send(empty, mdpw, ready, service)
	p.worker = true
	return p
}

// close ends every peer; a worker that may still be registered says DISCONNECT
// first, so that it leaves nothing behind in the broker.
func (t *T) close() {
	for _, p := range t.peers {
		if p.worker {
			_ = p.s.Send(strFrames([]string{empty, mdpw, disconnect}))
		}
		_ = p.s.Close()
	}
	t.peers = nil
}

// Peer is a raw peer: a plain DEALER (or REQ) that sends the frames a case writes.
type Peer struct {
	t      *T
	s      *zmq.RawSocket
	Name   string
	req    bool
	worker bool // sent READY and no DISCONNECT: close says DISCONNECT
	alive  bool // KeepAlive: beats every half interval while the case waits
	beat   time.Time
}

// KeepAlive makes the worker p send a HEARTBEAT every half interval whenever the
// case waits on any peer, so that it is never silent long enough to be purged
// while the case watches something else.
func (p *Peer) KeepAlive() *Peer {
	p.alive = true
	return p
}

// tickAlive beats the KeepAlive workers that are due.
func (t *T) tickAlive() {
	for _, p := range t.peers {
		if p.alive && p.worker && time.Since(p.beat) >= t.S.Heartbeat/2 {
			p.Beat()
		}
	}
}

// Send sends frames given as strings.
func (p *Peer) Send(frames ...string) { p.SendFrames(strFrames(frames)) }

// SendFrames sends frames as they are.
func (p *Peer) SendFrames(frames [][]byte) {
	if err := p.s.Send(frames); err != nil {
		p.t.Fatalf("%s: send %s: %v", p.Name, Show(frames), err)
	}
	if len(frames) == 3 && string(frames[1]) == mdpw && string(frames[2]) == disconnect {
		p.worker = false
	}
}

// Beat sends a worker HEARTBEAT.
func (p *Peer) Beat() {
	p.Send(empty, mdpw, heartbeat)
	p.beat = time.Now()
}

// Recv returns the next message within d (HEARTBEATs included), or nil.
func (p *Peer) Recv(d time.Duration) [][]byte {
	end := time.Now().Add(d)
	for {
		p.t.check()
		p.t.tickAlive()
		left := time.Until(end)
		m, err := p.s.Recv(max(0, min(left, 25*time.Millisecond)))
		if err == nil {
			return m
		}
		if !errors.Is(err, zmq.ErrNoMessage) {
			p.t.Fatalf("%s: recv: %v", p.Name, err)
		}
		if left <= 0 {
			return nil
		}
	}
}

// next returns the next message within d that is not a HEARTBEAT, or nil.
func (p *Peer) next(d time.Duration) [][]byte {
	end := time.Now().Add(d)
	for {
		m := p.Recv(time.Until(end))
		if m == nil || !IsHeartbeat(m) {
			return m
		}
	}
}

// Expect waits at most d for the next message other than a HEARTBEAT and checks it
// against want ("*" matches any frame); what says what it is, for the report.
func (p *Peer) Expect(what string, d time.Duration, want ...string) [][]byte {
	m := p.next(d)
	if m == nil {
		p.t.Fatalf("%s: nothing within %v, want %s", what, d, showWant(want))
	}
	if !Match(m, want) {
		p.t.Fatalf("%s: got %s, want %s", what, Show(m), showWant(want))
	}
	return m
}

// ExpectBeating is Expect for a worker that stays alive meanwhile: it sends a
// HEARTBEAT every half interval.
func (p *Peer) ExpectBeating(what string, d time.Duration, want ...string) [][]byte {
	end := time.Now().Add(d)
	for {
		p.Beat()
		left := time.Until(end)
		if left <= 0 {
			p.t.Fatalf("%s: nothing within %v, want %s", what, d, showWant(want))
		}
		if m := p.next(min(left, p.t.S.Heartbeat/2)); m != nil {
			if !Match(m, want) {
				p.t.Fatalf("%s: got %s, want %s", what, Show(m), showWant(want))
			}
			return m
		}
	}
}

// ExpectNothing checks that nothing but HEARTBEATs (with strict, nothing at all)
// arrives for d.
func (p *Peer) ExpectNothing(what string, d time.Duration, strict bool) {
	end := time.Now().Add(d)
	for {
		m := p.Recv(time.Until(end))
		if m == nil {
			return
		}
		if strict || !IsHeartbeat(m) {
			p.t.Fatalf("%s: got %s, want nothing for %v", what, Show(m), d)
		}
	}
}

// Drain discards whatever arrives within d.
func (p *Peer) Drain(d time.Duration) {
	for p.Recv(d) != nil {
	}
}

// Serve answers one REQUEST that arrives within d with body, keeping the worker
// alive meanwhile, and returns the REQUEST.
func (p *Peer) Serve(what string, d time.Duration, want []string, body ...string) [][]byte {
	m := p.ExpectBeating(what, d, append([]string{empty, mdpw, request, "*", empty}, want...)...)
	p.Send(append([]string{empty, mdpw, reply, string(m[3]), empty}, body...)...)
	return m
}

// IsHeartbeat reports whether m is a worker-protocol HEARTBEAT.
func IsHeartbeat(m [][]byte) bool {
	return len(m) == 3 && len(m[0]) == 0 && string(m[1]) == mdpw && string(m[2]) == heartbeat
}

// Match reports whether m has the frames of want, where "*" matches any frame.
func Match(m [][]byte, want []string) bool {
	if len(m) != len(want) {
		return false
	}
	for i, w := range want {
		if w != "*" && string(m[i]) != w {
			return false
		}
	}
	return true
}

// Show prints frames briefly: at most eight, each cut at 24 bytes.
func Show(m [][]byte) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range m {
		if i == 8 {
			fmt.Fprintf(&b, " … %d frames in all", len(m))
			break
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		if len(f) > 24 {
			fmt.Fprintf(&b, "%q…(%d bytes)", f[:24], len(f))
		} else {
			fmt.Fprintf(&b, "%q", f)
		}
	}
	b.WriteByte(']')
	return b.String()
}

func showWant(want []string) string { return Show(strFrames(want)) }

func strFrames(frames []string) [][]byte {
	out := make([][]byte, len(frames))
	for i, f := range frames {
		out[i] = []byte(f)
	}
	return out
}
