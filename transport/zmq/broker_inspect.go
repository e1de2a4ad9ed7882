package zmq

import "github.com/ebwrk/ebwrk/core"

// Inspect runs f on the broker's core, on the loop's goroutine while Run serves (so
// f sees the core between two messages, together with whatever OnEvent feeds on that
// goroutine), else at once; it returns when f has. f must be quick and must not keep
// the core. Metrics use it to copy their counts off the loop.
func (b *Broker) Inspect(f func(*core.Broker)) { b.query(f) }

// Undeliverable returns how many messages ZeroMQ refused to route, without a trip
// to the loop.
func (b *Broker) Undeliverable() uint64 { return b.undeliv.Load() }
