package core

import "time"

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
	Busy    bool      // holds a request
	Expiry  time.Time // when it is removed unless it is heard from again
}

// ServiceInfo describes one service at an instant.
type ServiceInfo struct {
	Name    string
	Workers int // registered workers, idle or busy
	Idle    int // workers waiting for a request
	Queued  int // requests waiting for a worker
}

// Broker is the ebwrk broker as a pure state machine. See the package doc.
type Broker struct {
	cfg BrokerConfig
	out outputs
}

// NewBroker returns a broker with the given configuration (zero fields: defaults),
// started at now.
func NewBroker(cfg BrokerConfig, now time.Time) *Broker {
	return &Broker{cfg: cfg.withDefaults()}
}

// Receive takes one message from a peer: the frames after the ROUTER identity.
func (b *Broker) Receive(now time.Time, from Peer, frames [][]byte) {}

// Unreachable tells the broker that a message to p could not be delivered (the peer is
// gone or its queue is full). A worker is removed as if it had died.
func (b *Broker) Unreachable(now time.Time, p Peer) {}

// Advance lets time pass: heartbeats, expiry of silent workers and of queued requests.
func (b *Broker) Advance(now time.Time) {}

// NextDeadline returns when Advance must next be called.
func (b *Broker) NextDeadline() time.Time { return time.Time{} }

// Shutdown stops the broker: every queued and held request is failed (ebwrk clients get
// StatusShutdown) and every worker gets DISCONNECT.
func (b *Broker) Shutdown(now time.Time) {}

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (b *Broker) Drain() []Output { return b.out.drain() }

// Stats returns the broker's counters.
func (b *Broker) Stats() BrokerStats { return BrokerStats{} }

// Workers returns the registered workers in the order they joined.
func (b *Broker) Workers() []WorkerInfo { return nil }

// Services returns the services that exist, sorted by name.
func (b *Broker) Services() []ServiceInfo { return nil }
