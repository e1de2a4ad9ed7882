package zmq

import (
	"context"
	"fmt"
	"time"
	"unsafe"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// readBatch is how many messages the loop takes from one socket before it turns to
// the other, so that neither socket starves the other.
const readBatch = 64

// loop is the driver loop of the package doc: wait for input on the sockets until the
// next deadline, feed what arrived to the core, advance it, carry out its outputs. It
// returns when ctx ends or a socket fails.
func (b *Broker) loop(ctx context.Context) error {
	stop := context.AfterFunc(ctx, b.waiter.kick)
	defer stop()
	for ctx.Err() == nil {
		if err := b.waiter.wait(b.core.NextDeadline(), b.drain); err != nil {
			return err
		}
		now := time.Now()
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

// drain receives on every socket until each answered EAGAIN with no send on it since
// (see sockWaiter): a send may consume the signal of input that then waits unseen.
func (b *Broker) drain() error {
	b.dirty = [2]bool{true, b.back != nil}
	for b.dirty[core.Frontend] || b.dirty[core.Backend] {
		if b.dirty[core.Frontend] {
			if err := b.readAll(b.front, core.Frontend); err != nil {
				return err
			}
		}
		if b.dirty[core.Backend] {
			if err := b.readAll(b.back, core.Backend); err != nil {
				return err
			}
		}
	}
	return nil
}

// readAll feeds the core up to readBatch messages waiting on s, carrying out the
// outputs of each before the next. The socket is clean once it answers EAGAIN.
func (b *Broker) readAll(s *zmq4.Socket, from core.Socket) error {
	for range readBatch {
		id, frames, err := b.scratch.recvRouted(s, false)
		if err != nil {
			if isAgain(err) {
				b.dirty[from] = false
				return nil
			}
			if isInterrupted(err) {
				return nil
			}
			return fmt.Errorf("zmq: broker receive: %w", err)
		}
		now := time.Now()
		b.core.Receive(now, core.Peer{Socket: from, ID: b.ids.get(id)}, frames)
		b.flush(now)
	}
	return nil
}

// flush carries out the core's outputs until it has none: sends in order, events to
// the log. A send ZeroMQ refuses is counted, reported and passed to Unreachable,
// whose own outputs (a requeued request dispatched elsewhere) follow.
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
				s, on := b.front, core.Frontend
				if o.To.Socket == core.Backend && b.back != nil {
					s, on = b.back, core.Backend
				}
				b.dirty[on] = true
				if err := sendRouted(s, idBytes(o.To.ID), o.Frames); err != nil {
					b.undeliv.Add(1)
					b.log.undeliverable(now, o, err)
					b.core.Unreachable(now, o.To)
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
