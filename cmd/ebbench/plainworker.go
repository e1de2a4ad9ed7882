package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// The frames of MDP/0.1 worker commands (RFC 7), written out as a plain worker in
// any language would: this worker uses none of ebwrk's own worker code.
var (
	plainHeader     = []byte("MDPW01")
	plainReady      = []byte{0x01}
	plainRequest    = []byte{0x02}
	plainReply      = []byte{0x03}
	plainHeartbeat  = []byte{0x04}
	plainDisconnect = []byte{0x05}
)

// plainLiveness is how many heartbeat intervals of silence from the broker make the
// plain worker reconnect (the zguide's mdwrkapi uses 3 as well).
const plainLiveness = 3

// servePlain is the --plain worker: a plain DEALER speaking MDP/0.1 frame by frame,
// as the zguide's mdwrkapi does. It sends READY, echoes each REQUEST's body in a
// REPLY, sends HEARTBEAT every interval, and reconnects on a new socket after
// DISCONNECT or liveness × interval without hearing from the broker. It returns nil
// when ctx ends, or the first socket error it cannot recover from.
func servePlain(ctx context.Context, backend, service string, heartbeat time.Duration, log *slog.Logger) error {
	for ctx.Err() == nil {
		err := plainSession(ctx, backend, service, heartbeat, log)
		if err != nil {
			return err
		}
	}
	return nil
}

// plainSession is one connection of the plain worker: it returns nil to reconnect
// (or because ctx ended) and an error when the socket fails.
func plainSession(ctx context.Context, backend, service string, heartbeat time.Duration, log *slog.Logger) (err error) {
	p, err := zmq.DialRaw(backend)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, p.Close()) }()
	if err := p.Send([][]byte{{}, plainHeader, plainReady, []byte(service)}); err != nil {
		return err
	}
	heard := time.Now()
	nextBeat := heard.Add(heartbeat)
	for ctx.Err() == nil {
		wait := min(time.Until(nextBeat), 50*time.Millisecond) // notice ctx's end
		m, err := p.Recv(max(wait, 0))
		switch {
		case errors.Is(err, zmq.ErrNoMessage):
		case err != nil:
			return err
		default:
			heard = time.Now()
			done, err := plainHandle(p, m, log)
			if err != nil || done {
				return err
			}
		}
		now := time.Now()
		if now.Sub(heard) > plainLiveness*heartbeat {
			log.Warn("broker silent: reconnecting", "silent", now.Sub(heard).Round(time.Millisecond))
			return nil
		}
		if !now.Before(nextBeat) {
			if err := p.Send([][]byte{{}, plainHeader, plainHeartbeat}); err != nil {
				return err
			}
			nextBeat = now.Add(heartbeat)
		}
	}
	return p.Send([][]byte{{}, plainHeader, plainDisconnect})
}

// plainHandle acts on one message from the broker: a REQUEST is answered, a
// DISCONNECT ends the session (done), a HEARTBEAT needs nothing, anything else is
// logged and dropped, as RFC 7 asks of invalid messages.
func plainHandle(p *zmq.RawPeer, m [][]byte, log *slog.Logger) (done bool, err error) {
	if len(m) < 3 || len(m[0]) != 0 || !bytes.Equal(m[1], plainHeader) {
		log.Warn("invalid message dropped", "frames", len(m))
		return false, nil
	}
	switch {
	case bytes.Equal(m[2], plainRequest) && len(m) >= 5 && len(m[4]) == 0:
		reply := make([][]byte, 0, len(m))
		reply = append(reply, []byte{}, plainHeader, plainReply)
		reply = append(reply, m[3:]...) // client address, "", body...
		if err := p.Send(reply); err != nil {
			return false, fmt.Errorf("reply: %w", err)
		}
	case bytes.Equal(m[2], plainDisconnect):
		log.Info("DISCONNECT from the broker: reconnecting")
		return true, nil
	case bytes.Equal(m[2], plainHeartbeat):
	default:
		log.Warn("invalid command dropped", "command", m[2])
	}
	return false, nil
}
