package core

import "time"

// Defaults, as in ebwrkapi.
const (
	DefaultHeartbeatInterval = 1000 * time.Millisecond
	DefaultLiveness          = 3
	DefaultTimeout           = 1000 * time.Millisecond
	DefaultAttempts          = 3
	DefaultQueueLimit        = 10000
	DefaultQueueExpiry       = 3 * time.Second
	DefaultReconnectInitial  = 1 * time.Second
	DefaultReconnectMax      = 32 * time.Second
)

// DeathPolicy says what the broker does with the request a dead worker held.
type DeathPolicy uint8

// The policies.
const (
	// Requeue puts the request back at the head of its service's queue, so the next
	// idle worker gets it (the zero value).
	Requeue DeathPolicy = iota
	// FailRequest fails the request: an ebwrk client gets a StatusWorkerDied reply; a
	// standard client gets nothing and recovers by its own timeout, as RFC 7 expects.
	FailRequest
)

// String returns "requeue" or "fail".
func (p DeathPolicy) String() string {
	if p == FailRequest {
		return "fail"
	}
	return "requeue"
}

// BrokerConfig configures a Broker. The zero value gives the defaults.
type BrokerConfig struct {
	// HeartbeatInterval is how often the broker heartbeats every worker, idle or busy,
	// and checks for expired workers and requests. Zero means DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// Liveness is how many intervals a worker may stay silent before it is removed.
	// Zero means DefaultLiveness.
	Liveness int
	// QueueLimit bounds the requests waiting per service; a request past it is refused.
	// Zero means DefaultQueueLimit; negative means no bound.
	QueueLimit int
	// QueueExpiry is how long a request may wait in a queue before the broker fails it.
	// Zero means DefaultQueueExpiry; negative means never.
	QueueExpiry time.Duration
	// OnWorkerDeath says what happens to the request a dead worker held.
	OnWorkerDeath DeathPolicy
	// HoldLimit bounds how long a busy worker may hold one request. A worker still
	// holding a request HoldLimit after it was dispatched gets DISCONNECT and is
	// removed (reason HeldTooLong), and the request is requeued or failed per
	// OnWorkerDeath, exactly as for a dead worker; its heartbeats do not save it. This
	// catches a worker that lost its reply but keeps heartbeating, which the liveness
	// rule never removes. Zero (the default) or negative means no limit, since a
	// legitimate request (video.cut) may take minutes: set it above the longest
	// service time you expect.
	HoldLimit time.Duration
	// Access says which authenticated keys may serve which services and send
	// requests. The zero value allows everything.
	Access Access
}

func (c BrokerConfig) withDefaults() BrokerConfig {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Liveness <= 0 {
		c.Liveness = DefaultLiveness
	}
	if c.QueueLimit == 0 {
		c.QueueLimit = DefaultQueueLimit
	}
	if c.QueueExpiry == 0 {
		c.QueueExpiry = DefaultQueueExpiry
	}
	return c
}

// ClientConfig configures a Client. The zero value gives the defaults.
type ClientConfig struct {
	// Timeout is how long one attempt waits for its reply. Zero means DefaultTimeout.
	Timeout time.Duration
	// Attempts is how many times a request is sent in all: the first send plus
	// Attempts-1 retries, each after a Timeout without a reply. A request therefore
	// fails Attempts × Timeout after Request at the latest. Zero means DefaultAttempts
	// (3); 1 means no retry.
	Attempts int
	// Standard makes the client work with any MDP/0.1 broker: no ebwrk envelope, one
	// request outstanding at a time (others wait their turn in the client), and a new
	// connection (ConnectOutput) before each retry, as RFC 7 recommends.
	Standard bool
}

func (c ClientConfig) withDefaults() ClientConfig {
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Attempts <= 0 {
		c.Attempts = DefaultAttempts
	}
	return c
}

// WorkerConfig configures a Worker. Service is required; the zero value of every
// other field gives its default.
type WorkerConfig struct {
	// Service is the name the worker registers with READY.
	Service string
	// HeartbeatInterval is how often the worker heartbeats the broker, also while the
	// application handles a request. Zero means DefaultHeartbeatInterval.
	HeartbeatInterval time.Duration
	// Liveness is how many intervals without a sign of the broker make the worker
	// declare it lost and reconnect. Zero means DefaultLiveness.
	Liveness int
	// ReconnectInitial is the wait before the first reconnect after the broker is lost;
	// each further loss without hearing from the broker in between doubles it, up to
	// ReconnectMax. Zero means DefaultReconnectInitial (1 s).
	ReconnectInitial time.Duration
	// ReconnectMax caps the reconnect wait. Zero means DefaultReconnectMax (32 s).
	ReconnectMax time.Duration
	// Credit is how many requests the worker may hold at once (the ebwrk extension),
	// announced to the broker in READY's credit frame. Zero or 1 means one at a time:
	// plain MDP, and READY carries no credit frame. Above MaxCredit means MaxCredit. A
	// broker that ignores the frame sends one request at a time, which is fine.
	Credit int
}

func (c WorkerConfig) withDefaults() WorkerConfig {
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeatInterval
	}
	if c.Liveness <= 0 {
		c.Liveness = DefaultLiveness
	}
	if c.ReconnectInitial <= 0 {
		c.ReconnectInitial = DefaultReconnectInitial
	}
	if c.ReconnectMax <= 0 {
		c.ReconnectMax = DefaultReconnectMax
	}
	if c.ReconnectMax < c.ReconnectInitial {
		c.ReconnectMax = c.ReconnectInitial
	}
	c.Credit = min(max(c.Credit, 1), MaxCredit)
	return c
}
