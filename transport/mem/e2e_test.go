package mem_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
	"github.com/google/go-cmp/cmp"
)

// machine is what the driver needs of core.Broker, core.Client and core.Worker.
type machine interface {
	Advance(now time.Time)
	NextDeadline() time.Time
	Drain() []core.Output
}

// host runs one state machine on the network: it feeds it messages and deadlines and
// carries out its outputs (the loop of core's package doc).
type host struct {
	t       *testing.T
	net     *mem.Network
	name    string // node name
	addr    string // client and worker: the broker address they connect to
	m       machine
	broker  *core.Broker      // set for the broker
	routers [2]*mem.Router    // the broker's, by core.Socket
	conn    *mem.Dealer       // client and worker: the current connection
	recv    func([][]byte)    // client and worker: Receive
	app     func(core.Output) // DeliverOutput and FailOutput
	timer   *mem.Timer
	dead    bool
}

func (h *host) now() time.Time { return h.net.Clock().Now() }

// pump drains the machine until it has nothing more to say, executing each output,
// then re-arms the host's one timer at the machine's NextDeadline.
func (h *host) pump() {
	for outs := h.m.Drain(); len(outs) > 0; outs = h.m.Drain() {
		for _, o := range outs {
			h.exec(o)
		}
	}
	switch dl := h.m.NextDeadline(); {
	case dl.IsZero():
		if h.timer != nil {
			h.timer.Stop()
		}
	case h.timer == nil:
		h.timer = h.net.Clock().At(dl, h.tick)
	default:
		h.timer.Reset(dl)
	}
}

func (h *host) exec(o core.Output) {
	switch o.Kind {
	case core.SendOutput:
		if h.broker != nil {
			err := h.routers[o.To.Socket].Send(o.To.ID, o.Frames)
			if errors.Is(err, mem.ErrUnreachable) {
				// ROUTER_MANDATORY: the broker learns the peer is gone. Its new
				// outputs are picked up by pump's next Drain.
				h.broker.Unreachable(h.now(), o.To)
			} else if err != nil {
				h.t.Errorf("%s: %v: %v", h.name, o, err)
			}
			return
		}
		if err := h.conn.Send(o.Frames); err != nil {
			h.t.Errorf("%s: %v: %v", h.name, o, err)
		}
	case core.ConnectOutput:
		if h.conn != nil {
			h.conn.Close()
		}
		conn, err := h.net.Connect(h.name, h.addr, h.receive)
		if err != nil {
			h.t.Fatalf("%s: connect: %v", h.name, err)
		}
		h.conn = conn
	case core.DeliverOutput, core.FailOutput:
		h.app(o)
	}
}

func (h *host) receive(frames [][]byte) {
	if h.dead {
		return
	}
	h.recv(frames)
	h.pump()
}

func (h *host) tick() {
	if h.dead {
		return
	}
	h.m.Advance(h.now())
	h.pump()
}

// Timing of the end-to-end scenario.
const (
	lat      = 1 * time.Millisecond   // one-way network latency, no jitter
	service  = 10 * time.Millisecond  // each worker's handling time
	beat     = 100 * time.Millisecond // heartbeat interval, broker and workers
	liveness = 3
	sendAt   = 10 * time.Millisecond // when the three clients send their request
	killAt   = 15 * time.Millisecond // when w1, holding c1's request, dies
)

