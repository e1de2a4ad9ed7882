package core

import (
	"strconv"
	"time"
)

// WorkerStats counts what a Worker did.
type WorkerStats struct {
	Requests   uint64             // requests delivered to the application
	Replies    uint64             // replies sent
	Heartbeats uint64             // heartbeats sent
	Connects   uint64             // connections opened (the first and every reconnect)
	Dropped    [NumReasons]uint64 // inputs refused, by reason
}

// Worker is the worker side of ebwrk on one connection to a broker, as a pure state
// machine. See the package doc for the driver loop. It speaks plain MDP/Worker 0.1, so
// it works with any Majordomo broker.
//
// The life of a worker:
//
//   - Start opens the connection (ConnectOutput) and sends READY (RFC 7 rule 1).
//   - A REQUEST is delivered to the application (DeliverOutput, its Seq the worker's
//     own number for the request, counting from 1 over the worker's life) when the
//     worker holds fewer than its credit (WorkerConfig.Credit; 1 by default); the
//     worker remembers the client address it came with, and ReplyTo with that number
//     (or Reply, for the oldest request held) sends the one REPLY for it with that
//     address. A REQUEST beyond the credit, and a reply for a request not held, are
//     dropped and reported (InputDropped, UnexpectedCommand or NoRequest).
//   - The worker heartbeats every HeartbeatInterval after its last send, whether or not
//     it holds a request (the ebwrk extension: a long handler does not make the worker
//     look dead). Any other send in the interval stands in for the heartbeat (RFC 7
//     rule 8: peers SHOULD NOT send HEARTBEAT while sending other commands).
//   - Every valid message from the broker proves it alive. After Liveness ×
//     HeartbeatInterval without one, the broker is lost (BrokerLost): the held requests
//     are dropped (the broker requeues them) and, after a backoff
//     (ReconnectScheduled), the worker reconnects and sends READY again. The backoff
//     starts at ReconnectInitial and doubles with every loss, up to ReconnectMax; it
//     goes back to ReconnectInitial once the broker is heard from. Messages that arrive
//     during the backoff are dropped (Reason Backoff).
//   - DISCONNECT from the broker (DisconnectReceived) drops the held requests and
//     reconnects at once on a new connection with READY (RFC 7 rule 6).
//   - Stop sends DISCONNECT (RFC 7 rule 3) and the worker is done: it sends and reports
//     nothing more, and NextDeadline is the zero time.
type Worker struct {
	cfg      WorkerConfig
	out      outputs
	ready    [][]byte // the READY message, built once
	state    workerState
	held     []heldRequest // delivered and not answered yet, oldest first
	next     uint64        // the number of the last request delivered
	lastSend time.Time     // the last message sent; a heartbeat is due an interval later
	expiry   time.Time     // when the broker is lost unless heard from
	retryAt  time.Time     // backoff: when to reconnect
	backoff  time.Duration // the wait before the next reconnect after a loss
	stats    WorkerStats
	alloc    frameAllocator // reply frames
}

// heldRequest is a request a Worker delivered and the application has not answered.
type heldRequest struct {
	n       uint64 // the worker's number for it (DeliverOutput.Seq)
	address []byte // the client address it came with
}

// workerState is where a Worker is in its life.
type workerState uint8

const (
	workerNew       workerState = iota // Start not called yet
	workerConnected                    // READY sent on the current connection
	workerBackoff                      // the broker was lost; waiting to reconnect
	workerStopped                      // Stop called: nothing more ever
)

// The worker messages that never change.
var (
	heartbeatFrames  = [][]byte{emptyFrame, workerHeaderFrame, commandFrames[Heartbeat]}
	disconnectFrames = [][]byte{emptyFrame, workerHeaderFrame, commandFrames[Disconnect]}
)

// NewWorker returns a worker for cfg.Service (zero fields: defaults). Call Start to
// connect.
func NewWorker(cfg WorkerConfig) *Worker {
	cfg = cfg.withDefaults()
	ready := [][]byte{emptyFrame, workerHeaderFrame, commandFrames[Ready], []byte(cfg.Service)}
	if cfg.Credit > 1 {
		// The ebwrk credit frame; credit 1 sends the plain RFC 7 READY.
		ready = append(ready, []byte(strconv.Itoa(cfg.Credit)))
	}
	return &Worker{cfg: cfg, ready: ready, backoff: cfg.ReconnectInitial}
}

// Start opens the first connection: a ConnectOutput, then READY. Start on a worker
// already started does nothing.
func (w *Worker) Start(now time.Time) {
	if w.state == workerNew {
		w.connect(now)
	}
}

