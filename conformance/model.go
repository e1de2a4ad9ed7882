package conformance

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// InputKind says what made a broker step happen.
type InputKind uint8

// The kinds of broker input. The first three are sim's (sim.InputKind), so that a
// sim.BrokerInput's kind converts to one of them as it is.
const (
	InputMessage     = InputKind(sim.InputMessage)         // Receive(now, Peer, Frames)
	InputAdvance     = InputKind(sim.InputAdvance)         // Advance(now)
	InputUnreachable = InputKind(sim.InputUnreachable)     // Unreachable(now, Peer)
	InputShutdown    = InputKind(sim.InputUnreachable + 1) // Shutdown(now): not a sim input
)

// Input is what a broker step was given.
type Input struct {
	Kind   InputKind
	Peer   core.Peer
	Frames [][]byte
}

// Checker evaluates the catalogue online. A driver feeds it every step of one
// core.Broker (BrokerStep, with the outputs the step drained and the registry after
// it) and the outcomes its clients see (ClientRequest, ClientDeliver, ClientFail);
// Tick checks the time bounds. It keeps a reference model of the broker built from
// the broker's own events and compares the two after every step. It reads no clock,
// keeps no frame it is given, and never panics on what it is fed.
type Checker struct {
	cfg    core.BrokerConfig // defaults filled in
	start  time.Time
	expiry time.Duration // liveness × interval
	bound  time.Duration // expiry + one interval: guarantee 4's purge bound

	violations []Violation
	limit      int // violations kept; more are counted only
	lost       int

	// The broker model.
	workers  []*mWorker // registered, in join order
	byPeer   map[core.Peer]*mWorker
	services map[string]*mService
	disc     map[core.Peer]bool // the broker sent DISCONNECT and the peer sent no READY since
	gone     map[core.Peer]bool // the peer sent DISCONNECT and no READY since
	prevW    []core.WorkerInfo
	prevS    []core.ServiceInfo
	accepted uint64 // client requests the current broker accepted (mmi. excluded)
	ended    uint64 // answered or failed

	step  stepState
	stepN uint64 // steps so far

	// The client model.
	answerers map[string]bool // workers whose replies echo the request's body
	clients   map[clientKey]*mClientReq
	open      []clientKey // requests without an outcome, in the order they were made
}

// mWorker is a registered worker as the model sees it.
type mWorker struct {
	peer      core.Peer
	service   string
	lastHeard time.Time // its last command but DISCONNECT
	lastSent  time.Time // the broker's last message to it (or its join)
	credit    int       // requests it may hold at once (READY's credit frame; 1 without)
	held      []mHeld   // what it holds, in dispatch order
	flagged   [3]bool   // guarantee 4, heartbeat cadence, hold limit: reported once
}

// mHeld is a request a worker holds.
type mHeld struct {
	r   *mRequest
	at  time.Time // when it was dispatched
	tag []byte    // a credit worker's tag: the address frame's last 8 bytes
}

// full reports whether w holds as many requests as its credit.
func (w *mWorker) full() bool { return len(w.held) >= w.credit }

// heldString lists what w holds.
func (w *mWorker) heldString() string {
	if len(w.held) == 0 {
		return "nothing"
	}
	parts := make([]string, len(w.held))
	for i, h := range w.held {
		parts[i] = h.r.String()
	}
	return strings.Join(parts, ", ")
}

// mService is a service as the model sees it.
type mService struct {
	name    string
	workers int
	idle    []*mWorker // with credit left, least recently used first
	queue   []*mRequest
}

// mRequest is a client request the broker accepted.
type mRequest struct {
	client   core.Peer
	seq      uint64
	envelope bool
	service  string
	body     string // the body frames, length-prefixed
	queuedAt time.Time
	flagged  bool   // queue expiry lateness reported
	requeued uint64 // the step that last requeued it (stepN)
	// requeuedFrom is the worker that lost it then.
	requeuedFrom core.Peer
}

