package sim

import (
	"errors"
	"strings"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// brokerNode drives core.Broker on node "broker": two routers, core.Frontend at
// address "front" and core.Backend at "back", and one timer at the broker's
// NextDeadline.
type brokerNode struct {
	r           *run
	cfg         core.BrokerConfig
	m           *core.Broker
	front, back *mem.Router
	timer       *mem.Timer
	fire        func()
	clk         nodeClock
	isUp        bool

	in        core.Peer // the peer whose message is being handled
	inBad     bool      // that message does not parse (guarantee 7 watches its outputs)
	inBadSent bool      // it caused more than an InputDropped event

	unreach []core.Peer // peers a send found gone: each is the broker's next input
	ups     int         // how many times the broker came up
}

func newBrokerNode(r *run) *brokerNode {
	b := &brokerNode{r: r, clk: newNodeClock()}
	policy := core.Requeue
	if r.sc.Broker.OnWorkerDeath == "fail" {
		policy = core.FailRequest
	}
	b.cfg = core.BrokerConfig{
		HeartbeatInterval: r.sc.Broker.Heartbeat,
		Liveness:          r.sc.Broker.Liveness,
		QueueLimit:        r.sc.Broker.QueueLimit,
		QueueExpiry:       r.sc.Broker.QueueExpiry,
		OnWorkerDeath:     policy,
		HoldLimit:         r.sc.Broker.HoldLimit,
	}
	b.fire = func() { b.advance() }
	return b
}

// localNow returns the broker's local time.
func (b *brokerNode) localNow() time.Time {
	return Epoch.Add(time.Duration(b.clk.local(int64(b.r.now()))))
}

// up starts a broker with empty state and binds its routers.
func (b *brokerNode) up() {
	b.m = core.NewBroker(b.cfg, b.localNow())
	front, err := b.r.net.Bind("broker", "front", func(from string, frames [][]byte) {
		b.receive(core.Frontend, from, frames)
	})
	if err != nil {
		panic("sim: bind front: " + err.Error()) // an internal invariant: the address is free
	}
	back, err := b.r.net.Bind("broker", "back", func(from string, frames [][]byte) {
		b.receive(core.Backend, from, frames)
	})
	if err != nil {
		panic("sim: bind back: " + err.Error())
	}
	b.front, b.back = front, back
	b.isUp = true
	b.r.chk.brokerUp()
	if b.ups++; b.ups > 1 && b.r.obs != nil {
		b.r.obs.BrokerRestarted(b.localNow())
	}
	b.unreach = b.unreach[:0]
	b.pump(time.Time{}, BrokerInput{})
}

// down kills the broker: its state is lost and its routers unbound.
func (b *brokerNode) down() {
	if !b.isUp {
		return
	}
	b.isUp = false
	b.front.Close()
	b.back.Close()
	if b.timer != nil {
		b.timer.Stop()
	}
	b.m = nil
	b.r.chk.brokerDown()
}

func (b *brokerNode) receive(s core.Socket, from string, frames [][]byte) {
	if !b.isUp {
		return
	}
	now := b.localNow()
	b.in = core.Peer{Socket: s, ID: from}
	b.inBad = false
	if strings.HasPrefix(from, hostileName+".") {
		_, err := core.Parse(frames)
		b.inBad = err != nil
		b.inBadSent = false
	}
	b.r.chk.brokerInput(now, b.in, frames)
	b.m.Receive(now, b.in, frames)
	b.pump(now, BrokerInput{Kind: InputMessage, Peer: b.in, Frames: frames})
	if b.inBad && b.inBadSent {
		b.r.violate(GMalformed, "a malformed message from "+b.in.String()+" changed what the broker did: it sent or changed state",
			formatTime(b.r.now())+" broker receive from "+b.in.String())
	}
	b.in = core.Peer{}
	b.inBad = false
}

func (b *brokerNode) advance() {
	if !b.isUp {
		return
	}
	now := b.localNow()
	if d := b.m.NextDeadline(); !d.IsZero() && now.Before(d) {
		now = d // rounding of a skewed clock: the timer fires when local time reaches d
	}
	b.m.Advance(now)
	b.pump(now, BrokerInput{Kind: InputAdvance})
}

// pump carries out the outputs of the broker's input in, in order, then re-arms its
// timer. A send that finds its peer gone (ZMQ_ROUTER_MANDATORY) makes
// Unreachable(peer) the broker's next input, after the outputs of this one; the
// observer sees each input with its own outputs. An input of kind 0 (the broker coming
// up) is not shown to the observer.
func (b *brokerNode) pump(now time.Time, in BrokerInput) {
	r := b.r
	first := true
	for {
		outs := b.m.Drain()
		if first && in.Kind != 0 && r.obs != nil {
			r.obs.BrokerStep(now, in, outs, b.m.Workers(), b.m.Services())
		}
		first = false
		if len(outs) == 0 {
			if len(b.unreach) == 0 {
				break
			}
			p := b.unreach[0]
			b.unreach = b.unreach[1:]
			now = b.localNow()
			b.m.Unreachable(now, p)
			in, first = BrokerInput{Kind: InputUnreachable, Peer: p}, true
			continue
		}
		at := r.now()
		for i := range outs {
			o := &outs[i]
			r.tr.output(at, brokerIdx, o)
			if b.inBad && !(o.Kind == core.EventOutput && o.Event == core.InputDropped) {
				b.inBadSent = true
			}
			switch o.Kind {
			case core.SendOutput:
				b.send(o)
			case core.EventOutput:
				r.chk.brokerEvent(o)
				r.m.brokerEvent(o)
			}
		}
	}
	r.chk.brokerStepDone()
	b.arm()
}

func (b *brokerNode) send(o *core.Output) {
	r := b.r
	r.m.messages[(o.Protocol-1)&1][o.Command&7]++
	r.chk.brokerSend(o)
	rt := b.front
	if o.To.Socket == core.Backend {
		rt = b.back
	}
	if err := rt.Send(o.To.ID, o.Frames); err != nil {
		if errors.Is(err, mem.ErrUnreachable) {
			// ZMQ_ROUTER_MANDATORY: the peer's connection is gone; the broker learns it
			// once the outputs of this input are out.
			b.unreach = append(b.unreach, o.To)
		}
	}
}

// arm sets the timer to the broker's next deadline.
func (b *brokerNode) arm() {
	d := b.m.NextDeadline()
	if d.IsZero() {
		if b.timer != nil {
			b.timer.Stop()
		}
		return
	}
	v := Epoch.Add(time.Duration(b.clk.virtual(int64(d.Sub(Epoch)))))
	switch {
	case b.timer == nil:
		b.timer = b.r.clock.At(v, b.fire)
	case !b.timer.Pending() || !b.timer.When().Equal(v):
		b.timer.Reset(v)
	}
}
