package zmq

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	"github.com/ebwrk/ebwrk/core"
)

// maxBrokerWait caps the broker's blocking receive. Kicks end it at once; the cap
// only bounds the harm of a kick that could not be sent.
const maxBrokerWait = time.Second

// loop is the driver loop of the package doc: receive the next message (a blocking
// receive, whose timeout is the time to the core's next deadline), feed it to the
// core, advance the core when its deadline has come, carry out its outputs. Queries
// and the end of ctx wake it through the kicker. It returns when ctx ends or the
// socket fails.
func (b *Broker) loop(ctx context.Context) error {
	stop := context.AfterFunc(ctx, b.kicker.kick)
	defer stop()
	timeout := time.Duration(-2) // the RCVTIMEO set last; -2 is none
	for ctx.Err() == nil {
		if t := pollTimeout(b.core.NextDeadline(), time.Now(), maxBrokerWait); t != timeout {
			if err := b.sock.SetRcvtimeo(t); err != nil {
				return fmt.Errorf("zmq: broker set RCVTIMEO: %w", err)
			}
			timeout = t
		}
		id, frames, err := b.scratch.recvRouted(b.sock, true)
		now := time.Now()
		switch {
		case err == nil:
			if string(id) != b.kickID {
				b.core.ReceiveKey(now, core.Peer{Socket: core.Frontend, ID: b.ids.get(id)}, b.peerKey(), frames)
				b.flush(now)
			}
		case !isAgain(err) && !isInterrupted(err):
			// EAGAIN: the wait timed out; EINTR: a signal ended it early. Both go
			// round again with the timeout recomputed. Anything else breaks the
			// socket for good (ETERM, ENOTSOCK): Run ends with it.
			return fmt.Errorf("zmq: broker receive: %w", err)
		}
		if !now.Before(b.core.NextDeadline()) {
			b.core.Advance(now)
			b.flush(now)
		}
		if b.pending.Load() > 0 {
			b.mu.Lock()
			b.runQueriesLocked()
			b.mu.Unlock()
		}
	}
	return nil
}

// flush carries out the core's outputs until it has none: sends in order, events to
// the log. A send ZeroMQ refuses is counted and reported. Only a peer that is gone
// (EHOSTUNREACH) is passed to Unreachable, whose own outputs (a requeued request
// dispatched elsewhere) follow. A peer at its high-water mark (EAGAIN) is slow, not
// gone, and stays: the message is not retried, since the loop serves every peer and
// must not wait for one (see the package doc for what recovers it). EINTR never
// comes here: sendRouted retries it.
func (b *Broker) flush(now time.Time) {
	for {
		outs := b.core.Drain()
		if len(outs) == 0 {
			return
		}
		for i := range outs {
			o := &outs[i]
			switch o.Kind {
			case core.SendOutput:
				if err := b.out.sendRouted(b.sock, idBytes(o.To.ID), o.Frames); err != nil {
					b.undeliv.Add(1)
					if isAgain(err) {
						b.full.Add(1)
					}
					b.log.undeliverable(now, o, err)
					if isUnreachable(err) {
						b.core.Unreachable(now, o.To)
					}
				}
			case core.EventOutput:
				b.log.event(now, o)
			}
		}
	}
}

// idBytes returns the bytes of a ROUTER identity without copying them: ZeroMQ only
// reads them, copying them into its own message, before SendBytes returns.
func idBytes(id string) []byte {
	return unsafe.Slice(unsafe.StringData(id), len(id))
}

// maxIdentities bounds the identity cache; past it the cache starts over.
const maxIdentities = 1 << 16

// identities interns ROUTER identities, so that a peer's messages cost no string
// allocation for its Peer after the first and its queued requests share one string.
type identities struct{ m map[string]string }

func newIdentities() identities { return identities{m: make(map[string]string)} }

func (ids *identities) get(b []byte) string {
	if s, ok := ids.m[string(b)]; ok {
		return s
	}
	if len(ids.m) >= maxIdentities {
		clear(ids.m)
	}
	s := string(b)
	ids.m[s] = s
	return s
}
