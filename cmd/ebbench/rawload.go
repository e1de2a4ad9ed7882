package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// rawLoad is a zmq.RawPeer (a plain DEALER) against a zmq.RawEcho (a plain ROUTER
// that echoes): the physical limit of a round trip on this machine, measured with the
// same request frames as a brokered one ("", "MDPC01", service, body). It keeps
// cfg.callers requests in flight from one goroutine. There is no retry: a request
// whose echo does not come within Timeout × Attempts is lost.
type rawLoad struct {
	cfg loadConfig
	p   *zmq.RawPeer
}

func newRawLoad(cfg loadConfig) (*rawLoad, error) {
	p, err := zmq.DialRaw(cfg.endpoint)
	if err != nil {
		return nil, err
	}
	return &rawLoad{cfg: cfg, p: p}, nil
}

func (l *rawLoad) frames(body []byte) [][]byte {
	return [][]byte{{}, []byte("MDPC01"), []byte(l.cfg.service), body}
}

func (l *rawLoad) wait() time.Duration {
	return time.Duration(l.cfg.client.Attempts) * l.cfg.client.Timeout
}

func (l *rawLoad) warmup(ctx context.Context, n int) error {
	for i := range n {
		if err := ctx.Err(); err != nil {
			return err
		}
		want := l.frames([]byte("warmup/" + strconv.Itoa(i)))
		if err := l.p.Send(want); err != nil {
			return err
		}
		got, err := l.p.Recv(l.wait())
		if err != nil {
			return err
		}
		if !equalFrames(got, want) {
			return fmt.Errorf("warm-up echo %q, want %q", got, want)
		}
	}
	return nil
}

func (l *rawLoad) run(acc *account, stop <-chan struct{}) {
	if l.cfg.rate > 0 {
		l.runOpen(acc, stop)
		return
	}
	inflight := map[uint64]time.Time{}
	stopped := false
	for {
		if !stopped {
			select {
			case <-stop:
				stopped = true
			default:
			}
		}
		for !stopped && len(inflight) < l.cfg.callers {
			seq, ok := acc.take()
			if !ok {
				stopped = true
				break
			}
			if err := l.p.Send(l.frames(acc.body(seq))); err != nil {
				acc.fail(err)
				continue
			}
			inflight[seq] = time.Now()
		}
		if len(inflight) == 0 {
			return
		}
		got, err := l.p.Recv(l.wait())
		if errors.Is(err, zmq.ErrNoMessage) {
			err = fmt.Errorf("no echo within %v", l.wait())
		}
		if !l.settle(acc, inflight, got, err) {
			return
		}
	}
}

// settle accounts for what a receive gave: the echo got of a request in flight (or a
// mismatched reply), or the receive's error, which ends every request in flight; it
// reports whether the load may go on.
func (l *rawLoad) settle(acc *account, inflight map[uint64]time.Time, got [][]byte, err error) bool {
	if err != nil {
		for range inflight {
			acc.fail(err)
		}
		return false
	}
	seq, t0, ok := l.match(got, inflight)
	if !ok {
		acc.reply(nil, got, 0) // counted mismatched
		return true
	}
	delete(inflight, seq)
	acc.reply(acc.body(seq), got[3:], time.Since(t0))
	return true
}

// match finds the request that echo answers: the same header frames and the body of
// a request in flight.
func (l *rawLoad) match(echo [][]byte, inflight map[uint64]time.Time) (uint64, time.Time, bool) {
	if len(echo) != 4 || !equalFrames(echo[:3], l.frames(nil)[:3]) {
		return 0, time.Time{}, false
	}
	prefix := []byte(l.cfg.bodyTag() + "/")
	if !bytes.HasPrefix(echo[3], prefix) {
		return 0, time.Time{}, false
	}
	seq, err := strconv.ParseUint(string(echo[3][len(prefix):]), 10, 64)
	if err != nil {
		return 0, time.Time{}, false
	}
	t0, ok := inflight[seq]
	return seq, t0, ok
}

func (l *rawLoad) retries() uint64 { return 0 }
func (l *rawLoad) close() error    { return l.p.Close() }

func equalFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}
