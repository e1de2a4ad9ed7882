package core

import (
	"slices"
	"strings"
	"time"
)

// BrokerStats counts what a Broker did.
type BrokerStats struct {
	Requests       uint64             // client requests accepted (mmi. ones included)
	Dispatched     uint64             // REQUESTs sent to workers (a requeued request counts again)
	Answered       uint64             // worker replies passed to clients
	Requeued       uint64             // requests put back after their worker died
	MMI            uint64             // mmi. requests answered
	Failed         [NumReasons]uint64 // requests the broker failed, by reason
	Dropped        [NumReasons]uint64 // inputs refused, by reason
	WorkersJoined  uint64             // READYs accepted
	WorkersRemoved [NumReasons]uint64 // workers forgotten, by reason
}

// WorkerInfo describes one registered worker at an instant.
type WorkerInfo struct {
	Peer    Peer
	Service string
	Busy    bool      // holds at least one request
	Expiry  time.Time // when it is removed unless it is heard from again
	// HeldUntil is when a busy worker is removed for holding a request too long
	// (BrokerConfig.HoldLimit): the earliest limit of the requests it holds; zero when
	// idle or without a limit.
	HeldUntil time.Time
	// Credit is how many requests it may hold at once (1: a plain MDP worker).
	Credit int
	// Held is how many requests it holds.
	Held int
}

// ServiceInfo describes one service at an instant.
type ServiceInfo struct {
	Name    string
	Workers int // registered workers, idle or busy
	Idle    int // workers with credit left (for plain workers: idle ones)
	Queued  int // requests waiting for a worker
}

// Stats returns the broker's counters.
func (b *Broker) Stats() BrokerStats { return b.stats }

// Workers returns the registered workers in the order they joined.
func (b *Broker) Workers() []WorkerInfo {
	infos := make([]WorkerInfo, 0, len(b.order))
	for _, w := range b.order {
		infos = append(infos, WorkerInfo{Peer: w.peer, Service: w.service.name, Busy: len(w.held) > 0, Expiry: w.expiry,
			HeldUntil: w.heldUntil(), Credit: w.credit, Held: len(w.held)})
	}
	return infos
}

// Services returns the services that exist, sorted by name.
func (b *Broker) Services() []ServiceInfo {
	infos := make([]ServiceInfo, 0, len(b.svcOrder))
	for _, s := range b.svcOrder {
		infos = append(infos, ServiceInfo{Name: s.name, Workers: s.workers, Idle: len(s.waiting), Queued: s.queue.len()})
	}
	slices.SortFunc(infos, func(a, b ServiceInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos
}
