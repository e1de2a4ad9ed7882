package conformance

import (
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// The addresses and node of the broker on the in-memory network.
const (
	BrokerNode   = "broker"
	FrontendAddr = "front"
	BackendAddr  = "back"
)

// MemBroker drives a core.Broker on a mem.Network, as core's package doc says: it
// binds a frontend and a backend ROUTER on node BrokerNode, feeds every message and
// every deadline to the broker, carries out its outputs, and shows every step to a
// Checker. A panic of the broker is caught and reported as a guarantee 7 violation;
// the broker is then dead and ignores everything.
type MemBroker struct {
	net     *mem.Network
	cfg     core.BrokerConfig
	b       *core.Broker
	k       *Checker
	routers [2]*mem.Router
	timer   *mem.Timer
	unreach []core.Peer
	dead    bool
	// Trace, when set, gets one line per output of the broker.
	Trace func(line string)
}

// NewMemBroker starts a broker with cfg at the clock's current time, checked by k.
func NewMemBroker(net *mem.Network, cfg core.BrokerConfig, k *Checker) (*MemBroker, error) {
	mb := &MemBroker{net: net, cfg: cfg, k: k}
	if err := mb.up(); err != nil {
		return nil, err
	}
	return mb, nil
}

func (mb *MemBroker) now() time.Time { return mb.net.Clock().Now() }

// up makes a new broker and binds its sockets.
func (mb *MemBroker) up() error {
	mb.b = core.NewBroker(mb.cfg, mb.now())
	mb.dead = false
	for sock, addr := range [...]string{core.Frontend: FrontendAddr, core.Backend: BackendAddr} {
		sock := core.Socket(sock)
		r, err := mb.net.Bind(BrokerNode, addr, func(from string, frames [][]byte) {
			p := core.Peer{Socket: sock, ID: from}
			mb.step(Input{Kind: InputMessage, Peer: p, Frames: frames}, func() { mb.b.Receive(mb.now(), p, frames) })
		})
		if err != nil {
			return fmt.Errorf("conformance: bind %s: %w", addr, err)
		}
		mb.routers[sock] = r
	}
	mb.arm()
	return nil
}

// Restart crashes the broker (its state is lost, nothing is sent) and starts a new
// one on the same addresses: connected dealers reach the new broker.
func (mb *MemBroker) Restart() error {
	mb.Stop()
	mb.k.BrokerRestarted()
	return mb.up()
}

// Stop crashes the broker: it unbinds and its state is lost.
func (mb *MemBroker) Stop() {
	for _, r := range mb.routers {
		if r != nil {
			r.Close()
		}
	}
	if mb.timer != nil {
		mb.timer.Stop()
	}
	mb.dead = true
}

// Broker returns the core broker in use.
func (mb *MemBroker) Broker() *core.Broker { return mb.b }

// step runs one broker input, shows it to the checker and carries out its outputs.
func (mb *MemBroker) step(in Input, f func()) {
	if mb.dead {
		return
	}
	now := mb.now()
	if !mb.guard(now, in, f) {
		return
	}
	outs := mb.b.Drain()
	mb.k.BrokerStep(now, in, outs, mb.b.Workers(), mb.b.Services())
	for i := range outs {
		mb.exec(&outs[i])
	}
	for len(mb.unreach) > 0 {
		p := mb.unreach[0]
		mb.unreach = mb.unreach[1:]
		mb.step(Input{Kind: InputUnreachable, Peer: p}, func() { mb.b.Unreachable(mb.now(), p) })
	}
	mb.arm()
}

// guard runs f, turning a panic into a violation of guarantee 7 and a dead broker.
func (mb *MemBroker) guard(now time.Time, in Input, f func()) (ok bool) {
	defer func() {
		if p := recover(); p != nil {
			mb.k.violate(now, G7Malformed, "the broker panicked on %s: %v\n%s", inputString(in), p, debug.Stack())
			mb.Stop()
			ok = false
		}
	}()
	f()
	return true
}

func (mb *MemBroker) exec(o *core.Output) {
	if mb.Trace != nil {
		mb.Trace(o.String())
	}
	if o.Kind != core.SendOutput {
		return
	}
	err := mb.routers[o.To.Socket].Send(o.To.ID, o.Frames)
	switch {
	case errors.Is(err, mem.ErrUnreachable):
		// ROUTER_MANDATORY: the broker learns the peer is gone, after this step.
		mb.unreach = append(mb.unreach, o.To)
	case err != nil:
		mb.k.violate(mb.now(), L1Ledger, "send %v: %v", o, err)
	}
}

// arm sets the one timer at the broker's next deadline.
func (mb *MemBroker) arm() {
	if mb.dead {
		return
	}
	dl := mb.b.NextDeadline()
	if mb.timer == nil {
		mb.timer = mb.net.Clock().At(dl, mb.tick)
		return
	}
	mb.timer.Reset(dl)
}

func (mb *MemBroker) tick() {
	mb.step(Input{Kind: InputAdvance}, func() { mb.b.Advance(mb.now()) })
}
