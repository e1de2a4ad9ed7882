package core

import "time"

// WorkerStats counts what a Worker did.
type WorkerStats struct {
	Requests   uint64             // requests delivered to the application
	Replies    uint64             // replies sent
	Heartbeats uint64             // heartbeats sent
	Connects   uint64             // connections opened (the first and every reconnect)
	Dropped    [NumReasons]uint64 // inputs refused, by reason
}

// Worker is the worker side of ebwrk on one connection to a broker, as a pure state
// machine. See the package doc for the protocol.
type Worker struct {
	cfg WorkerConfig
	out outputs
}

// NewWorker returns a worker for cfg.Service (zero fields: defaults). Call Start to
// connect.
func NewWorker(cfg WorkerConfig) *Worker {
	return &Worker{cfg: cfg.withDefaults()}
}

// Start opens the first connection: a ConnectOutput, then READY.
func (w *Worker) Start(now time.Time) {}

// Stop ends the worker: DISCONNECT goes to the broker and nothing follows it.
func (w *Worker) Stop(now time.Time) {}

// Receive takes one message the worker's connection received.
func (w *Worker) Receive(now time.Time, frames [][]byte) {}

// Reply answers the request the worker holds with the given body frames.
func (w *Worker) Reply(now time.Time, body [][]byte) {}

// Advance lets time pass: heartbeats, broker-loss detection and reconnects.
func (w *Worker) Advance(now time.Time) {}

// NextDeadline returns when Advance must next be called; the zero time means never.
func (w *Worker) NextDeadline() time.Time { return time.Time{} }

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (w *Worker) Drain() []Output { return w.out.drain() }

// Busy reports whether the worker holds a request the application has not answered.
func (w *Worker) Busy() bool { return false }

// Stats returns the worker's counters.
func (w *Worker) Stats() WorkerStats { return WorkerStats{} }
