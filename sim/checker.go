package sim

import (
	"bytes"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// The guarantees of DESIGN.md as the checker names them. doc.go says what each check
// means under which faults.
const (
	GReply     = "G1 reply-matches-request"
	GEnds      = "G2 request-ends"
	GDispatch  = "G3 dispatch-to-live-idle-worker"
	GPurge     = "G4 dead-worker-purged"
	GHeld      = "G5 held-request-not-lost"
	GMMI       = "G6 mmi-matches-registry"
	GMalformed = "G7 malformed-input-harmless"
	GExact     = "G8 exact-latency"
	GNoPanic   = "G7 no-panic"
	GHoldLimit = "E3 hold-limit"
)

// Guarantees lists the checks, in order.
var Guarantees = []string{GReply, GEnds, GDispatch, GPurge, GHeld, GMMI, GMalformed, GNoPanic, GExact, GHoldLimit}

// endTolerance is the slack of guarantee 2's bound timeout × attempts.
const endTolerance = time.Millisecond

// workerModel is the checker's view of one worker registered at the broker, built
// from the broker's events and what the broker received.
type workerModel struct {
	peer         core.Peer
	service      string
	lastHeard    time.Duration // broker-local time of its last sign of life
	credit       int           // requests it may hold at once, from its READY
	held         []heldModel   // what it holds, in dispatch order
	disconnected bool          // the broker sent it DISCONNECT
	gone         bool          // removed
	flagged      bool          // guarantee 4 already reported
	heldFlagged  bool          // the hold limit already reported
}

// heldModel is a request a worker holds.
type heldModel struct {
	seq   uint64        // its sequence number (the client is not on the event)
	since time.Duration // broker-local time of its dispatch
}

// checker evaluates the guarantees online. It only reads what the driver shows it.
type checker struct {
	r          *run
	workers    []workerModel
	byPeer     map[core.Peer]int
	registered map[string]int // live registered workers per service
	bound      time.Duration  // liveness × interval + interval, broker-local
	removed    []uint64       // held requests of workers removed in this broker step
	credit     int            // the credit of the READY in this broker step
	redone     []uint64       // requests requeued or failed for a dead worker in this step
	period     time.Duration
	deadline   time.Duration // a request must end within this, client-local
	latency    time.Duration
	scanFire   func()
	violations []Violation
}

func (k *checker) init(r *run) {
	k.r = r
	hb := r.sc.Broker.Heartbeat
	if hb <= 0 {
		hb = core.DefaultHeartbeatInterval
	}
	live := r.sc.Broker.Liveness
	if live <= 0 {
		live = core.DefaultLiveness
	}
	k.bound = time.Duration(live)*hb + hb
	k.period = hb / 4
	k.deadline = r.sc.Clients.Timeout*time.Duration(r.sc.Clients.Attempts) + endTolerance
	k.latency = r.sc.Network.Latency
	k.scanFire = func() { k.scan() }
	k.reset()
}

func (k *checker) reset() {
	k.workers = k.workers[:0]
	k.byPeer = map[core.Peer]int{}
	k.registered = map[string]int{}
	k.removed, k.redone = k.removed[:0], k.redone[:0]
}

func (k *checker) begin() { k.r.clock.After(k.period, k.scanFire) }

func (k *checker) brokerUp()   { k.reset() }
func (k *checker) brokerDown() { k.reset() }

func (k *checker) brokerNow() time.Duration {
	b := k.r.broker
	return time.Duration(b.clk.local(int64(k.r.now())))
}

// brokerInput notes a sign of life: RFC 7, any worker command but DISCONNECT.
func (k *checker) brokerInput(now time.Time, p core.Peer, frames [][]byte) {
	if len(frames) < 3 || len(frames[0]) != 0 || string(frames[1]) != core.WorkerHeader ||
		len(frames[2]) != 1 || core.Command(frames[2][0]) == core.Disconnect {
		return
	}
	if i, ok := k.byPeer[p]; ok {
		k.workers[i].lastHeard = now.Sub(Epoch)
	}
	if core.Command(frames[2][0]) == core.Ready {
		k.credit = 1
		if m, err := core.Parse(frames); err == nil {
			k.credit = max(m.Credit, 1)
		}
	}
}

func (k *checker) model(p core.Peer) *workerModel {
	if i, ok := k.byPeer[p]; ok {
		return &k.workers[i]
	}
	return nil
}

// brokerEvent follows the broker's events and checks guarantee 3.
func (k *checker) brokerEvent(o *core.Output) {
	r := k.r
	switch o.Event {
	case core.WorkerJoined:
		if w := k.model(o.Peer); w != nil && !w.gone {
			r.violate(GDispatch, "a worker joined twice without being removed", r.traceLine(brokerIdx, o))
			return
		}
		k.byPeer[o.Peer] = len(k.workers)
		k.workers = append(k.workers, workerModel{peer: o.Peer, service: o.Service, lastHeard: k.brokerNow(), credit: max(k.credit, 1)})
		k.registered[o.Service]++
	case core.WorkerRemoved:
		w := k.model(o.Peer)
		if w == nil || w.gone {
			return
		}
		w.gone = true
		k.registered[w.service]--
		delete(k.byPeer, o.Peer)
		for _, h := range w.held {
			k.removed = append(k.removed, h.seq)
		}
	case core.RequestDispatched:
		w := k.model(o.Peer)
		now := k.brokerNow()
		switch {
		case w == nil:
			r.violate(GDispatch, "request dispatched to "+o.Peer.String()+", which is not a registered worker", r.traceLine(brokerIdx, o))
		case w.disconnected:
			r.violate(GDispatch, "request dispatched to "+o.Peer.String()+" after the broker sent it DISCONNECT", r.traceLine(brokerIdx, o))
		case len(w.held) >= w.credit:
			r.violate(GDispatch, "request dispatched to "+o.Peer.String()+" beyond its credit "+strconv.Itoa(w.credit)+": it holds "+w.heldString(), r.traceLine(brokerIdx, o))
		case now-w.lastHeard > k.bound:
			r.violate(GDispatch, "request dispatched to "+o.Peer.String()+", silent for "+(now-w.lastHeard).String()+" (expired after "+k.bound.String()+")", r.traceLine(brokerIdx, o))
		}
		if w != nil {
			w.held = append(w.held, heldModel{seq: o.Seq, since: now})
		}
	case core.RequestAnswered:
		if w := k.model(r.broker.in); w != nil {
			// The earliest dispatch with that sequence: two clients' requests with the
			// same number may be held at once, and taking the earliest never makes the
			// hold-limit check see a request as older than it is.
			if i := slices.IndexFunc(w.held, func(h heldModel) bool { return h.seq == o.Seq }); i >= 0 {
				w.held = slices.Delete(w.held, i, i+1)
			}
		}
	case core.RequestRequeued:
		k.redone = append(k.redone, o.Seq)
	case core.RequestFailed:
		if o.Reason == core.WorkerDied {
			k.redone = append(k.redone, o.Seq)
		}
	case core.RequestQueued:
		if c := k.client(o.Peer.ID); c != nil {
			if rq := c.req(o.Seq); rq != nil {
				rq.queued = true
			}
		}
	}
}

// client returns the client node of a connection identity "c<n>.<k>".
func (k *checker) client(id string) *clientNode {
	dot := strings.IndexByte(id, '.')
	if dot < 2 || id[0] != 'c' {
		return nil
	}
	n, err := strconv.Atoi(id[1:dot])
	if err != nil || n < 1 || n > len(k.r.clients) {
		return nil
	}
	return k.r.clients[n-1]
}

// brokerSend checks guarantee 6 on mmi. replies and notes DISCONNECTs.
func (k *checker) brokerSend(o *core.Output) {
	if o.Protocol == core.WorkerProtocol {
		if o.Command == core.Disconnect {
			if w := k.model(o.To); w != nil {
				w.disconnected = true
			}
		}
		return
	}
	svc := 2
	if len(o.Frames) > 0 && len(o.Frames[0]) != 0 {
		svc = 3 // after the ebwrk envelope
	}
	if len(o.Frames) <= svc || !bytes.HasPrefix(o.Frames[svc], []byte("mmi.")) {
		return
	}
	m, err := core.Parse(o.Frames)
	if err != nil {
		k.r.violate(GReply, "the broker sent a malformed reply: "+err.Error(), k.r.traceLine(brokerIdx, o))
		return
	}
	if m.Status != core.StatusOK {
		return
	}
	c := k.client(o.To.ID)
	if c == nil {
		return
	}
	rq := c.req(m.Seq)
	if rq == nil || rq.mmiName == "" {
		return
	}
	// Live: registered and not past its expiry. A worker past its expiry that the
	// broker has not purged yet (it purges once per interval) counts as dead; one
	// expiring at this very instant may go either way.
	live, edge := 0, 0
	if k.registered[rq.mmiName] > 0 {
		now := k.r.broker.localNow()
		for _, w := range k.r.broker.m.Workers() {
			if w.Service != rq.mmiName {
				continue
			}
			switch {
			case w.Expiry.After(now):
				live++
			case w.Expiry.Equal(now):
				edge++
			}
		}
	}
	got := ""
	if len(m.Body) == 1 {
		got = string(m.Body[0])
	}
	if (live > 0 && got != "200") || (live+edge == 0 && got != "404") || (got != "200" && got != "404") {
		k.r.violate(GMMI, "mmi.service "+rq.mmiName+" answered "+bodyString(m.Body)+", but the registry has "+
			strconv.Itoa(live)+" live workers ("+strconv.Itoa(k.registered[rq.mmiName])+" registered)", k.r.traceLine(brokerIdx, o))
	}
}

// brokerStepDone checks guarantee 5 at the end of each broker step: each request a
// removed worker held was requeued or failed in the same step.
func (k *checker) brokerStepDone() {
	if len(k.removed) == 0 {
		k.redone = k.redone[:0]
		return
	}
	for _, s := range k.removed {
		found := false
		for i, t := range k.redone {
			if t == s {
				k.redone = append(k.redone[:i], k.redone[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			k.r.violate(GHeld, "a removed worker held seq="+strconv.FormatUint(s, 10)+", which was neither requeued nor failed",
				formatTime(k.r.now())+" broker")
		}
	}
	k.removed, k.redone = k.removed[:0], k.redone[:0]
}

// workerHandles notes the service time drawn for a request, for guarantee 8.
func (k *checker) workerHandles(body [][]byte, s time.Duration) {
	if len(body) != 1 {
		return
	}
	n, seq, ok := parseBody(body[0])
	if !ok || n < 1 || n > len(k.r.clients) {
		return
	}
	if rq := k.r.clients[n-1].req(seq); rq != nil {
		rq.svcTime = s
	}
}

// clientEnded checks guarantees 1, 2 and 8 when a request gets its reply or fails.
func (k *checker) clientEnded(c *clientNode, rq *request, o *core.Output, ok bool, lat time.Duration) {
	r := k.r
	elapsed := time.Duration(c.clk.local(int64(r.now()))) - rq.startL
	if ok {
		switch {
		case o.Service != "" && o.Service != rq.service:
			r.violate(GReply, "reply for service "+o.Service+" accepted for a request to "+rq.service, r.traceLine(c.idx, o))
		case rq.mmiName == "" && (len(o.Body) != 1 || !bytes.Equal(o.Body[0], rq.body)):
			r.violate(GReply, "accepted reply "+bodyString(o.Body)+" does not answer request "+strconv.Quote(string(rq.body)), r.traceLine(c.idx, o))
		case elapsed > k.deadline:
			r.violate(GEnds, "reply accepted "+elapsed.String()+" after the request, past timeout × attempts", r.traceLine(c.idx, o))
		}
	} else {
		att := r.sc.Clients.Attempts
		switch {
		case o.Reason == core.TimedOut && o.Attempts != att:
			r.violate(GEnds, "timed out after "+strconv.Itoa(o.Attempts)+" attempts, configured "+strconv.Itoa(att), r.traceLine(c.idx, o))
		case o.Attempts > att || o.Attempts < 1:
			r.violate(GEnds, "failed after "+strconv.Itoa(o.Attempts)+" attempts, configured "+strconv.Itoa(att), r.traceLine(c.idx, o))
		case elapsed > k.deadline:
			r.violate(GEnds, "failed "+elapsed.String()+" after the request, past timeout × attempts", r.traceLine(c.idx, o))
		}
	}
	if !r.exact || rq.queued || rq.attempts != 1 {
		return
	}
	want := 2 * k.latency // an mmi. lookup: the broker answers
	if rq.mmiName == "" {
		want = 4*k.latency + rq.svcTime
	}
	switch {
	case ok && lat != want:
		r.violate(GExact, "latency "+lat.String()+", want 4 × "+k.latency.String()+" + service "+rq.svcTime.String()+" = "+want.String(), r.traceLine(c.idx, o))
	case !ok && want < r.sc.Clients.Timeout && o.Reason != core.QueueFull && o.Reason != core.Expired:
		// A refusal for a full queue or an expiry means there was contention.
		r.violate(GExact, "request failed without faults or contention", r.traceLine(c.idx, o))
	}
}

// scan runs every period: guarantee 4 (dead workers purged in time) and guarantee 2
// (no request outlives timeout × attempts).
func (k *checker) scan() {
	r := k.r
	if r.done {
		return
	}
	if r.broker.isUp {
		now := k.brokerNow()
		for i := range k.workers {
			w := &k.workers[i]
			if w.gone || w.flagged || now-w.lastHeard <= k.bound {
				continue
			}
			w.flagged = true
			r.violate(GPurge, "worker "+w.peer.String()+" silent for "+(now-w.lastHeard).String()+", still registered (bound "+k.bound.String()+")",
				formatTime(r.now())+" broker")
		}
		k.scanHolds(now)
	}
	for _, c := range r.clients {
		if len(c.open) == 0 {
			continue
		}
		now := time.Duration(c.clk.local(int64(r.now())))
		for _, seq := range append([]uint64(nil), c.open...) {
			rq := c.req(seq)
			if now-rq.startL <= k.deadline {
				continue
			}
			r.violate(GEnds, "request seq="+strconv.FormatUint(seq, 10)+" of "+c.name+" open for "+(now-rq.startL).String()+
				", past timeout × attempts", formatTime(r.now())+" "+c.name)
			c.hang(seq)
		}
	}
	if !r.done {
		r.clock.After(k.period, k.scanFire)
	}
}

// holdTolerance is the slack of the hold-limit check: the broker removes a worker at
// the instant its limit passes, since its driver wakes at NextDeadline.
const holdTolerance = time.Millisecond

// scanHolds checks the hold limit, when the scenario sets one: no worker stays busy
// with one request longer than the limit (plus holdTolerance), heartbeats or not.
func (k *checker) scanHolds(now time.Duration) {
	limit := k.r.sc.Broker.HoldLimit
	if limit <= 0 {
		return
	}
	for i := range k.workers {
		w := &k.workers[i]
		if w.gone || len(w.held) == 0 || w.heldFlagged {
			continue
		}
		h := w.oldest()
		if now-h.since <= limit+holdTolerance {
			continue
		}
		w.heldFlagged = true
		k.r.violate(GHoldLimit, "worker "+w.peer.String()+" has held seq="+strconv.FormatUint(h.seq, 10)+" for "+
			(now-h.since).String()+", past the hold limit "+limit.String(), formatTime(k.r.now())+" broker")
	}
}

// stuckBusy counts the workers the broker still holds busy with a request dispatched
// longer ago than timeout × attempts: no client can accept that reply any more, so
// the worker is a phantom unless the broker frees it (the hold limit does).
func (k *checker) stuckBusy() uint64 {
	if !k.r.broker.isUp {
		return 0
	}
	now := k.brokerNow()
	var n uint64
	for i := range k.workers {
		w := &k.workers[i]
		if !w.gone && len(w.held) > 0 && now-w.oldest().since > k.deadline {
			n++
		}
	}
	return n
}

// bodyString quotes body frames for a message.
func bodyString(body [][]byte) string {
	var b strings.Builder
	b.WriteByte('[')
	for i, f := range body {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Quote(string(f)))
	}
	b.WriteByte(']')
	return b.String()
}

// oldest returns the request w has held longest; w holds at least one.
func (w *workerModel) oldest() heldModel {
	o := w.held[0]
	for _, h := range w.held[1:] {
		if h.since < o.since {
			o = h
		}
	}
	return o
}

// heldString lists the sequence numbers w holds.
func (w *workerModel) heldString() string {
	parts := make([]string, len(w.held))
	for i, h := range w.held {
		parts[i] = "seq=" + strconv.FormatUint(h.seq, 10)
	}
	return strings.Join(parts, ", ")
}
