package core

import "time"

// The hold limit (BrokerConfig.HoldLimit): a busy worker that still holds its request
// HoldLimit after the dispatch is treated as dead, even while it heartbeats. The
// broker keeps the earliest held-until of all busy workers in holdAt, so that
// NextDeadline can wake the driver for it; holdAt is exact, not a lower bound, so
// scripts and drivers see no spurious deadlines.

// release marks w idle-bound: it no longer holds a request. When w held the earliest
// deadline, holdAt is recomputed.
func (b *Broker) release(w *worker) {
	w.holding = nil
	if b.cfg.HoldLimit <= 0 {
		return
	}
	if w.heldTo.Equal(b.holdAt) {
		b.holdAt = b.earliestHold()
	}
	w.heldTo = time.Time{}
}

// earliestHold returns the earliest held-until among busy workers, zero when none.
func (b *Broker) earliestHold() time.Time {
	var t time.Time
	for _, w := range b.order {
		if w.holding != nil && (t.IsZero() || w.heldTo.Before(t)) {
			t = w.heldTo
		}
	}
	return t
}

// expireHolds removes every busy worker whose held-until is at or before now: it gets
// DISCONNECT, and its request is requeued or failed per OnWorkerDeath (in forget).
func (b *Broker) expireHolds(now time.Time) {
	if b.holdAt.IsZero() || now.Before(b.holdAt) {
		return
	}
	var late []*worker
	for _, w := range b.order {
		if w.holding != nil && !w.heldTo.After(now) {
			late = append(late, w)
		}
	}
	for _, w := range late {
		// A requeue earlier in this loop dispatches only to idle workers, so every
		// late worker is still registered and busy here.
		b.sendDisconnect(w.peer)
		b.removeWorker(now, w, HeldTooLong)
	}
	b.holdAt = b.earliestHold()
}
