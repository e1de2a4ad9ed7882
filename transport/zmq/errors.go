package zmq

import (
	"errors"
	"fmt"

	"github.com/ebwrk/ebwrk/core"
)

// Sentinel errors of a Client request; match them with errors.Is.
var (
	// ErrTimeout: every attempt of the request went unanswered.
	ErrTimeout = errors.New("zmq: request timed out")
	// ErrRefused: the broker ended the request itself (queue full, expired in the
	// queue, its worker died, the broker shut down); RequestError.Reason says which.
	ErrRefused = errors.New("zmq: request refused by the broker")
	// ErrClosed: the Client was closed before the request ended.
	ErrClosed = errors.New("zmq: client closed")
)

// RequestError is how a request that ended without a reply fails: after its attempts
// timed out (it matches ErrTimeout), or because the broker ended it (it matches
// ErrRefused). Get it with errors.As.
type RequestError struct {
	Service  string
	Seq      uint64      // the request's sequence number on its Client
	Reason   core.Reason // core.TimedOut, or the broker's: QueueFull, Expired, WorkerDied, Shutdown
	Attempts int         // how many times the request was sent
}

// Error says what happened, e.g. "zmq: request 7 to echo timed out after 3 attempts"
// or "zmq: request 7 to echo refused by the broker: queue full".
func (e *RequestError) Error() string {
	if e.Reason == core.TimedOut {
		unit := "attempts"
		if e.Attempts == 1 {
			unit = "attempt"
		}
		return fmt.Sprintf("zmq: request %d to %s timed out after %d %s", e.Seq, e.Service, e.Attempts, unit)
	}
	return fmt.Sprintf("zmq: request %d to %s refused by the broker: %s", e.Seq, e.Service, e.Reason)
}

// Is matches ErrTimeout for a timeout and ErrRefused for a broker-made failure.
func (e *RequestError) Is(target error) bool {
	switch target {
	case ErrTimeout:
		return e.Reason == core.TimedOut
	case ErrRefused:
		return e.Reason != core.TimedOut
	}
	return false
}
