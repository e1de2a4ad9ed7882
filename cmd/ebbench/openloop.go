package main

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/ebwrk/ebwrk/transport/zmq"
)

// maxOpenInflight bounds the requests an open-loop client keeps in flight. At half
// of the peak rate it is never reached; past it the schedule waits, and the achieved
// rate (rate_per_s) falls below the offered one (offered_per_s).
const maxOpenInflight = 4096

// schedule is an open loop's timetable: request i is due at start + i/rate, whatever
// the replies. Go's timers wake a sleeper about a millisecond late at best, so the
// requests due meanwhile go out together: the offered rate holds over any
// millisecond, not between two requests.
type schedule struct {
	start    time.Time
	interval time.Duration
	i        int64
}

func newSchedule(rate float64) *schedule {
	return &schedule{start: time.Now(), interval: time.Duration(float64(time.Second) / rate)}
}

// due reports whether the next request is due at now.
func (s *schedule) due(now time.Time) bool { return !s.next().After(now) }

// next returns when the next request is due.
func (s *schedule) next() time.Time { return s.start.Add(time.Duration(s.i) * s.interval) }

// runOpen issues requests on the schedule of cfg.rate, each on a goroutine of its own
// (at most maxOpenInflight at once), until the quota or stop. The latency of each is
// from its call to its reply.
func (l *clientLoad) runOpen(acc *account, stop <-chan struct{}) {
	var wg sync.WaitGroup
	defer wg.Wait()
	var closed atomic.Bool // the Client ended: no request can succeed any more
	sem := make(chan struct{}, maxOpenInflight)
	sched := newSchedule(l.cfg.rate)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for !closed.Load() {
		for sched.due(time.Now()) {
			seq, ok := acc.take()
			if !ok {
				return
			}
			sched.i++
			select {
			case sem <- struct{}{}:
			case <-stop:
				return
			}
			wg.Go(func() {
				defer func() { <-sem }()
				if l.request(acc, seq) {
					closed.Store(true)
				}
			})
		}
		timer.Reset(time.Until(sched.next()))
		select {
		case <-stop:
			return
		case <-timer.C:
		}
	}
}

// runOpen sends requests on the schedule of cfg.rate from one goroutine, receiving
// echoes while it waits for the next to be due, until the quota or stop. A request
// whose echo has not come Timeout × Attempts after it was sent is lost, with every
// other one still in flight.
func (l *rawLoad) runOpen(acc *account, stop <-chan struct{}) {
	inflight := map[uint64]time.Time{}
	var oldest uint64 // no request in flight has a lower number (numbers go up)
	sched := newSchedule(l.cfg.rate)
	stopped := false
	for {
		if !stopped {
			select {
			case <-stop:
				stopped = true
			default:
			}
		}
		for now := time.Now(); !stopped && sched.due(now) && len(inflight) < maxOpenInflight; {
			seq, ok := acc.take()
			if !ok {
				stopped = true
				break
			}
			sched.i++
			if err := l.p.Send(l.frames(acc.body(seq))); err != nil {
				acc.fail(err)
				continue
			}
			inflight[seq] = time.Now()
		}
		if stopped && len(inflight) == 0 {
			return
		}
		// Wait for an echo until the next request is due; at the bound of requests in
		// flight, or when no more will be sent, as long as an echo may take.
		wait := l.wait()
		if !stopped && len(inflight) < maxOpenInflight {
			wait = max(time.Until(sched.next()), 0)
		}
		if len(inflight) == 0 {
			time.Sleep(wait) // nothing to receive: the schedule's pace
			continue
		}
		got, err := l.p.Recv(wait)
		if errors.Is(err, zmq.ErrNoMessage) {
			for _, ok := inflight[oldest]; !ok; _, ok = inflight[oldest] {
				oldest++
			}
			if time.Since(inflight[oldest]) < l.wait() {
				continue
			}
			err = fmt.Errorf("no echo within %v", l.wait())
		}
		if !l.settle(acc, inflight, got, err) {
			return
		}
	}
}