// stepState is what one broker step leads the model to expect of its outputs.
type stepState struct {
	now       time.Time
	in        Input
	msg       core.Message
	parsed    bool
	fresh     *mRequest // the client request of this step, not yet placed
	placed    bool
	orphans   []orphan // lost by their workers: must be requeued or failed this step
	wantDisc  map[core.Peer]string
	wantGone  map[core.Peer]string // must be removed this step, by check
	mmiWant   [][]byte             // expected mmi. reply body; nil if none
	mmiSeen   bool
	sendReply *core.Message // the last client-protocol send, checked at its event
	replyTo   core.Peer
	dispatch  *core.Message // the last REQUEST sent, checked at RequestDispatched
	dispTo    core.Peer
}

// NewChecker returns a checker for a broker configured with cfg (zero fields:
// defaults) and started at start.
func NewChecker(cfg core.BrokerConfig, start time.Time) *Checker {
	cfg = withDefaults(cfg)
	e := time.Duration(cfg.Liveness) * cfg.HeartbeatInterval
	k := &Checker{
		cfg:     cfg,
		start:   start,
		expiry:  e,
		bound:   e + cfg.HeartbeatInterval,
		limit:   100,
		clients: map[clientKey]*mClientReq{},
	}
	k.resetBroker()
	return k
}

// withDefaults fills cfg as core.NewBroker does.
func withDefaults(cfg core.BrokerConfig) core.BrokerConfig {
	return core.NewBroker(cfg, time.Time{}).Config()
}

// resetBroker forgets the broker's state: a new broker starts empty.
func (k *Checker) resetBroker() {
	k.workers = nil
	k.byPeer = map[core.Peer]*mWorker{}
	k.services = map[string]*mService{}
	k.disc = map[core.Peer]bool{}
	k.gone = map[core.Peer]bool{}
	k.prevW, k.prevS = nil, nil
	k.accepted, k.ended = 0, 0
}

// BrokerRestarted tells the checker that the broker was replaced by a new, empty one
// (a crash and restart): the model starts over; the clients' requests stay open.
func (k *Checker) BrokerRestarted() { k.resetBroker() }

// Violations returns what broke so far.
func (k *Checker) Violations() []Violation { return k.violations }

// Failed reports whether any check broke.
func (k *Checker) Failed() bool { return len(k.violations) > 0 || k.lost > 0 }

// Report returns the violations, one per line, and how many more were not kept.
func (k *Checker) Report() string {
	s := Violations(k.violations)
	if k.lost > 0 {
		s += fmt.Sprintf("\n(%d more violations)", k.lost)
	}
	return s
}

func (k *Checker) violate(now time.Time, check, format string, args ...any) {
	if len(k.violations) >= k.limit {
		k.lost++
		return
	}
	k.violations = append(k.violations, Violation{Check: check, At: now.Sub(k.start), Detail: fmt.Sprintf(format, args...)})
}

// BrokerStep checks one step of the broker: the input it got, the outputs it drained
// after it, and its registry afterwards (Workers and Services).
func (k *Checker) BrokerStep(now time.Time, in Input, outs []core.Output, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	k.step = stepState{now: now, in: in}
	k.stepN++
	st := &k.step
	switch in.Kind {
	case InputMessage:
		m, err := core.Parse(in.Frames)
		if err != nil || (m.Protocol == core.ClientProtocol && m.Status != core.StatusOK) {
			k.invalid(now, in, outs, ws, ss)
			return
		}
		st.msg, st.parsed = m, true
		k.expectMessage(now, in.Peer, &m)
	case InputAdvance:
		// E3: every worker at or past its hold limit goes, with DISCONNECT.
		// A late credit worker may have credit left: it is no candidate for the
		// requeues of this step, which must not go to a worker about to go.
		for _, w := range k.workers {
			if k.holdExpired(now, w) {
				k.wantRemoved(w.peer, E3HoldLimit)
				k.wantDisconnect(w.peer, E3HoldLimit)
				s := k.service(w.service)
				s.idle = slices.DeleteFunc(s.idle, func(x *mWorker) bool { return x == w })
			}
		}
	case InputUnreachable:
		if w := k.byPeer[in.Peer]; w != nil {
			k.wantRemoved(in.Peer, L1Ledger)
		}
	case InputShutdown:
		for _, w := range k.workers {
			k.wantRemoved(w.peer, L1Ledger)
			k.wantDisconnect(w.peer, L1Ledger)
		}
	}
	for i := range outs {
		k.output(now, &outs[i])
	}
	k.endStep(now, ws, ss)
}

