package core

import "time"

// The hold limit (BrokerConfig.HoldLimit): a worker that still holds a request
// HoldLimit after its dispatch is treated as dead, even while it heartbeats. Each held
// request has its own limit (a credit worker holds several). The broker keeps the
// earliest held-until of all held requests in holdAt, so that NextDeadline can wake
// the driver for it; holdAt is exact, not a lower bound, so scripts and drivers see no
// spurious deadlines.

// release takes the i-th held request off w. When it had the earliest deadline, holdAt
// is recomputed.
func (b *Broker) release(w *worker, i int) {
	to := w.held[i].heldTo
	w.held = append(w.held[:i:i], w.held[i+1:]...)
	if b.cfg.HoldLimit > 0 && to.Equal(b.holdAt) {
		b.holdAt = b.earliestHold()
	}
}

// releaseAll takes every held request off w.
func (b *Broker) releaseAll(w *worker) {
	w.held = nil
	if b.cfg.HoldLimit > 0 {
		b.holdAt = b.earliestHold()
	}
}

// earliestHold returns the earliest held-until among held requests, zero when none.
func (b *Broker) earliestHold() time.Time {
	var t time.Time
	for _, w := range b.order {
		for _, h := range w.held {
			if t.IsZero() || h.heldTo.Before(t) {
				t = h.heldTo
			}
		}
	}
	return t
}

// heldUntil returns the earliest held-until of the requests w holds, zero when none.
func (w *worker) heldUntil() time.Time {
	var t time.Time
	for _, h := range w.held {
		if t.IsZero() || h.heldTo.Before(t) {
			t = h.heldTo
		}
	}
	return t
}

// expireHolds removes every worker holding a request whose held-until is at or before
// now: it gets DISCONNECT, and every request it holds is requeued or failed per
// OnWorkerDeath (in forget).
func (b *Broker) expireHolds(now time.Time) {
	if b.holdAt.IsZero() || now.Before(b.holdAt) {
		return
	}
	var late []*worker
	for _, w := range b.order {
		if len(w.held) > 0 && !w.heldUntil().After(now) {
			late = append(late, w)
		}
	}
	for _, w := range late {
		// A late credit worker may have credit left: off the waiting list with it
		// first, so that no requeue below dispatches to a worker about to go.
		s := w.service
		for i, x := range s.waiting {
			if x == w {
				s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
				break
			}
		}
	}
	for _, w := range late {
		b.sendDisconnect(w.peer)
		b.removeWorker(now, w, HeldTooLong)
	}
	b.holdAt = b.earliestHold()
}
