package core

import (
	"fmt"
	"time"
)

// errClientMessage is the Err of an InputDropped event for a client-protocol message
// that reached a worker.
var errClientMessage = fmt.Errorf("%w: client message at a worker", ErrMalformed)

// Receive takes one message the worker's connection received. Before Start and after
// Stop it does nothing; during a reconnect backoff the message is dropped.
func (w *Worker) Receive(now time.Time, frames [][]byte) {
	switch w.state {
	case workerNew, workerStopped:
		return
	case workerBackoff:
		w.drop(Backoff, nil)
		return
	}
	m, err := Parse(frames)
	if err != nil {
		w.drop(Malformed, err)
		return
	}
	if m.Protocol != WorkerProtocol {
		w.drop(Malformed, errClientMessage)
		return
	}
	// Any valid command proves the broker alive; hearing from it ends the backoff series.
	w.expiry = now.Add(w.lifetime())
	w.backoff = w.cfg.ReconnectInitial
	switch m.Command {
	case Request:
		if len(w.held) >= w.cfg.Credit {
			// RFC 7: a worker handles one request at a time; a credit worker, as many
			// as it announced.
			w.drop(UnexpectedCommand, nil)
			return
		}
		w.next++
		w.held = append(w.held, heldRequest{n: w.next, address: m.Address})
		w.stats.Requests++
		w.out.add(Output{Kind: DeliverOutput, Service: w.cfg.Service, Seq: w.next, Body: m.Body})
	case Heartbeat:
	case Disconnect:
		// RFC 7 rule 6: send nothing more on this connection; reconnect on a new one.
		w.out.add(Output{Kind: EventOutput, Event: DisconnectReceived, Service: w.cfg.Service})
		w.connect(now)
	default:
		// READY and REPLY only ever go from a worker to the broker.
		w.drop(UnexpectedCommand, nil)
	}
}

// drop reports and counts an input the worker refuses.
func (w *Worker) drop(reason Reason, err error) {
	w.stats.Dropped[reason]++
	w.out.add(Output{Kind: EventOutput, Event: InputDropped, Service: w.cfg.Service, Reason: reason, Err: err})
}