func (k *Checker) wantRemoved(p core.Peer, check string) {
	if k.step.wantGone == nil {
		k.step.wantGone = map[core.Peer]string{}
	}
	k.step.wantGone[p] = check
}

func (k *Checker) wantDisconnect(p core.Peer, check string) {
	if k.step.wantDisc == nil {
		k.step.wantDisc = map[core.Peer]string{}
	}
	k.step.wantDisc[p] = check
}

// invalid checks guarantee 7 for an input that does not parse: one dropped event,
// nothing sent, nothing changed.
func (k *Checker) invalid(now time.Time, in Input, outs []core.Output, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	if len(outs) != 1 || outs[0].Kind != core.EventOutput || outs[0].Event != core.InputDropped || outs[0].Reason != core.Malformed {
		k.violate(now, G7Malformed, "invalid input from %v gave %s, want one dropped (malformed) event", in.Peer, outputsString(outs))
	}
	if !slices.Equal(ws, k.prevW) || !slices.Equal(ss, k.prevS) {
		k.violate(now, G7Malformed, "invalid input from %v changed the registry: workers %v → %v, services %v → %v", in.Peer, k.prevW, ws, k.prevS, ss)
	}
	k.timed(now)
	k.prevW, k.prevS = slices.Clone(ws), slices.Clone(ss)
}

// expectMessage notes what the broker must do with a valid message.
func (k *Checker) expectMessage(now time.Time, p core.Peer, m *core.Message) {
	st := &k.step
	w := k.byPeer[p]
	if m.Protocol == core.ClientProtocol {
		if bytes.HasPrefix(m.Service, []byte("mmi.")) {
			st.mmiWant = k.mmiAnswer(now, m)
			return
		}
		k.accepted++
		st.fresh = &mRequest{client: p, seq: m.Seq, envelope: m.Envelope, service: string(m.Service), body: joinBody(m.Body)}
		return
	}
	if m.Command != core.Disconnect {
		// RFC 7: any command but DISCONNECT counts as a heartbeat. A peer that speaks
		// again after its DISCONNECT starts a new conversation (rule 5 may answer it).
		delete(k.gone, p)
		if w != nil {
			w.lastHeard = now
		}
	}
	switch m.Command {
	case core.Ready:
		switch {
		case w != nil:
			k.wantDisconnect(p, R7ReadyOnce)
			k.wantRemoved(p, R7ReadyOnce)
		case bytes.HasPrefix(m.Service, []byte("mmi.")):
			k.wantDisconnect(p, R8Reserved)
		default:
			delete(k.disc, p)
			delete(k.gone, p)
		}
	case core.Heartbeat, core.Reply:
		if w == nil {
			k.wantDisconnect(p, R7Unexpected)
		}
	case core.Disconnect:
		if w != nil {
			k.wantRemoved(p, R7Disconnect)
		}
		k.gone[p] = true
	default: // REQUEST from a worker
		k.wantDisconnect(p, R7Unexpected)
		if w != nil {
			k.wantRemoved(p, R7Unexpected)
		}
	}
}

// mmiAnswer returns the body the broker must answer an mmi. request with (RFC 8 and
// the ebwrkapi shorthand, as DESIGN.md states them).
func (k *Checker) mmiAnswer(now time.Time, m *core.Message) [][]byte {
	switch {
	case len(m.Body) == 0:
		name := m.Service[len("mmi."):]
		return [][]byte{name, k.lookup(now, string(name))}
	case string(m.Service) == "mmi.service":
		last := len(m.Body) - 1
		return append(slices.Clone(m.Body[:last]), k.lookup(now, string(m.Body[last])))
	}
	return [][]byte{[]byte("501")}
}

// lookup is the registry at now: "200" when a registered worker of name is not past
// its expiry.
func (k *Checker) lookup(now time.Time, name string) []byte {
	for _, w := range k.workers {
		if w.service == name && w.lastHeard.Add(k.expiry).After(now) {
			return []byte("200")
		}
	}
	return []byte("404")
}

// holdExpired reports whether w has held any request for the hold limit or longer.
func (k *Checker) holdExpired(now time.Time, w *mWorker) bool {
	return k.cfg.HoldLimit > 0 && len(w.held) > 0 && !k.heldUntil(w).After(now)
}

