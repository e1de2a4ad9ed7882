package zmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// ErrWorkerServing is returned by Serve and Recv when the Worker already serves (a
// Worker serves once, in one style).
var ErrWorkerServing = errors.New("zmq: worker already serving")

// ErrWorkerStopped is returned by Recv after Close; the *EndedError of a worker that
// ended on an error matches it too.
var ErrWorkerStopped = errors.New("zmq: worker stopped")

// Handler answers one request: it gets the request's body frames and returns the
// reply's. It runs on Serve's goroutine while the worker's keeper goes on
// heartbeating, so a long handler does not make the worker look dead. Its ctx ends when the worker
// stops or loses the request (the broker was lost or sent DISCONNECT, and requeues
// it); the reply of a lost request is dropped. An empty reply is sent as one empty
// frame, since an RFC 7 REPLY carries at least one body frame.
type Handler func(ctx context.Context, request [][]byte) [][]byte

// WorkerOptions configures a Worker. The zero value gives the defaults.
type WorkerOptions struct {
	// HeartbeatInterval is how often the worker heartbeats the broker, also while a
	// handler runs. Zero means 1000 ms. It must match the broker's (RFC 7).
	HeartbeatInterval time.Duration
	// Liveness is how many intervals without a sign of the broker make the worker
	// declare it lost and reconnect. Zero means 3.
	Liveness int
	// ReconnectInitial and ReconnectMax bound the wait before reconnecting after the
	// broker was lost; it doubles with each loss. Zero means 1 s and 32 s.
	ReconnectInitial time.Duration
	ReconnectMax     time.Duration
	// Linger bounds how long stopping waits for the DISCONNECT to leave. Zero means
	// one second; negative means not at all.
	Linger time.Duration
	// HighWaterMark bounds the messages queued on the connection in each direction.
	// Zero means 10000.
	HighWaterMark int
	// Logger receives the worker's events (broker lost, DISCONNECT received,
	// reconnects, refused input). Nil means no log.
	Logger *slog.Logger
	// Curve, when set, makes each connection CURVE (curve.go). Nil means plain.
	Curve *CurveKeys
	// Concurrency is how many requests Serve handles at once: up to that many
	// handlers run, each on a goroutine of its own, and the worker announces it to
	// the broker as its credit (core.WorkerConfig.Credit, the ebwrk credit frame of
	// READY), so that an ebwrk broker sends it up to that many requests at once. A
	// standard MDP broker ignores the frame and sends one at a time, which works the
	// same. Zero or 1 means one at a time on Serve's goroutine: plain MDP. The loop
	// style (Recv, RecvJSON) always handles one at a time.
	Concurrency int
}

// Worker serves one service for a broker on one DEALER connection at a time,
// driving core.Worker with the wall clock. Serve it with a Handler (Serve), or
// in the seed's loop style (Recv). It reconnects on a new socket after DISCONNECT
// or after losing the broker.
type Worker struct {
	endpoint string
	cfg      core.WorkerConfig
	hwm      int
	linger   time.Duration
	log      *slog.Logger
	curve    *CurveKeys
	serving  atomic.Bool

	recv recvLoop // the state of the loop style
}

// NewWorker returns a worker for service at the broker's endpoint (e.g.
// "tcp://127.0.0.1:5556"). It connects when it starts serving.
func NewWorker(endpoint, service string, opts WorkerOptions) *Worker {
	if opts.HighWaterMark <= 0 {
		opts.HighWaterMark = defaultHWM
	}
	switch {
	case opts.Linger == 0:
		opts.Linger = defaultLinger
	case opts.Linger < 0:
		opts.Linger = 0
	}
	return &Worker{
		endpoint: endpoint,
		cfg: core.WorkerConfig{Service: service, HeartbeatInterval: opts.HeartbeatInterval,
			Liveness: opts.Liveness, ReconnectInitial: opts.ReconnectInitial, ReconnectMax: opts.ReconnectMax,
			Credit: max(opts.Concurrency, 1)},
		hwm:    opts.HighWaterMark,
		linger: opts.Linger,
		log:    opts.Logger,
		curve:  opts.Curve,
	}
}

// Serve registers with the broker and answers requests with h until ctx ends, then
// sends DISCONNECT (the broker requeues a request still being handled) and returns
// nil. A socket error makes it start over on a new connection; it returns early only
// when that did not help (see the package doc), with an *EndedError that carries the
// cause and matches ErrClosed. The handler of a request still running then sees its
// ctx end, Serve returns once it has returned, and its reply is dropped.
func (w *Worker) Serve(ctx context.Context, h Handler) error {
	if !w.serving.CompareAndSwap(false, true) {
		return ErrWorkerServing
	}
	return w.serve(ctx, h)
}

// HandleJSON adapts fn to a Handler for JSON bodies: the request's first frame is
// decoded into a Req and fn's result is encoded as the reply's one frame. A request
// that does not decode, or an error from fn, gets the reply {"error": "<message>"}.
func HandleJSON[Req, Rep any](fn func(ctx context.Context, req Req) (Rep, error)) Handler {
	return func(ctx context.Context, request [][]byte) [][]byte {
		var req Req
		if len(request) == 0 {
			return jsonError(errors.New("zmq: request has no body frame"))
		}
		if err := json.Unmarshal(request[0], &req); err != nil {
			return jsonError(fmt.Errorf("zmq: decode request: %w", err))
		}
		rep, err := fn(ctx, req)
		if err != nil {
			return jsonError(err)
		}
		b, err := json.Marshal(rep)
		if err != nil {
			return jsonError(fmt.Errorf("zmq: encode reply: %w", err))
		}
		return [][]byte{b}
	}
}

// jsonError is the reply of HandleJSON for a failed request.
func jsonError(err error) [][]byte {
	b, merr := json.Marshal(map[string]string{"error": err.Error()})
	if merr != nil {
		b = []byte(`{"error":"zmq: error message does not encode"}`)
	}
	return [][]byte{b}
}

// recvLoop runs Serve in the background for the loop style: its handler passes each
// request to Recv and waits for the reply Recv brings with the next call.
type recvLoop struct {
	start   sync.Once
	cancel  context.CancelFunc
	reqs    chan loopRequest
	holding *loopRequest // the request the last Recv returned; only Recv touches it
	served  chan struct{}
	err     error // Serve's result; read after served
}

type loopRequest struct {
	body  [][]byte
	reply chan [][]byte // buffered: the handler may be gone already
}