// connect opens a new connection and registers with READY (RFC 7 rule 1).
func (w *Worker) connect(now time.Time) {
	w.state = workerConnected
	w.held = w.held[:0]
	w.stats.Connects++
	w.out.add(Output{Kind: ConnectOutput})
	w.send(now, Ready, w.ready)
	// A new connection gets the full liveness allowance.
	w.expiry = now.Add(w.lifetime())
}

// lifetime is how long the broker may stay silent: Liveness × HeartbeatInterval.
func (w *Worker) lifetime() time.Duration {
	return time.Duration(w.cfg.Liveness) * w.cfg.HeartbeatInterval
}

// send sends one command to the broker.
func (w *Worker) send(now time.Time, cmd Command, frames [][]byte) {
	w.lastSend = now
	o := Output{Kind: SendOutput, Frames: frames, Protocol: WorkerProtocol, Command: cmd}
	if cmd == Ready {
		o.Service = w.cfg.Service
	}
	w.out.add(o)
}

// Stop ends the worker: DISCONNECT goes to the broker and nothing follows it. A held
// request is dropped. Stop before Start just ends the worker.
func (w *Worker) Stop(now time.Time) {
	if w.state == workerStopped {
		return
	}
	if w.state != workerNew {
		w.send(now, Disconnect, disconnectFrames)
	}
	w.state = workerStopped
	w.held = w.held[:0]
}

// Reply answers the oldest request the worker holds (with credit 1, the one it holds)
// with the given body frames; see ReplyTo.
func (w *Worker) Reply(now time.Time, body [][]byte) {
	if w.state == workerStopped {
		return
	}
	if len(w.held) == 0 {
		w.drop(NoRequest, nil)
		return
	}
	w.reply(now, 0, body)
}

// ReplyTo answers request n (the Seq of its DeliverOutput) with the given body frames.
// The body is not copied. When n is not held (never delivered, answered already, or
// the connection it came on was replaced) nothing is sent and an InputDropped event
// with Reason NoRequest says so.
func (w *Worker) ReplyTo(now time.Time, n uint64, body [][]byte) {
	if w.state == workerStopped {
		return
	}
	for i := range w.held {
		if w.held[i].n == n {
			w.reply(now, i, body)
			return
		}
	}
	w.drop(NoRequest, nil)
}

// reply sends the REPLY for the i-th held request.
func (w *Worker) reply(now time.Time, i int, body [][]byte) {
	frames := w.alloc.frames(5 + len(body))[:0]
	frames = append(frames, emptyFrame, workerHeaderFrame, commandFrames[Reply], w.held[i].address, emptyFrame)
	frames = append(frames, body...)
	w.held = append(w.held[:i], w.held[i+1:]...)
	w.stats.Replies++
	w.send(now, Reply, frames)
}

// Advance lets time pass: heartbeats, broker-loss detection and reconnects.
func (w *Worker) Advance(now time.Time) {
	switch w.state {
	case workerBackoff:
		if !now.Before(w.retryAt) {
			w.connect(now)
		}
	case workerConnected:
		if !now.Before(w.expiry) {
			w.lose(now)
			return
		}
		if !now.Before(w.lastSend.Add(w.cfg.HeartbeatInterval)) {
			w.stats.Heartbeats++
			w.send(now, Heartbeat, heartbeatFrames)
		}
	}
}

// lose declares the broker lost and schedules the reconnect after the backoff.
func (w *Worker) lose(now time.Time) {
	w.out.add(Output{Kind: EventOutput, Event: BrokerLost, Service: w.cfg.Service, Reason: Silent})
	w.held = w.held[:0]
	w.state = workerBackoff
	w.retryAt = now.Add(w.backoff)
	w.out.add(Output{Kind: EventOutput, Event: ReconnectScheduled, Service: w.cfg.Service, Reason: Backoff})
	w.backoff = min(2*w.backoff, w.cfg.ReconnectMax)
}

// NextDeadline returns when Advance must next be called; the zero time means never.
func (w *Worker) NextDeadline() time.Time {
	switch w.state {
	case workerBackoff:
		return w.retryAt
	case workerConnected:
		hb := w.lastSend.Add(w.cfg.HeartbeatInterval)
		if w.expiry.Before(hb) {
			return w.expiry
		}
		return hb
	}
	return time.Time{}
}

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (w *Worker) Drain() []Output { return w.out.drain() }

// Busy reports whether the worker holds a request the application has not answered.
func (w *Worker) Busy() bool { return len(w.held) > 0 }

// Held returns how many requests the worker holds that the application has not
// answered; at most its credit.
func (w *Worker) Held() int { return len(w.held) }

// Stats returns the worker's counters.
func (w *Worker) Stats() WorkerStats { return w.stats }