// heldUntil is what core.WorkerInfo.HeldUntil must say of w: the earliest hold limit
// of what it holds.
func (k *Checker) heldUntil(w *mWorker) time.Time {
	if k.cfg.HoldLimit <= 0 || len(w.held) == 0 {
		return time.Time{}
	}
	t := w.held[0].at
	for _, h := range w.held[1:] {
		if h.at.Before(t) {
			t = h.at
		}
	}
	return t.Add(k.cfg.HoldLimit)
}

// endStep checks what the step had to do and compares the registry with the model.
func (k *Checker) endStep(now time.Time, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	st := &k.step
	for _, x := range st.orphans {
		k.violate(now, G5HeldNotLost, "a removed worker held %s, which was neither requeued nor failed", x.r)
	}
	for p, check := range sortedPeers(st.wantDisc) {
		k.violate(now, check, "%v was not sent DISCONNECT after %s", p, inputString(st.in))
	}
	for p, check := range sortedPeers(st.wantGone) {
		k.violate(now, check, "%v is still registered after %s", p, inputString(st.in))
	}
	if st.mmiWant != nil && !st.mmiSeen {
		k.violate(now, R8Replies, "no reply to %s", inputString(st.in))
	}
	if st.fresh != nil && !st.placed {
		k.violate(now, L1Ledger, "request %s was neither dispatched, queued nor failed", st.fresh)
	}
	k.tidy(now)
	k.compare(now, ws, ss)
	k.timed(now)
	k.prevW, k.prevS = slices.Clone(ws), slices.Clone(ss)
}

// compare checks the broker's registry against the model.
func (k *Checker) compare(now time.Time, ws []core.WorkerInfo, ss []core.ServiceInfo) {
	want := make([]core.WorkerInfo, 0, len(k.workers))
	for _, w := range k.workers {
		want = append(want, core.WorkerInfo{Peer: w.peer, Service: w.service, Busy: len(w.held) > 0, Expiry: w.lastHeard.Add(k.expiry),
			HeldUntil: k.heldUntil(w), Credit: w.credit, Held: len(w.held)})
	}
	if !slices.Equal(want, ws) {
		check := L1Ledger
		switch {
		case len(want) == len(ws) && sameExcept(want, ws, func(w *core.WorkerInfo) { w.Expiry = time.Time{} }):
			check = R7AnyCommand // only an expiry differs: a sign of life was miscounted
		case len(want) == len(ws) && sameExcept(want, ws, func(w *core.WorkerInfo) { w.HeldUntil = time.Time{} }):
			check = E3HoldLimit // only a hold deadline differs
		}
		k.violate(now, check, "broker workers %s, model %s", workersString(ws), workersString(want))
	}
	var queued, held uint64
	wantS := make([]core.ServiceInfo, 0, len(k.services))
	for _, s := range k.services {
		wantS = append(wantS, core.ServiceInfo{Name: s.name, Workers: s.workers, Idle: len(s.idle), Queued: len(s.queue)})
		queued += uint64(len(s.queue))
	}
	slices.SortFunc(wantS, func(a, b core.ServiceInfo) int { return strings.Compare(a.Name, b.Name) })
	for _, s := range ss {
		if s.Workers == 0 && s.Queued == 0 {
			k.violate(now, L2Services, "service %q exists with no workers and no queued request", s.Name)
		}
	}
	if !slices.Equal(wantS, ss) {
		k.violate(now, L1Ledger, "broker services %v, model %v", ss, wantS)
	}
	for _, w := range k.workers {
		held += uint64(len(w.held))
	}
	if k.accepted != k.ended+queued+held {
		k.violate(now, L1Ledger, "%d requests accepted, but %d ended + %d queued + %d held", k.accepted, k.ended, queued, held)
	}
}

// sameExcept reports whether a and b are equal once clear has blanked a field of
// each element.
func sameExcept(a, b []core.WorkerInfo, clear func(*core.WorkerInfo)) bool {
	for i := range a {
		x, y := a[i], b[i]
		clear(&x)
		clear(&y)
		if x != y {
			return false
		}
	}
	return true
}

