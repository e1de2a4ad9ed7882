package zmq

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// Recv answers the request the previous Recv returned with reply, and returns the
// next request: the seed's loop, request = worker.recv(reply). The first call starts
// the worker, which serves in the background, heartbeating also while the caller
// works on a request, until Close. reply is ignored when no request is held (the
// first call). Recv returns ctx's error when ctx ends first (the request held stays
// held: pass its reply to the next Recv), and ErrWorkerStopped after Close, or the
// *EndedError that says why the worker ended on its own. Recv is not for concurrent
// use.
func (w *Worker) Recv(ctx context.Context, reply [][]byte) ([][]byte, error) {
	l := &w.recv
	var err error
	l.start.Do(func() { err = w.startLoop() })
	if err != nil {
		return nil, err
	}
	if l.reqs == nil {
		return nil, ErrWorkerServing
	}
	if l.holding != nil {
		l.holding.reply <- reply
		l.holding = nil
	}
	select {
	case r := <-l.reqs:
		l.holding = &r
		return r.body, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("zmq: recv: %w", ctx.Err())
	case <-l.served:
		// Ended on an error: the *EndedError says why (it matches ErrWorkerStopped).
		var ended *EndedError
		if errors.As(l.err, &ended) {
			return nil, ended
		}
		return nil, ErrWorkerStopped
	}
}

// RecvJSON is Recv for JSON bodies: reply, when a request is held, is encoded as the
// reply's one frame, and the next request's first frame is decoded into req (a
// pointer, as for json.Unmarshal). When the request does not decode, RecvJSON returns
// the error and the request stays held: the next call answers it.
func (w *Worker) RecvJSON(ctx context.Context, reply, req any) error {
	var frames [][]byte
	if w.recv.holding != nil {
		b, err := json.Marshal(reply)
		if err != nil {
			return fmt.Errorf("zmq: encode reply: %w", err)
		}
		frames = [][]byte{b}
	}
	body, err := w.Recv(ctx, frames)
	if err != nil {
		return err
	}
	if len(body) == 0 {
		return fmt.Errorf("zmq: decode request: no body frame")
	}
	if err := json.Unmarshal(body[0], req); err != nil {
		return fmt.Errorf("zmq: decode request: %w", err)
	}
	return nil
}

// Close stops a worker started by Recv: DISCONNECT goes to the broker, which requeues
// a request still held. It returns the error that ended serving, if any.
func (w *Worker) Close() error {
	l := &w.recv
	l.start.Do(func() {
		// Never started: later calls of Recv find the worker stopped.
		l.reqs = make(chan loopRequest)
		l.served = make(chan struct{})
		close(l.served)
	})
	if l.cancel == nil {
		return nil
	}
	l.cancel()
	<-l.served
	return l.err
}

// startLoop starts Serve in the background with the handler of the loop style.
func (w *Worker) startLoop() error {
	if !w.serving.CompareAndSwap(false, true) {
		return ErrWorkerServing
	}
	l := &w.recv
	// The loop style answers one request at a time, whatever Concurrency says.
	w.cfg.Credit = 1
	ctx, cancel := context.WithCancel(context.Background())
	l.cancel = cancel
	l.reqs = make(chan loopRequest)
	l.served = make(chan struct{})
	go func() {
		defer close(l.served)
		l.err = w.serve(ctx, func(hctx context.Context, body [][]byte) [][]byte {
			r := loopRequest{body: body, reply: make(chan [][]byte, 1)}
			select {
			case l.reqs <- r:
			case <-hctx.Done():
				return nil
			}
			select {
			case rep := <-r.reply:
				return rep
			case <-hctx.Done():
				return nil
			}
		})
	}()
	return nil
}