// TestEndToEnd runs the real core machines on the network: one broker (frontend and
// backend), workers w1 and w2 for "echo", clients c1, c2, c3 sending one request each
// at sendAt. w1 gets c1's request and dies holding it; every request still succeeds,
// and each latency is exactly what the model predicts.
//
// Common timeline (virtual time from 0):
//   - 0: broker starts (its heartbeat ticks come at 100ms, 200ms, ...), w1 then w2
//     connect and send READY, which arrive at L=1ms: the LRU waiting list is [w1, w2].
//   - 10ms: c1, c2, c3 send (in that order); the requests reach the broker at 11ms:
//     c1's goes to w1, c2's to w2, c3's is queued. The REQUESTs reach the workers at 12ms.
//   - 15ms: w1 dies (no DISCONNECT).
//   - w2 replies to c2 at 12+S=22ms; the broker gets it at 23ms, passes it to c2 (24ms)
//     and gives w2 c3's queued request (24ms); w2 replies at 34ms, the broker at 35ms,
//     c3 at 36ms. Then w2 is idle.
//
// The two cases differ in how the broker learns that w1 is gone.
func TestEndToEnd(t *testing.T) {
	tests := []struct {
		name string
		// cut: the connection breaks (crash); otherwise the host hangs silently.
		cut         bool
		wantRemoved core.Reason
		// requeueAt is when the broker gives c1's request to w2.
		requeueAt time.Duration
	}{
		{
			// Crash: mem.Cut makes the router forget w1. The broker's first heartbeat
			// tick after the cut, at beat=100ms, sends HEARTBEAT to w1, which fails
			// with ErrUnreachable; the driver reports it, and the broker removes w1 and
			// requeues c1's request to the idle w2 at once, in the same instant.
			name:        "crash",
			cut:         true,
			wantRemoved: core.Unreachable,
			requeueAt:   beat,
		},
		{
			// Hang: the connection stays up but w1 says nothing more. Its last message,
			// READY, reached the broker at L=1ms, so it expires at L + liveness×beat =
			// 301ms and is purged at the first tick at or after that: 400ms.
			name:        "hang",
			cut:         false,
			wantRemoved: core.Silent,
			requeueAt:   (liveness + 1) * beat,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, b := runEndToEnd(t, tt.cut)
			want := map[string]reply{
				// c2: to the broker, to w2, service, back to the broker, to c2.
				"c2": {latency: 4*lat + service, by: "w2"}, // 14ms
				// c3: queued at 11ms until w2 is free at 23ms (after 2L + S), then the
				// same path as c2 from the broker on: L + S + L + L.
				"c3": {latency: 6*lat + 2*service, by: "w2"}, // 26ms
				// c1: sent at sendAt; re-dispatched at requeueAt; then to w2, service,
				// back to the broker, to c1: 3L + S. Crash: 100-10+13 = 103ms;
				// hang: 400-10+13 = 403ms (both within the 1s client timeout: no retry).
				"c1": {latency: tt.requeueAt - sendAt + 3*lat + service, by: "w2"},
			}
			if d := cmp.Diff(want, got, cmp.AllowUnexported(reply{})); d != "" {
				t.Errorf("replies mismatch (-want +got):\n%s", d)
			}
			s := b.Stats()
			if s.Requeued != 1 || s.WorkersRemoved[tt.wantRemoved] != 1 || s.Answered != 3 {
				t.Errorf("broker stats: requeued %d, removed (%v) %d, answered %d; want 1, 1, 3",
					s.Requeued, tt.wantRemoved, s.WorkersRemoved[tt.wantRemoved], s.Answered)
			}
		})
	}
}

// reply is what a client got: the latency of its request and the worker that answered.
type reply struct {
	latency time.Duration
	by      string
}

// runEndToEnd runs the scenario for 2 virtual seconds and returns each client's reply.
func runEndToEnd(t *testing.T, cut bool) (map[string]reply, *core.Broker) {
	t.Helper()
	start := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := mem.NewClock(start)
	net := mem.NewNetwork(clock, mem.Config{Latency: lat})
	now := clock.Now

	b := core.NewBroker(core.BrokerConfig{HeartbeatInterval: beat, Liveness: liveness}, now())
	bh := &host{t: t, net: net, name: "broker", m: b, broker: b}
	for sock, addr := range []string{core.Frontend: "front", core.Backend: "back"} {
		sock := core.Socket(sock)
		r, err := net.Bind("broker", addr, func(from string, frames [][]byte) {
			b.Receive(now(), core.Peer{Socket: sock, ID: from}, frames)
			bh.pump()
		})
		if err != nil {
			t.Fatal(err)
		}
		bh.routers[sock] = r
	}
	bh.pump()

	workers := map[string]*host{}
	for _, name := range []string{"w1", "w2"} {
		w := core.NewWorker(core.WorkerConfig{Service: "echo", HeartbeatInterval: beat, Liveness: liveness})
		h := &host{t: t, net: net, name: name, addr: "back", m: w}
		h.recv = func(frames [][]byte) { w.Receive(now(), frames) }
		h.app = func(o core.Output) {
			if o.Kind != core.DeliverOutput {
				t.Errorf("%s: unexpected %v", name, o)
				return
			}
			// The application: answer with the request body and its own name after
			// the service time.
			body := append(slices.Clone(o.Body), []byte(name))
			clock.After(service, func() {
				if h.dead {
					return
				}
				w.Reply(now(), body)
				h.pump()
			})
		}
		workers[name] = h
		w.Start(now())
		h.pump()
	}

	got := map[string]reply{}
	for _, name := range []string{"c1", "c2", "c3"} {
		c := core.NewClient(core.ClientConfig{})
		h := &host{t: t, net: net, name: name, addr: "front", m: c}
		h.recv = func(frames [][]byte) { c.Receive(now(), frames) }
		h.app = func(o core.Output) {
			if o.Kind != core.DeliverOutput {
				t.Errorf("%s: request failed: %v", name, o)
				return
			}
			if len(o.Body) != 2 || string(o.Body[0]) != "hello "+name {
				t.Errorf("%s: reply body %q", name, o.Body)
				return
			}
			got[name] = reply{latency: clock.Since() - sendAt, by: string(o.Body[1])}
		}
		// A client opens its connection before its first request.
		h.exec(core.Output{Kind: core.ConnectOutput})
		clock.At(start.Add(sendAt), func() {
			c.Request(now(), "echo", [][]byte{[]byte("hello " + name)})
			h.pump()
		})
	}

	clock.At(start.Add(killAt), func() {
		w1 := workers["w1"]
		if !w1.m.(*core.Worker).Busy() {
			t.Errorf("w1 holds no request when killed")
		}
		w1.dead = true
		w1.timer.Stop()
		if cut {
			net.Cut(w1.conn)
		}
	})
	clock.RunUntil(start.Add(2 * time.Second))
	return got, b
}
