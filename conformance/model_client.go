package conformance

import (
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// endTolerance is the slack of guarantee 2's bound, timeout × attempts.
const endTolerance = time.Millisecond

// clientKey names a request: the client's name and its sequence number.
type clientKey struct {
	client string
	seq    uint64
}

// mClientReq is a request as its client made it.
type mClientReq struct {
	service  string
	body     [][]byte
	start    time.Time
	timeout  time.Duration
	attempts int
	ended    bool
	flagged  bool
}

// ClientRequest notes that client (a name the driver chooses) made request seq at now,
// with its configuration (zero fields: defaults). The body is not kept beyond what
// guarantee 1 compares.
func (k *Checker) ClientRequest(now time.Time, client string, cfg core.ClientConfig, seq uint64, service string, body [][]byte) {
	cfg = clientDefaults(cfg)
	key := clientKey{client, seq}
	if _, ok := k.clients[key]; ok {
		k.violate(now, G1ReplyMatches, "client %s reused sequence number %d", client, seq)
		return
	}
	b := make([][]byte, len(body))
	for i, f := range body {
		b[i] = append([]byte(nil), f...)
	}
	k.clients[key] = &mClientReq{service: service, body: b, start: now, timeout: cfg.Timeout, attempts: cfg.Attempts}
	k.open = append(k.open, key)
}

// clientDefaults fills cfg as core.NewClient does.
func clientDefaults(cfg core.ClientConfig) core.ClientConfig {
	if cfg.Timeout <= 0 {
		cfg.Timeout = core.DefaultTimeout
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = core.DefaultAttempts
	}
	return cfg
}

// end marks a request ended, or reports it when it cannot end (guarantee 1).
func (k *Checker) end(now time.Time, client string, seq uint64, what string) *mClientReq {
	r := k.clients[clientKey{client, seq}]
	switch {
	case r == nil:
		k.violate(now, G1ReplyMatches, "client %s %s seq=%d, a request it never made", client, what, seq)
		return nil
	case r.ended:
		k.violate(now, G1ReplyMatches, "client %s %s seq=%d, which had already ended", client, what, seq)
		return nil
	}
	r.ended = true
	return r
}

// Answerer names a worker whose application answers every request with the
// request's body followed by the worker's name: a reply whose last frame is such a
// name must start with the body of the request it is accepted for. Replies made by
// other peers (a hostile peer may register as a worker and answer anything) are
// judged on their sequence number and service only; the broker's side of guarantee 1
// (a reply reaches the client whose request the replying worker holds) covers them.
func (k *Checker) Answerer(name string) {
	if k.answerers == nil {
		k.answerers = map[string]bool{}
	}
	k.answerers[name] = true
}

// ClientDeliver notes that client accepted a reply for request seq (a DeliverOutput).
// mmi. replies are checked at the broker (guarantee 6).
func (k *Checker) ClientDeliver(now time.Time, client string, seq uint64, service string, body [][]byte) {
	r := k.end(now, client, seq, "accepted a reply to")
	if r == nil {
		return
	}
	elapsed := now.Sub(r.start)
	switch {
	case service != r.service:
		k.violate(now, G1ReplyMatches, "client %s accepted a reply for %s to its request seq=%d to %s", client, service, seq, r.service)
	case !strings.HasPrefix(r.service, "mmi.") && len(body) > 0 && k.answerers[string(body[len(body)-1])] && !answers(body, r.body):
		k.violate(now, G1ReplyMatches, "client %s accepted %q for seq=%d, which asked %q", client, body, seq, r.body)
	}
	if bound := r.timeout*time.Duration(r.attempts) + endTolerance; elapsed > bound {
		k.violate(now, G2RequestEnds, "client %s seq=%d answered after %v, past timeout × attempts %v", client, seq, elapsed, bound)
	}
}

func answers(reply, req [][]byte) bool {
	if len(reply) < len(req) {
		return false
	}
	for i := range req {
		if string(reply[i]) != string(req[i]) {
			return false
		}
	}
	return true
}

// ClientFail notes that client's request seq failed (a FailOutput).
func (k *Checker) ClientFail(now time.Time, client string, seq uint64, reason core.Reason, attempts int) {
	r := k.end(now, client, seq, "failed")
	if r == nil {
		return
	}
	elapsed := now.Sub(r.start)
	bound := r.timeout*time.Duration(r.attempts) + endTolerance
	switch {
	case reason == core.TimedOut && attempts != r.attempts:
		k.violate(now, G2RequestEnds, "client %s seq=%d timed out after %d attempts, configured %d", client, seq, attempts, r.attempts)
	case attempts < 1 || attempts > r.attempts:
		k.violate(now, G2RequestEnds, "client %s seq=%d failed (%v) after %d attempts, configured %d", client, seq, reason, attempts, r.attempts)
	case elapsed > bound:
		k.violate(now, G2RequestEnds, "client %s seq=%d failed after %v, past timeout × attempts %v", client, seq, elapsed, bound)
	}
}

// clientTimed reports requests open past their bound (guarantee 2).
func (k *Checker) clientTimed(now time.Time) {
	keep := k.open[:0]
	for _, key := range k.open {
		r := k.clients[key]
		if r.ended {
			continue
		}
		keep = append(keep, key)
		if bound := r.timeout*time.Duration(r.attempts) + endTolerance; !r.flagged && now.Sub(r.start) > bound {
			r.flagged = true
			k.violate(now, G2RequestEnds, "client %s seq=%d open for %v, past timeout × attempts %v", key.client, key.seq, now.Sub(r.start), bound)
		}
	}
	k.open = keep
}

// Finish ends the run at now: every request must have ended.
func (k *Checker) Finish(now time.Time) {
	k.Tick(now)
	for _, key := range k.open {
		if r := k.clients[key]; !r.ended && !r.flagged {
			r.flagged = true
			k.violate(now, G2RequestEnds, "client %s seq=%d never ended", key.client, key.seq)
		}
	}
}

// Outstanding returns how many client requests have not ended.
func (k *Checker) Outstanding() int {
	n := 0
	for _, key := range k.open {
		if !k.clients[key].ended {
			n++
		}
	}
	return n
}