// timed checks the time bounds on the broker side: guarantee 4, the heartbeat
// cadence and queue expiry lateness.
func (k *Checker) timed(now time.Time) {
	iv := k.cfg.HeartbeatInterval
	for _, w := range k.workers {
		if !w.flagged[0] && now.Sub(w.lastHeard) > k.bound {
			w.flagged[0] = true
			k.violate(now, G4Purge, "worker %v silent for %v, still registered (bound %v)", w.peer, now.Sub(w.lastHeard), k.bound)
		}
		if !w.flagged[1] && now.Sub(w.lastSent) > iv {
			w.flagged[1] = true
			k.violate(now, R7BrokerHeartbeats, "worker %v (busy=%t) got nothing from the broker for %v (interval %v)", w.peer, len(w.held) > 0, now.Sub(w.lastSent), iv)
		}
		if !w.flagged[2] && k.cfg.HoldLimit > 0 && len(w.held) > 0 && now.Sub(k.heldUntil(w)) > holdTolerance {
			w.flagged[2] = true
			k.violate(now, E3HoldLimit, "worker %v has held %s since %v, past the hold limit %v", w.peer, w.heldString(), k.heldUntil(w).Add(-k.cfg.HoldLimit).Sub(k.start), k.cfg.HoldLimit)
		}
	}
	if k.cfg.QueueExpiry <= 0 {
		return
	}
	for _, s := range k.services {
		for _, r := range s.queue {
			if !r.flagged && now.Sub(r.queuedAt) > k.cfg.QueueExpiry+iv {
				r.flagged = true
				k.violate(now, L4Queue, "request %s queued for %v, past the expiry %v + one interval", r, now.Sub(r.queuedAt), k.cfg.QueueExpiry)
			}
		}
	}
}

// holdTolerance is the slack of E3's bound: the broker's driver wakes at NextDeadline,
// which includes the earliest hold limit, so the removal is due at that very instant.
const holdTolerance = time.Millisecond

// Tick checks the time bounds at now: a driver calls it whenever time has passed.
func (k *Checker) Tick(now time.Time) {
	k.timed(now)
	k.clientTimed(now)
}

func (r *mRequest) String() string {
	return fmt.Sprintf("%v seq=%d %s", r.client, r.seq, r.service)
}

// joinBody encodes frames as one string, each length-prefixed.
func joinBody(body [][]byte) string {
	var b strings.Builder
	for _, f := range body {
		fmt.Fprintf(&b, "%d:", len(f))
		b.Write(f)
	}
	return b.String()
}

func outputsString(outs []core.Output) string {
	parts := make([]string, len(outs))
	for i, o := range outs {
		parts[i] = o.String()
	}
	return "[" + strings.Join(parts, "; ") + "]"
}

func workersString(ws []core.WorkerInfo) string {
	parts := make([]string, len(ws))
	for i, w := range ws {
		parts[i] = fmt.Sprintf("%v %s busy=%t expiry=%s", w.Peer, w.Service, w.Busy, w.Expiry.Format("15:04:05.000"))
		if w.Credit > 1 {
			parts[i] += fmt.Sprintf(" credit=%d held=%d", w.Credit, w.Held)
		}
	}
	return "[" + strings.Join(parts, ", ") + "]"
}

func inputString(in Input) string {
	switch in.Kind {
	case InputMessage:
		return fmt.Sprintf("message from %v %q", in.Peer, in.Frames)
	case InputAdvance:
		return "advance"
	case InputUnreachable:
		return fmt.Sprintf("unreachable %v", in.Peer)
	case InputShutdown:
		return "shutdown"
	}
	return "input?"
}

// sortedPeers iterates a peer map in a stable order, so reports are deterministic.
func sortedPeers(m map[core.Peer]string) func(func(core.Peer, string) bool) {
	return func(yield func(core.Peer, string) bool) {
		keys := make([]core.Peer, 0, len(m))
		for p := range m {
			keys = append(keys, p)
		}
		slices.SortFunc(keys, func(a, b core.Peer) int {
			if a.Socket != b.Socket {
				return int(a.Socket) - int(b.Socket)
			}
			return strings.Compare(a.ID, b.ID)
		})
		for _, p := range keys {
			if !yield(p, m[p]) {
				return
			}
		}
	}
}
