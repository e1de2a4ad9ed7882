package sim

import (
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// request is what the simulation remembers of one request, for metrics and checks.
type request struct {
	service  string
	mmiName  string        // for mmi.service lookups: the service asked about
	body     []byte        // the one body frame; the echo handler sends it back
	start    time.Duration // virtual time of Request
	startL   time.Duration // the client's local time of Request
	svcTime  time.Duration // service time drawn by the worker that handled it last
	attempts int
	queued   bool // the broker queued it at least once
	done     bool
	ok       bool        // done with a reply (else with a failure)
	reason   core.Reason // the failure's reason
}

// clientNode drives one core.Client and its workload.
type clientNode struct {
	r        *run
	idx      int
	num      int // 0-based client number
	name     string
	m        *core.Client
	cfg      core.ClientConfig
	manual   bool // added to a World: no workload, the driver makes its requests
	rng      *rand.Rand
	clk      nodeClock
	dealer   *mem.Dealer
	gen      uint64
	timer    *mem.Timer
	fire     func()
	wl       *mem.Timer // open-loop arrivals and think times
	wlFire   func()
	reqs     [][]request // by sequence number − 1, in chunks of reqChunk that never move
	nreqs    int
	open     []uint64 // sequence numbers without an end yet
	next     int      // requests to start once the outputs are drained
	stopped  bool     // no new request starts
	finished bool
}

func newClientNode(r *run, idx, num int) *clientNode {
	return newClientNodeWith(r, idx, num, core.ClientConfig{
		Timeout:  r.sc.Clients.Timeout,
		Attempts: r.sc.Clients.Attempts,
	})
}

// newClientNodeWith makes client number num (from 0) with its own configuration.
func newClientNodeWith(r *run, idx, num int, cfg core.ClientConfig) *clientNode {
	c := &clientNode{
		r: r, idx: idx, num: num, name: "c" + strconv.Itoa(num+1),
		rng: r.streams.Stream("workload/c" + strconv.Itoa(num+1)),
		clk: newNodeClock(),
		cfg: cfg,
		m:   core.NewClient(cfg),
	}
	c.fire = func() { c.advance() }
	c.wlFire = func() { c.tick() }
	return c
}

func (c *clientNode) localNow() time.Time {
	return Epoch.Add(time.Duration(c.clk.local(int64(c.r.now()))))
}

// begin connects and starts the workload.
func (c *clientNode) begin() {
	c.connect()
	if c.r.sc.Clients.Mode == Sync {
		c.next = c.r.sc.Clients.Concurrency
		c.pump()
		return
	}
	c.scheduleArrival()
}

func (c *clientNode) connect() {
	if c.dealer != nil {
		c.dealer.Close()
	}
	c.gen++
	gen := c.gen
	d, err := c.r.net.Connect(c.name, "front", func(frames [][]byte) {
		if gen == c.gen {
			c.m.Receive(c.localNow(), frames)
			c.pump()
		}
	})
	if err != nil {
		panic("sim: connect: " + err.Error()) // an internal invariant: names are valid
	}
	c.dealer = d
}

// mayStart reports whether the workload allows another request now, and stops it
// for good when not.
func (c *clientNode) mayStart() bool {
	sc := &c.r.sc.Clients
	if c.stopped {
		return false
	}
	if (sc.Requests > 0 && c.nreqs >= sc.Requests) || (sc.Duration > 0 && c.r.now() >= sc.Duration) {
		c.stopped = true
		return false
	}
	return true
}

// tick is the workload timer: an open-loop arrival or the end of a think time.
func (c *clientNode) tick() {
	if c.r.sc.Clients.Mode == Open {
		c.next++
		c.scheduleArrival()
	} else {
		c.next++
	}
	c.pump()
}

func (c *clientNode) scheduleArrival() {
	if !c.mayStart() {
		c.checkFinished()
		return
	}
	gap := time.Duration(c.rng.ExpFloat64() / c.r.sc.Clients.Rate * float64(time.Second))
	c.wlAfter(gap)
}

func (c *clientNode) wlAfter(d time.Duration) {
	at := c.r.clock.Now().Add(d)
	if c.wl == nil {
		c.wl = c.r.clock.At(at, c.wlFire)
	} else {
		c.wl.Reset(at)
	}
}

// startRequest starts one request: a service (or an mmi.service lookup) drawn from
// the workload stream, and a body naming the client and the request.
func (c *clientNode) startRequest() {
	sc := c.r.sc
	rq := request{start: c.r.now()}
	rq.startL = time.Duration(c.clk.local(int64(rq.start)))
	k := uint64(c.nreqs + 1)
	var body [][]byte
	if sc.Clients.MMI > 0 && c.rng.Float64() < sc.Clients.MMI {
		rq.service = "mmi.service"
		i := c.rng.IntN(len(sc.Services) + 1)
		rq.mmiName = "nosuch"
		if i < len(sc.Services) {
			rq.mmiName = sc.Services[i].Name
		}
		body = [][]byte{[]byte(rq.mmiName)}
	} else {
		rq.service = c.r.targets[0]
		if len(c.r.targets) > 1 {
			rq.service = c.r.targets[c.rng.IntN(len(c.r.targets))]
		}
		rq.body = requestBody(c.num+1, k)
		body = [][]byte{rq.body}
	}
	c.record(rq, body)
}

// record keeps request rq (its number k is the next one) and makes it.
func (c *clientNode) record(rq request, body [][]byte) uint64 {
	k := uint64(c.nreqs + 1)
	rq.attempts = 1
	if c.nreqs%reqChunk == 0 {
		c.reqs = append(c.reqs, make([]request, 0, reqChunk))
	}
	last := len(c.reqs) - 1
	c.reqs[last] = append(c.reqs[last], rq)
	c.nreqs++
	c.r.m.requests++
	seq := c.m.Request(c.localNow(), rq.service, body)
	if seq != k {
		c.r.violate(GReply, "client "+c.name+" numbered request "+strconv.FormatUint(k, 10)+" as seq="+strconv.FormatUint(seq, 10),
			formatTime(c.r.now())+" "+c.name+" request")
	}
	if c.r.obs != nil {
		c.r.obs.ClientRequest(c.localNow(), c.name, c.cfg, seq, rq.service, body)
	}
	c.open = append(c.open, k)
	return seq
}

// request makes a request the driver asks for (World.Request) and carries out its
// outputs.
func (c *clientNode) request(service string, body [][]byte) uint64 {
	rq := request{service: service, start: c.r.now()}
	rq.startL = time.Duration(c.clk.local(int64(rq.start)))
	if len(body) == 1 {
		rq.body = body[0]
		if service == "mmi.service" {
			rq.mmiName = string(body[0])
		}
	}
	seq := c.record(rq, body)
	c.pump()
	return seq
}

// requestBody is "c<client>:<k>" (client numbered from 1, as its node), parsed back by
// parseBody.
func requestBody(client int, k uint64) []byte {
	b := make([]byte, 0, 16)
	b = append(b, 'c')
	b = strconv.AppendInt(b, int64(client), 10)
	b = append(b, ':')
	return strconv.AppendUint(b, k, 10)
}

// parseBody returns the client number (from 1) and sequence of a request body.
func parseBody(b []byte) (client int, k uint64, ok bool) {
	if len(b) < 4 || b[0] != 'c' {
		return 0, 0, false
	}
	i := 1
	for i < len(b) && b[i] >= '0' && b[i] <= '9' {
		client = client*10 + int(b[i]-'0')
		i++
	}
	if i == 1 || i >= len(b) || b[i] != ':' || i+1 == len(b) {
		return 0, 0, false
	}
	for i++; i < len(b); i++ {
		if b[i] < '0' || b[i] > '9' {
			return 0, 0, false
		}
		k = k*10 + uint64(b[i]-'0')
	}
	return client, k, true
}

func (c *clientNode) advance() {
	now := c.localNow()
	if d := c.m.NextDeadline(); !d.IsZero() && now.Before(d) {
		now = d
	}
	c.m.Advance(now)
	c.pump()
}

func (c *clientNode) pump() {
	r := c.r
	for {
		outs := c.m.Drain()
		if len(outs) == 0 {
			if c.next > 0 {
				c.next--
				if c.mayStart() {
					c.startRequest()
				}
				continue
			}
			break
		}
		at := r.now()
		for i := range outs {
			o := &outs[i]
			r.tr.output(at, c.idx, o)
			switch o.Kind {
			case core.SendOutput:
				r.m.messages[0][o.Command&7]++
				r.m.attempts++
				_ = c.dealer.Send(o.Frames) // ErrClosed after a Cut: lost, as on a broken socket
			case core.ConnectOutput:
				c.connect()
			case core.DeliverOutput:
				c.ended(o, true)
			case core.FailOutput:
				c.ended(o, false)
			case core.EventOutput:
				c.event(o)
			}
		}
	}
	c.arm()
	c.checkFinished()
}

func (c *clientNode) event(o *core.Output) {
	r := c.r
	switch o.Event {
	case core.RequestRetried:
		r.m.retries++
		if rq := c.req(o.Seq); rq != nil {
			rq.attempts++
		}
	case core.ReplyDiscarded:
		r.m.discarded[o.Reason]++
	}
}

// reqChunk is how many requests a chunk of clientNode.reqs holds: growing the
// record never copies the records already made.
const reqChunk = 256

func (c *clientNode) req(seq uint64) *request {
	if seq == 0 || seq > uint64(c.nreqs) {
		return nil
	}
	i := seq - 1
	return &c.reqs[i/reqChunk][i%reqChunk]
}

// ended handles a reply or a failure: metrics, checks, and the next request of a
// synchronous client.
func (c *clientNode) ended(o *core.Output, ok bool) {
	r := c.r
	if r.obs != nil {
		r.obs.ClientEnded(c.localNow(), c.name, o)
	}
	rq := c.req(o.Seq)
	if rq == nil {
		r.violate(GReply, "client "+c.name+" ended a request it never made", r.traceLine(c.idx, o))
		return
	}
	if rq.done {
		r.violate(GReply, "request accepted or failed a second time", r.traceLine(c.idx, o))
		return
	}
	rq.done, rq.ok, rq.reason = true, ok, o.Reason
	for i, s := range c.open {
		if s == o.Seq {
			c.open = append(c.open[:i], c.open[i+1:]...)
			break
		}
	}
	lat := r.now() - rq.start
	if ok {
		r.m.successes++
		r.m.lat = append(r.m.lat, lat)
		if r.opt.Samples {
			r.m.samples = append(r.m.samples, sample{End: r.now(), Latency: lat})
		}
	} else {
		r.m.failures[o.Reason]++
	}
	r.chk.clientEnded(c, rq, o, ok, lat)
	if r.sc.Clients.Mode == Sync && !c.manual {
		if t := r.sc.Clients.Think; t > 0 {
			if c.mayStart() {
				c.wlAfter(t)
			}
		} else {
			c.next++
		}
	}
}

// hang gives up on request seq (guarantee 2 was broken) so that the run can end.
func (c *clientNode) hang(seq uint64) {
	rq := c.req(seq)
	rq.done = true
	c.r.m.hung++
	for i, s := range c.open {
		if s == seq {
			c.open = append(c.open[:i], c.open[i+1:]...)
			break
		}
	}
	if c.r.sc.Clients.Mode == Sync {
		c.next++
		c.pump()
	}
	c.checkFinished()
}

func (c *clientNode) checkFinished() {
	if c.finished || c.manual || len(c.open) > 0 || c.next > 0 {
		return
	}
	if c.wl != nil && c.wl.Pending() {
		return
	}
	if !c.stopped && c.mayStart() {
		return
	}
	c.finished = true
	c.r.clientFinished()
}

func (c *clientNode) arm() {
	d := c.m.NextDeadline()
	if d.IsZero() {
		if c.timer != nil {
			c.timer.Stop()
		}
		return
	}
	v := Epoch.Add(time.Duration(c.clk.virtual(int64(d.Sub(Epoch)))))
	switch {
	case c.timer == nil:
		c.timer = c.r.clock.At(v, c.fire)
	case !c.timer.Pending() || !c.timer.When().Equal(v):
		c.timer.Reset(v)
	}
}
