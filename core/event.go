package core

import "fmt"

// EventKind names what an EventOutput reports.
type EventKind uint8

// The events. Broker events come first, then client and worker ones.
const (
	EventNone          EventKind = iota
	WorkerJoined                 // broker: a worker sent READY (Peer, Service)
	WorkerRemoved                // broker: a worker is forgotten (Peer, Service, Reason)
	RequestQueued                // broker: no idle worker; the request waits (Peer=client, Service, Seq)
	RequestDispatched            // broker: a request went to a worker (Peer=worker, Service, Seq)
	RequestRequeued              // broker: a dead worker's request goes back to the head of the queue
	RequestAnswered              // broker: a worker's reply went to the client (Peer=client)
	RequestFailed                // broker: the broker failed a request (Peer=client, Reason)
	MMIAnswered                  // broker: an mmi. request was answered (Peer=client, Service)
	InputDropped                 // broker, client, worker: an input was refused (Peer, Reason, Err)
	ServiceCreated               // broker: a service entry now exists (Service)
	ServiceRemoved               // broker: a service has no workers and no queue left (Service)
	RequestRetried               // client: a request timed out and was sent again (Service, Seq)
	ReplyDiscarded               // client: a reply was not accepted (Seq, Reason: stale, duplicate, malformed)
	BrokerLost                   // worker: no sign of the broker for liveness × interval
	ReconnectScheduled           // worker: the next connection attempt waits (Reason)
	DisconnectReceived           // worker: the broker sent DISCONNECT
	numEvents
)

var eventNames = [numEvents]string{
	EventNone:          "none",
	WorkerJoined:       "worker-joined",
	WorkerRemoved:      "worker-removed",
	RequestQueued:      "queued",
	RequestDispatched:  "dispatched",
	RequestRequeued:    "requeued",
	RequestAnswered:    "answered",
	RequestFailed:      "failed",
	MMIAnswered:        "mmi",
	InputDropped:       "dropped",
	ServiceCreated:     "service-created",
	ServiceRemoved:     "service-removed",
	RequestRetried:     "retried",
	ReplyDiscarded:     "discarded",
	BrokerLost:         "broker-lost",
	ReconnectScheduled: "reconnect-scheduled",
	DisconnectReceived: "disconnect-received",
}

// String returns the event's stable trace name, e.g. "worker-joined".
func (e EventKind) String() string {
	if e < numEvents {
		return eventNames[e]
	}
	return fmt.Sprintf("event(%d)", uint8(e))
}

// Reason says why an input was dropped, a worker removed or a request failed.
type Reason uint8

// The reasons.
const (
	ReasonNone        Reason = iota
	Malformed                // the message does not parse (Err says why)
	UnknownWorker            // RFC 7: HEARTBEAT, REPLY from a peer that sent no READY
	DuplicateReady           // RFC 7: a worker must not send READY twice
	ReservedService          // RFC 8: workers may not register an mmi. service
	UnexpectedCommand        // a valid command the broker never expects (REQUEST from a worker)
	NotHolding               // a REPLY from a worker that holds no request
	AddressMismatch          // a REPLY whose client address is not that of the request held
	QueueFull                // the service queue was at its bound
	Expired                  // the request waited in the queue past the expiry
	WorkerDied               // the worker holding the request was removed
	Shutdown                 // the broker stopped
	Disconnected             // the worker sent DISCONNECT
	Silent                   // no sign of life for liveness × interval
	TimedOut                 // client: every attempt timed out
	Stale                    // client: a reply for a request no longer outstanding
	Duplicate                // client: a second reply for a request already answered
	WrongService             // client: a reply whose service is not that of the request
	NoRequest                // worker: Reply called while no request is held
	Backoff                  // worker: reconnecting after the broker was lost
	Unreachable              // broker: the transport could not deliver to the peer
	HeldTooLong              // broker: a busy worker held its request past BrokerConfig.HoldLimit
	NotAuthorized            // broker: the peer's key may not serve that service, or not request
	numReasons
)

var reasonNames = [numReasons]string{
	ReasonNone:        "none",
	Malformed:         "malformed",
	UnknownWorker:     "unknown worker",
	DuplicateReady:    "second READY",
	ReservedService:   "reserved mmi. service",
	UnexpectedCommand: "unexpected command",
	NotHolding:        "worker holds no request",
	AddressMismatch:   "client address mismatch",
	QueueFull:         "queue full",
	Expired:           "expired in queue",
	WorkerDied:        "worker died",
	Shutdown:          "broker shut down",
	Disconnected:      "disconnected",
	Silent:            "silent",
	TimedOut:          "timed out",
	Stale:             "stale",
	Duplicate:         "duplicate",
	WrongService:      "wrong service",
	NoRequest:         "no request held",
	Backoff:           "backoff",
	Unreachable:       "unreachable",
	HeldTooLong:       "held too long",
	NotAuthorized:     "not authorized",
}

// NumReasons is the number of Reason values, for arrays of counters indexed by Reason.
const NumReasons = int(numReasons)

// String returns the reason in a few lower-case words.
func (r Reason) String() string {
	if r < numReasons {
		return reasonNames[r]
	}
	return fmt.Sprintf("reason(%d)", uint8(r))
}

// statusReason maps an envelope status of a broker-made failure to its Reason.
func statusReason(s Status) Reason {
	switch s {
	case StatusQueueFull:
		return QueueFull
	case StatusExpired:
		return Expired
	case StatusWorkerDied:
		return WorkerDied
	case StatusShutdown:
		return Shutdown
	}
	return Malformed
}

// reasonStatus maps the Reason of a broker-made failure to its envelope status.
func reasonStatus(r Reason) Status {
	switch r {
	case QueueFull:
		return StatusQueueFull
	case Expired:
		return StatusExpired
	case WorkerDied:
		return StatusWorkerDied
	case Shutdown:
		return StatusShutdown
	}
	return StatusOK
}
