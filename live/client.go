package live

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

// Outcome is how one live request ended, as its client saw it.
type Outcome struct {
	Client   string        `json:"client"`  // c1, c2, ...
	K        uint64        `json:"k"`       // the request's number at its client, from 1
	Service  string        `json:"service"` // echo, or mmi.service
	Start    time.Duration `json:"start"`   // since the run's start
	Latency  time.Duration `json:"latency"`
	OK       bool          `json:"ok"`
	Reason   string        `json:"reason,omitempty"`   // the failure's core.Reason, or "error"
	Attempts int           `json:"attempts,omitempty"` // of a failure, as the client says
	Err      string        `json:"err,omitempty"`
	Reply    [][]byte      `json:"-"`
	Expect   [][]byte      `json:"-"` // the reply an echo (or the registry) should give
	MMIName  string        `json:"-"` // of an mmi.service lookup: the service asked about
}

// clientRun runs one client's workload on a zmq.Client.
type clientRun struct {
	name     string
	num      int
	sc       *sim.Scenario
	targets  []string
	c        *zmq.Client
	epoch    time.Time
	bound    time.Duration // a request not ended after this is cut off and reported hung
	mu       sync.Mutex
	rng      *rand.Rand
	started  int
	stopped  bool
	outcomes []Outcome
}

// mayStart reports whether the workload allows another request now.
func (c *clientRun) mayStart() (uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cs := &c.sc.Clients
	if c.stopped || (cs.Requests > 0 && c.started >= cs.Requests) ||
		(cs.Duration > 0 && time.Since(c.epoch) >= cs.Duration) {
		c.stopped = true
		return 0, false
	}
	c.started++
	return uint64(c.started), true
}

// draw picks the service and body of request k, as the sim's client does: an
// mmi.service lookup with probability MMI, else a target service.
func (c *clientRun) draw(k uint64) (service string, body, expect [][]byte, mmiName string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sc := c.sc
	if sc.Clients.MMI > 0 && c.rng.Float64() < sc.Clients.MMI {
		i := c.rng.IntN(len(sc.Services) + 1)
		mmiName = "nosuch"
		if i < len(sc.Services) {
			mmiName = sc.Services[i].Name
		}
		return "mmi.service", [][]byte{[]byte(mmiName)}, nil, mmiName
	}
	service = c.targets[0]
	if len(c.targets) > 1 {
		service = c.targets[c.rng.IntN(len(c.targets))]
	}
	b := []byte("c" + strconv.Itoa(c.num+1) + ":" + strconv.FormatUint(k, 10))
	return service, [][]byte{b}, [][]byte{b}, ""
}

// one sends request k and records its outcome.
func (c *clientRun) one(ctx context.Context, k uint64) {
	service, body, expect, mmiName := c.draw(k)
	start := time.Now()
	rctx, cancel := context.WithTimeout(ctx, c.bound)
	reply, err := c.c.Request(rctx, service, body...)
	cancel()
	o := Outcome{Client: c.name, K: k, Service: service, Start: start.Sub(c.epoch), Latency: time.Since(start),
		Reply: reply, Expect: expect, MMIName: mmiName, OK: err == nil}
	if err != nil {
		o.Err = err.Error()
		var re *zmq.RequestError
		switch {
		case errors.As(err, &re):
			o.Reason, o.Attempts = re.Reason.String(), re.Attempts
		case errors.Is(err, context.DeadlineExceeded):
			o.Reason = "hung"
		default:
			o.Reason = "error"
		}
	}
	c.mu.Lock()
	c.outcomes = append(c.outcomes, o)
	c.mu.Unlock()
}

// run runs the workload until it is over (or ctx ends) and every request has ended.
func (c *clientRun) run(ctx context.Context) {
	cs := &c.sc.Clients
	var wg sync.WaitGroup
	if cs.Mode == sim.Open {
		for {
			c.mu.Lock()
			gap := time.Duration(c.rng.ExpFloat64() / cs.Rate * float64(time.Second))
			c.mu.Unlock()
			select {
			case <-ctx.Done():
				wg.Wait()
				return
			case <-time.After(gap): // the workload's Poisson arrivals
			}
			k, ok := c.mayStart()
			if !ok {
				break
			}
			wg.Go(func() { c.one(ctx, k) })
		}
		wg.Wait()
		return
	}
	for range cs.Concurrency {
		wg.Go(func() {
			for ctx.Err() == nil {
				k, ok := c.mayStart()
				if !ok {
					return
				}
				c.one(ctx, k)
				if cs.Think > 0 {
					select {
					case <-ctx.Done():
					case <-time.After(cs.Think): // the workload's think time
					}
				}
			}
		})
	}
	wg.Wait()
}

// retries returns the client's retries so far.
func (c *clientRun) stats() core.ClientStats { return c.c.Stats().ClientStats }
