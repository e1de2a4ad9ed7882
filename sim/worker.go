package sim

import (
	"math/rand/v2"
	"slices"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// workerNode drives one core.Worker and its application: a handler that echoes the
// request body after a service time drawn from the service's distribution. A credit
// worker (ServiceSpec.Credit above 1) runs up to that many handlers at once, each
// replying when its own service time is over, in whatever order that gives.
//
// A crash leaves the connection open (the broker hears nothing more, as when a host
// dies); a restart closes it, as an exiting process does, and starts a new
// core.Worker on a new connection; a pause freezes the node: messages wait in its
// queue, timers and the handler stand still, until it resumes.
type workerNode struct {
	r       *run
	idx     int
	name    string
	service string
	dist    Dist
	cfg     core.WorkerConfig
	m       *core.Worker
	rng     *rand.Rand
	clk     nodeClock
	dealer  *mem.Dealer
	gen     uint64 // connection generation: a handler of an older one ignores messages
	inc     uint64 // incarnation: application timers of an older one do nothing
	timer   *mem.Timer
	fire    func()
	crashed bool
	paused  bool
	queued  [][][]byte // messages that arrived while paused

	apps []*app // handlers running, in delivery order
}

// app is one handler at work on a request.
type app struct {
	n     uint64 // the worker's number for the request (DeliverOutput.Seq)
	body  [][]byte
	timer *mem.Timer
	due   bool // the reply came due while paused
}

func newWorkerNode(r *run, idx int, name string, sv ServiceSpec) *workerNode {
	w := &workerNode{
		r: r, idx: idx, name: name, service: sv.Name, dist: sv.Time,
		rng: r.streams.Stream("service/" + name),
		clk: newNodeClock(),
		cfg: core.WorkerConfig{
			Service:           sv.Name,
			HeartbeatInterval: r.sc.Worker.Heartbeat,
			Liveness:          r.sc.Worker.Liveness,
			ReconnectInitial:  r.sc.Worker.ReconnectInitial,
			ReconnectMax:      r.sc.Worker.ReconnectMax,
			Credit:            sv.Credit,
		},
	}
	w.fire = func() { w.advance() }
	return w
}

func (w *workerNode) localNow() time.Time {
	return Epoch.Add(time.Duration(w.clk.local(int64(w.r.now()))))
}

// start runs a new incarnation of the worker process.
func (w *workerNode) start() {
	w.inc++
	w.crashed, w.paused, w.queued, w.apps = false, false, nil, nil
	w.m = core.NewWorker(w.cfg)
	w.m.Start(w.localNow())
	w.pump()
}

// crash stops the process without a word: no DISCONNECT, the connection stays open
// but nobody reads it.
func (w *workerNode) crash() {
	if w.crashed {
		return
	}
	w.crashed = true
	w.stopTimers()
}

// kill ends the process as SIGKILL does: no DISCONNECT, and its connection breaks
// (messages in flight are lost, the broker's sends to it fail).
func (w *workerNode) kill() {
	w.crash()
	if w.dealer != nil {
		w.r.net.Cut(w.dealer)
	}
}

// stop ends the process politely: the worker sends DISCONNECT, then nothing more.
func (w *workerNode) stop() {
	if w.crashed || w.paused {
		return
	}
	w.m.Stop(w.localNow())
	w.pump()
	w.crash()
}

// restart ends the process (its connection closes) and starts a new one.
func (w *workerNode) restart() {
	w.stopTimers()
	if w.dealer != nil {
		w.dealer.Close()
		w.dealer = nil
	}
	w.start()
}

// pause freezes the process until resume.
func (w *workerNode) pause() {
	if w.crashed || w.paused {
		return
	}
	w.paused = true
}

// resume thaws a paused process: queued messages first, then its due timers.
func (w *workerNode) resume() {
	if !w.paused || w.crashed {
		return
	}
	w.paused = false
	q := w.queued
	w.queued = nil
	for _, f := range q {
		w.m.Receive(w.localNow(), f)
		w.pump()
	}
	w.advance()
	for _, a := range slices.Clone(w.apps) {
		if a.due {
			a.due = false
			w.reply(a)
		}
	}
}

func (w *workerNode) stopTimers() {
	if w.timer != nil {
		w.timer.Stop()
	}
	for _, a := range w.apps {
		a.timer.Stop()
	}
}

func (w *workerNode) receive(gen uint64, frames [][]byte) {
	if gen != w.gen || w.crashed {
		return
	}
	if w.paused {
		w.queued = append(w.queued, frames)
		return
	}
	w.m.Receive(w.localNow(), frames)
	w.pump()
}

func (w *workerNode) advance() {
	if w.crashed || w.paused {
		return
	}
	now := w.localNow()
	if d := w.m.NextDeadline(); !d.IsZero() && now.Before(d) {
		now = d
	}
	w.m.Advance(now)
	w.pump()
}

// reply is the application answering the request a handled.
func (w *workerNode) reply(a *app) {
	if w.crashed {
		return
	}
	if w.paused {
		a.due = true
		return
	}
	i := slices.Index(w.apps, a)
	if i < 0 {
		return
	}
	w.apps = slices.Delete(w.apps, i, i+1)
	w.m.ReplyTo(w.localNow(), a.n, a.body)
	w.pump()
}

func (w *workerNode) pump() {
	r := w.r
	for {
		outs := w.m.Drain()
		if len(outs) == 0 {
			break
		}
		at := r.now()
		for i := range outs {
			o := &outs[i]
			r.tr.output(at, w.idx, o)
			switch o.Kind {
			case core.SendOutput:
				r.m.messages[1][o.Command&7]++
				if w.dealer != nil {
					// ErrClosed after a Cut: the message is lost, as on a broken socket.
					_ = w.dealer.Send(o.Frames)
				}
			case core.ConnectOutput:
				w.connect()
			case core.DeliverOutput:
				w.handle(o)
			}
		}
	}
	w.arm()
}

func (w *workerNode) connect() {
	if w.dealer != nil {
		w.dealer.Close()
	}
	w.gen++
	gen := w.gen
	d, err := w.r.net.Connect(w.name, "back", func(frames [][]byte) { w.receive(gen, frames) })
	if err != nil {
		panic("sim: connect: " + err.Error()) // an internal invariant: names are valid
	}
	w.dealer = d
}

// handle starts the application on a request: the reply goes out after the drawn
// service time (or the slow-handler time under that fault).
func (w *workerNode) handle(o *core.Output) {
	r := w.r
	r.handled++
	s := w.dist.Sample(w.rng)
	if d, ok := r.faults.slow(r.handled, w); ok {
		s = d
	}
	r.chk.workerHandles(o.Body, s)
	a := &app{n: o.Seq, body: o.Body}
	if r.opt.SignReplies {
		a.body = append(slices.Clip(o.Body), []byte(w.name))
	}
	a.timer = r.clock.At(r.clock.Now().Add(s), func() { w.reply(a) })
	w.apps = append(w.apps, a)
}

func (w *workerNode) arm() {
	d := w.m.NextDeadline()
	if d.IsZero() {
		if w.timer != nil {
			w.timer.Stop()
		}
		return
	}
	v := Epoch.Add(time.Duration(w.clk.virtual(int64(d.Sub(Epoch)))))
	switch {
	case w.timer == nil:
		w.timer = w.r.clock.At(v, w.fire)
	case !w.timer.Pending() || !w.timer.When().Equal(v):
		w.timer.Reset(v)
	}
}
