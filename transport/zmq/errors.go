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
	// ErrClosed: the Client was closed before the request ended, or it ended on an
	// error it could not recover from; the error is then an *EndedError, which also
	// wraps that cause. The error that ends a Worker matches it too.
	ErrClosed = errors.New("zmq: client closed")
)

// EndedError is the error of a Client or Worker that ended on an error it could not
// recover from (one it can recover from, it survives: see the package doc). Every
// request outstanding on the Client or made after gets it, Client.Close returns its
// cause; Worker.Serve returns it, and Worker.Recv and Worker.Close too. It matches
// ErrClosed, a Worker's also ErrWorkerStopped, and its cause, with errors.Is and
// errors.As.
type EndedError struct {
	Worker bool  // a Worker ended; else a Client
	Cause  error // what ended it, e.g. "zmq: client receive: ..."
}

// Error says what ended and why, e.g. "zmq: client ended: zmq: client receive: ...".
func (e *EndedError) Error() string {
	what := "client"
	if e.Worker {
		what = "worker"
	}
	return fmt.Sprintf("zmq: %s ended: %v", what, e.Cause)
}

// Unwrap returns ErrClosed, ErrWorkerStopped for a Worker, and the cause.
func (e *EndedError) Unwrap() []error {
	if e.Worker {
		return []error{ErrClosed, ErrWorkerStopped, e.Cause}
	}
	return []error{ErrClosed, e.Cause}
}

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
