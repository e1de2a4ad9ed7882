package sim

import (
	"fmt"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// Scenario is everything a run depends on except the seed: topology, workload,
// configuration and fault schedule. The TOML keys are given in the field tags and
// documented in SCENARIOS.md. Zero fields take the defaults listed there.
type Scenario struct {
	Name        string        `toml:"name"`
	Description string        `toml:"description"`
	Network     NetworkSpec   `toml:"network"`
	Broker      BrokerSpec    `toml:"broker"`
	Worker      WorkerSpec    `toml:"worker"`
	Services    []ServiceSpec `toml:"service"`
	Clients     ClientSpec    `toml:"clients"`
	Faults      Faults        `toml:"faults"`
	// Swarm draws a random fault profile from the seed on top of Faults (see Swarm).
	Swarm bool `toml:"swarm"`
}

// NetworkSpec is the modelled network: every message takes Latency plus a uniform
// draw from [0, Jitter).
type NetworkSpec struct {
	Latency time.Duration `toml:"latency"` // default 100µs
	Jitter  time.Duration `toml:"jitter"`  // default 0
}

// BrokerSpec configures the broker (core.BrokerConfig).
type BrokerSpec struct {
	Heartbeat     time.Duration `toml:"heartbeat"`       // default 1s
	Liveness      int           `toml:"liveness"`        // default 3
	QueueLimit    int           `toml:"queue_limit"`     // default 10000; negative: none
	QueueExpiry   time.Duration `toml:"queue_expiry"`    // default 3s; negative: never
	OnWorkerDeath string        `toml:"on_worker_death"` // "requeue" (default) or "fail"
	HoldLimit     time.Duration `toml:"hold_limit"`      // default 0: off; see core.BrokerConfig.HoldLimit
}

// WorkerSpec configures every worker (core.WorkerConfig).
type WorkerSpec struct {
	Heartbeat        time.Duration `toml:"heartbeat"`         // default 1s
	Liveness         int           `toml:"liveness"`          // default 3
	ReconnectInitial time.Duration `toml:"reconnect_initial"` // default 1s
	ReconnectMax     time.Duration `toml:"reconnect_max"`     // default 32s
}

// ServiceSpec is one service: its workers and their service-time distribution.
type ServiceSpec struct {
	Name    string `toml:"name"`
	Workers int    `toml:"workers"`
	Time    Dist   `toml:"time"`
	// Credit is how many requests each worker of the service may hold at once
	// (core.WorkerConfig.Credit, announced in READY). 0 or 1: one at a time, plain MDP.
	Credit int `toml:"credit"`
}

// Distribution kinds of Dist.
const (
	Constant    = "constant"    // always Mean
	Uniform     = "uniform"     // uniform in [Min, Max]
	Exponential = "exponential" // exponential with mean Mean
	LogNormal   = "lognormal"   // log-normal with mean Mean and shape Sigma
)

// Dist is a service-time distribution.
type Dist struct {
	Kind  string        `toml:"kind"` // Constant (default), Uniform, Exponential, LogNormal
	Mean  time.Duration `toml:"mean"`
	Min   time.Duration `toml:"min"`
	Max   time.Duration `toml:"max"`
	Sigma float64       `toml:"sigma"`
}

// Client workload modes.
const (
	Sync = "sync" // each client keeps Concurrency requests outstanding
	Open = "open" // each client starts requests at Rate per second (Poisson)
)

// ClientSpec is the client population and its workload.
type ClientSpec struct {
	Count       int           `toml:"count"`       // default 1
	Mode        string        `toml:"mode"`        // Sync (default) or Open
	Concurrency int           `toml:"concurrency"` // Sync: outstanding requests per client; default 1
	Rate        float64       `toml:"rate"`        // Open: requests per second per client
	Requests    int           `toml:"requests"`    // per client; 0: no count bound (Duration then needed)
	Duration    time.Duration `toml:"duration"`    // no request starts after it; 0: no time bound
	Think       time.Duration `toml:"think"`       // Sync: pause between a request's end and the next
	Timeout     time.Duration `toml:"timeout"`     // core.ClientConfig.Timeout; default 1s
	Attempts    int           `toml:"attempts"`    // core.ClientConfig.Attempts; default 3
	MMI         float64       `toml:"mmi"`         // fraction of requests that are mmi.service lookups
	// Services are the services requests go to, drawn uniformly; empty means all.
	Services []string `toml:"services"`
}

// Fault families: the Kind of a FaultEvent and the Family of a Decision.
const (
	FamCrash         = "crash"          // worker process dies, no DISCONNECT, connection left open
	FamRestart       = "restart"        // worker process restarts: connection closed, new one opened
	FamPause         = "pause"          // worker frozen: connection kept, no heartbeats, no replies
	FamSlow          = "slow"           // the handler takes longer than the client timeout
	FamHeartbeatLoss = "heartbeat-loss" // HEARTBEATs lost, to the broker, from it or both
	FamDrop          = "drop"           // messages lost
	FamDelay         = "delay"          // messages delayed
	FamDuplicate     = "duplicate"      // client-connection messages delivered twice
	FamReorder       = "reorder"        // small random delays: connections overtake each other
	FamPartition     = "partition"      // a node cut from the broker, then healed
	FamBrokerRestart = "broker-restart" // broker dies with its state, comes back after a while
	FamSkew          = "skew"           // a node's clock runs at another rate
	FamMalformed     = "malformed"      // a hostile peer sends malformed messages
)

// Families lists every fault family, in a fixed order.
var Families = []string{FamCrash, FamRestart, FamPause, FamSlow, FamHeartbeatLoss, FamDrop,
	FamDelay, FamDuplicate, FamReorder, FamPartition, FamBrokerRestart, FamSkew, FamMalformed}

// Heartbeat-loss directions.
const (
	ToBroker   = "to-broker"
	FromBroker = "from-broker"
	Both       = "both"
)

// Faults is the fault schedule: timed events, random rates, and, for replays, the
// list of random decisions to make instead of drawing them.
type Faults struct {
	Events    []FaultEvent `toml:"event"`
	Random    RandomFaults `toml:"random"`
	Replay    bool         `toml:"replay"`   // random faults fire only as listed in Decisions
	Decisions []Decision   `toml:"decision"` // with Replay: the decisions to make
}

// FaultEvent is one timed fault. Which fields count depends on Kind:
//
//	crash           Node (a worker); For > 0: restart after For
//	restart         Node (a worker)
//	pause           Node (a worker), For
//	slow            Node (a worker, or "" for all), For: handlers take Delay meanwhile
//	heartbeat-loss  Node (a worker, or "" for all), For, Direction, Prob
//	drop, duplicate Node ("" for all: messages from or to it), For, Prob
//	delay, reorder  Node, For, Prob, Delay (reorder: maximum of a uniform draw)
//	partition       Node (a worker or client), For
//	broker-restart  For (downtime)
//	skew            Node, Rate (from At on, the node's clock runs at Rate)
//	malformed       Count messages from a hostile peer
type FaultEvent struct {
	At        time.Duration `toml:"at"`
	Kind      string        `toml:"kind"`
	Node      string        `toml:"node"`
	For       time.Duration `toml:"for"`
	Prob      float64       `toml:"prob"` // default 1
	Delay     time.Duration `toml:"delay"`
	Direction string        `toml:"direction"` // default both
	Rate      float64       `toml:"rate"`
	Count     int           `toml:"count"` // default 1
}

// RandomFaults are fault rates drawn while the workload runs. Process faults are
// Poisson processes (per worker, or per node, per second); message faults are
// probabilities per message; Slow is a probability per request handled.
type RandomFaults struct {
	Crash              float64       `toml:"crash"`          // per worker per second
	RestartAfter       time.Duration `toml:"restart_after"`  // a crashed worker restarts after it; 0: never
	Restart            float64       `toml:"restart"`        // per worker per second
	Pause              float64       `toml:"pause"`          // per worker per second
	PauseFor           time.Duration `toml:"pause_for"`      // maximum pause, drawn uniformly; default 4s
	Slow               float64       `toml:"slow"`           // per request
	SlowTime           time.Duration `toml:"slow_time"`      // default 1.5 × client timeout
	HeartbeatLoss      float64       `toml:"heartbeat_loss"` // per HEARTBEAT
	HeartbeatDirection string        `toml:"heartbeat_direction"`
	Drop               float64       `toml:"drop"`      // per message
	Duplicate          float64       `toml:"duplicate"` // per message on a client connection
	Delay              float64       `toml:"delay"`     // per message
	DelayMax           time.Duration `toml:"delay_max"` // default 200ms
	Reorder            float64       `toml:"reorder"`   // per message
	ReorderMax         time.Duration `toml:"reorder_max"`
	Partition          float64       `toml:"partition"`      // per node per second
	PartitionFor       time.Duration `toml:"partition_for"`  // maximum, drawn uniformly; default 3s
	BrokerRestart      float64       `toml:"broker_restart"` // per second
	BrokerDown         time.Duration `toml:"broker_down"`    // maximum, drawn uniformly; default 2s
	Skew               float64       `toml:"skew"`           // maximum |rate−1| per node, drawn at start
	Malformed          float64       `toml:"malformed"`      // messages per second from a hostile peer
}

// Decision is one random fault decision that fired. A run records them all; a
// scenario with Faults.Replay makes exactly the listed ones instead of drawing. For
// message families N is the network message number (mem.Envelope.ID), for slow the
// number of the request handled (from 1, over all workers); process families fire at
// At on Node, lasting Dur; skew sets Node's Rate at the start.
type Decision struct {
	Family string        `toml:"family" json:"family"`
	N      uint64        `toml:"n,omitempty" json:"n,omitempty"`
	At     time.Duration `toml:"at" json:"at"`
	Node   string        `toml:"node,omitempty" json:"node,omitempty"`
	Dur    time.Duration `toml:"dur,omitempty" json:"dur,omitempty"`
	Rate   float64       `toml:"rate,omitempty" json:"rate,omitempty"`
}

// FieldError says which field of a scenario is invalid and why.
type FieldError struct {
	Field  string // the TOML key path, e.g. "clients.count" or "faults.event[2].kind"
	Reason string
}

// Error returns "sim: scenario: FIELD: REASON".
func (e *FieldError) Error() string { return "sim: scenario: " + e.Field + ": " + e.Reason }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// withDefaults returns the scenario with every zero field at its default.
func (s Scenario) withDefaults() Scenario {
	if s.Network.Latency == 0 {
		s.Network.Latency = 100 * time.Microsecond
	}
	if s.Clients.Count == 0 {
		s.Clients.Count = 1
	}
	if s.Clients.Mode == "" {
		s.Clients.Mode = Sync
	}
	if s.Clients.Concurrency == 0 {
		s.Clients.Concurrency = 1
	}
	if s.Clients.Timeout == 0 {
		s.Clients.Timeout = core.DefaultTimeout
	}
	if s.Clients.Attempts == 0 {
		s.Clients.Attempts = core.DefaultAttempts
	}
	if s.Broker.OnWorkerDeath == "" {
		s.Broker.OnWorkerDeath = "requeue"
	}
	svcs := make([]ServiceSpec, len(s.Services))
	for i, sv := range s.Services {
		if sv.Time.Kind == "" {
			sv.Time.Kind = Constant
		}
		svcs[i] = sv
	}
	s.Services = svcs
	r := &s.Faults.Random
	if r.PauseFor == 0 {
		r.PauseFor = 4 * time.Second
	}
	if r.SlowTime == 0 {
		r.SlowTime = s.Clients.Timeout * 3 / 2
	}
	if r.HeartbeatDirection == "" {
		r.HeartbeatDirection = Both
	}
	if r.DelayMax == 0 {
		r.DelayMax = 200 * time.Millisecond
	}
	if r.ReorderMax == 0 {
		r.ReorderMax = 5 * time.Millisecond
	}
	if r.PartitionFor == 0 {
		r.PartitionFor = 3 * time.Second
	}
	if r.BrokerDown == 0 {
		r.BrokerDown = 2 * time.Second
	}
	evs := make([]FaultEvent, len(s.Faults.Events))
	for i, e := range s.Faults.Events {
		if e.Prob == 0 {
			e.Prob = 1
		}
		if e.Direction == "" {
			e.Direction = Both
		}
		if e.Count == 0 {
			e.Count = 1
		}
		evs[i] = e
	}
	s.Faults.Events = evs
	s.Faults.Decisions = append([]Decision(nil), s.Faults.Decisions...)
	return s
}
