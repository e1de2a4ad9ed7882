package mem

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// Errors returned by the network. Send returns them unwrapped, so that the hot path
// does not allocate; match them with errors.Is.
var (
	// ErrClosed: the endpoint was closed, or its connection was cut.
	ErrClosed = errors.New("mem: closed")
	// ErrUnreachable: a router has no open connection with that identity
	// (ZMQ_ROUTER_MANDATORY semantics).
	ErrUnreachable = errors.New("mem: unreachable")
	// ErrAddrInUse: a router is already bound at the address.
	ErrAddrInUse = errors.New("mem: address in use")
	// ErrInvalid: an empty address or node name, or the wildcard "*" as a node name.
	ErrInvalid = errors.New("mem: invalid name")
)

// Config configures a Network. The zero value is an instant, lossless network.
type Config struct {
	// Latency is the one-way base latency of every message. Zero: messages arrive at
	// the instant they were sent (still as a separate event, after the sender's).
	Latency time.Duration
	// Jitter adds a latency drawn uniformly from [0, Jitter) to every message.
	Jitter time.Duration
	// Rand is the source of every random draw: jitter and random link faults. It is
	// needed when Jitter > 0 or random faults are set; nil means a PCG seeded (0, 0),
	// so a run stays deterministic even then.
	Rand *rand.Rand
}

// Network is an in-memory network of ROUTER and DEALER endpoints on a Clock. See the
// package doc for its contract. Like the Clock, it is owned by one goroutine.
type Network struct {
	clock *Clock
	cfg   Config
	rng   *rand.Rand

	ports map[string]*port
	nodes map[string]*node
	free  *delivery // free list of delivery records
	msgs  uint64    // message IDs handed out

	filter func(*Envelope) Verdict
	trace  func(*Envelope, Cause)
	links  map[linkKey]Faults
	parts  map[linkKey]struct{}
	stats  Stats
}

// node is a named host; its id keys partitions and link faults (0 is the wildcard).
type node struct {
	name  string
	id    int32
	conns int // connections opened from this node, for identities
}

// port is an address: the router bound there, if any, and every open dealer
// connected to it. It outlives routers, so dealers reach the next router bound there.
type port struct {
	addr    string
	router  *Router
	dealers map[string]*Dealer
}

// Router is a ROUTER endpoint bound at an address.
type Router struct {
	net    *Network
	port   *port
	node   *node
	h      func(from string, frames [][]byte)
	closed bool
}

// The states of a Dealer.
const (
	dealerOpen = iota
	dealerClosed
	dealerCut
)

// Dealer is one DEALER connection from a node to an address.
type Dealer struct {
	net   *Network
	port  *port
	node  *node
	id    string
	h     func(frames [][]byte)
	state uint8
	up    int64 // delivery time of the last message scheduled towards the router
	down  int64 // delivery time of the last message scheduled towards the dealer
}

// delivery is one message in flight: its Envelope and the endpoints it travels
// between. Records are pooled on a free list, so sending does not allocate.
type delivery struct {
	Envelope
	net    *Network
	dealer *Dealer
	router *Router
	next   *delivery
}

// NewNetwork returns an empty network on clock c.
func NewNetwork(c *Clock, cfg Config) *Network {
	rng := cfg.Rand
	if rng == nil {
		rng = rand.New(rand.NewPCG(0, 0))
	}
	return &Network{
		clock: c,
		cfg:   cfg,
		rng:   rng,
		ports: make(map[string]*port),
		nodes: map[string]*node{"*": {name: "*"}},
	}
}

// Clock returns the network's clock.
func (n *Network) Clock() *Clock { return n.clock }

// nodeFor returns the node named name, registering it on first use.
func (n *Network) nodeFor(name string) *node {
	if nd, ok := n.nodes[name]; ok {
		return nd
	}
	nd := &node{name: name, id: int32(len(n.nodes))}
	n.nodes[name] = nd
	return nd
}

// portFor returns the port at addr, creating it on first use.
func (n *Network) portFor(addr string) *port {
	if p, ok := n.ports[addr]; ok {
		return p
	}
	p := &port{addr: addr, dealers: make(map[string]*Dealer)}
	n.ports[addr] = p
	return p
}

// Bind makes a ROUTER endpoint at addr on node; h gets the identity of the sending
// connection and the frames of each message (a nil h discards them). It fails with
// ErrAddrInUse if a router is bound at addr. Dealers already connected to addr,
// including those of a closed router, can exchange messages with it at once.
func (n *Network) Bind(nodeName, addr string, h func(from string, frames [][]byte)) (*Router, error) {
	if nodeName == "" || nodeName == "*" || addr == "" {
		return nil, fmt.Errorf("mem: bind %q on %q: %w", addr, nodeName, ErrInvalid)
	}
	p := n.portFor(addr)
	if p.router != nil {
		return nil, fmt.Errorf("mem: bind %s: %w", addr, ErrAddrInUse)
	}
	r := &Router{net: n, port: p, node: n.nodeFor(nodeName), h: h}
	p.router = r
	return r, nil
}

// Connect makes a DEALER connection from node to addr with a fresh identity
// "<node>.<k>", k counting the node's connections from 1; h gets each message the
// router sends on it (a nil h discards them). No router need be bound at addr:
// messages sent while none is are dropped (CauseNoRouter), and they flow once one
// binds.
func (n *Network) Connect(nodeName, addr string, h func(frames [][]byte)) (*Dealer, error) {
	if nodeName == "" || nodeName == "*" || addr == "" {
		return nil, fmt.Errorf("mem: connect %q from %q: %w", addr, nodeName, ErrInvalid)
	}
	nd := n.nodeFor(nodeName)
	nd.conns++
	p := n.portFor(addr)
	d := &Dealer{
		net:  n,
		port: p,
		node: nd,
		id:   nodeName + "." + strconv.Itoa(nd.conns),
		h:    h,
	}
	p.dealers[d.id] = d
	return d, nil
}

// Send sends frames to the connection with identity to. It returns ErrClosed after
// Close and ErrUnreachable when no open connection has that identity; a message that
// is accepted may still be lost to a fault. Frames are not copied: the caller must
// not modify them after Send, and receivers must not modify what they get.
func (r *Router) Send(to string, frames [][]byte) error {
	if r.closed {
		return ErrClosed
	}
	d := r.port.dealers[to]
	if d == nil {
		return ErrUnreachable
	}
	r.net.send(d, r, false, frames)
	return nil
}

// Close unbinds the router. Messages in flight to or from it are lost
// (CauseClosed); a router bound later at the same address gets the connections.
func (r *Router) Close() {
	if r.closed {
		return
	}
	r.closed = true
	if r.port.router == r {
		r.port.router = nil
	}
}

// Node returns the node the router is bound on.
func (r *Router) Node() string { return r.node.name }

// Addr returns the address the router is bound at.
func (r *Router) Addr() string { return r.port.addr }

// Connected reports whether an open connection with identity id is at the router's
// address.
func (r *Router) Connected(id string) bool {
	return !r.closed && r.port.dealers[id] != nil
}

// Send sends frames to the router bound at the dealer's address. It returns ErrClosed
// after Close or Cut; with no router bound the message is dropped (CauseNoRouter) and
// Send returns nil, as ZeroMQ does not report it either. Frames are not copied: the
// caller must not modify them after Send.
func (d *Dealer) Send(frames [][]byte) error {
	if d.state != dealerOpen {
		return ErrClosed
	}
	d.net.send(d, d.port.router, true, frames)
	return nil
}

// Close closes the connection. Messages in flight to it are dropped; those it sent
// before still arrive (they have left, as with ZeroMQ's linger), but the router can
// no longer answer on it.
func (d *Dealer) Close() {
	if d.state != dealerOpen {
		return
	}
	d.state = dealerClosed
	delete(d.port.dealers, d.id)
}

// Identity returns the connection's identity, as the router sees it.
func (d *Dealer) Identity() string { return d.id }

// Node returns the node the connection was made from.
func (d *Dealer) Node() string { return d.node.name }

// Addr returns the address the connection goes to.
func (d *Dealer) Addr() string { return d.port.addr }

// Closed reports whether the connection was closed or cut.
func (d *Dealer) Closed() bool { return d.state != dealerOpen }

// Cut breaks the connection as a network failure would: messages in flight in both
// directions are lost (CauseClosed), the dealer's further Sends fail with ErrClosed and
// the router forgets the identity (its Sends to it fail with ErrUnreachable). Neither
// side is told. Cut of a closed dealer does nothing.
func (n *Network) Cut(d *Dealer) {
	if d == nil || d.state != dealerOpen {
		return
	}
	d.state = dealerCut
	delete(d.port.dealers, d.id)
}

// alloc returns a cleared delivery record from the free list, or a new one.
func (n *Network) alloc() *delivery {
	d := n.free
	if d == nil {
		return &delivery{net: n}
	}
	n.free = d.next
	d.next = nil
	return d
}

// release clears d and puts it back on the free list.
func (n *Network) release(d *delivery) {
	*d = delivery{net: n, next: n.free}
	n.free = d
}

// send runs one message through the faults and schedules its delivery. r is nil when
// a dealer sends with no router bound.
func (n *Network) send(dl *Dealer, r *Router, toRouter bool, frames [][]byte) {
	n.stats.Sent++
	n.msgs++
	d := n.alloc()
	d.dealer, d.router = dl, r
	d.ID = n.msgs
	d.Identity = dl.id
	d.Addr = dl.port.addr
	d.ToRouter = toRouter
	d.Frames = frames
	from, to := dl.node, (*node)(nil)
	if r != nil {
		to = r.node
	}
	if !toRouter {
		from, to = to, from
	}
	d.FromNode = from.name
	if to != nil {
		d.ToNode = to.name
	}
	if r == nil {
		n.drop(d, CauseNoRouter)
		return
	}
	if len(n.parts) > 0 && n.partitioned(from.id, to.id) {
		n.drop(d, CausePartition)
		return
	}
	var extra int64
	dup := false
	if n.filter != nil {
		switch v := n.filter(&d.Envelope); {
		case v == Drop:
			n.drop(d, CauseFilter)
			return
		case v == Duplicate:
			dup = true
		case v > 0:
			extra += int64(v)
		}
	}
	if len(n.links) > 0 {
		if f, ok := n.linkFaults(from.id, to.id); ok {
			if f.Drop > 0 && n.rng.Float64() < f.Drop {
				n.drop(d, CauseLink)
				return
			}
			if f.Duplicate > 0 && n.rng.Float64() < f.Duplicate {
				dup = true
			}
			if f.DelayProb > 0 && f.Delay > 0 && n.rng.Float64() < f.DelayProb {
				extra += int64(f.Delay)
			}
		}
	}
	if extra > 0 {
		n.stats.Delayed++
	}
	if dup {
		n.stats.Duplicated++
		d2 := n.alloc()
		d2.Envelope, d2.dealer, d2.router = d.Envelope, d.dealer, d.router
		n.schedule(d, extra)
		n.schedule(d2, extra)
		return
	}
	n.schedule(d, extra)
}

// schedule puts d on the clock after the latency, a jitter draw and extra, but never
// before the previous message on the same connection and direction (FIFO).
func (n *Network) schedule(d *delivery, extra int64) {
	c := n.clock
	at := c.now + int64(n.cfg.Latency) + extra
	if n.cfg.Jitter > 0 {
		at += n.rng.Int64N(int64(n.cfg.Jitter))
	}
	last := &d.dealer.down
	if d.ToRouter {
		last = &d.dealer.up
	}
	if at < *last {
		at = *last
	}
	*last = at
	n.stats.InFlight++
	c.seq++
	c.push(item{at: at, seq: c.seq, d: d})
}

// deliver runs when a message's delivery time comes: it hands the message to its
// receiver unless the connection, the router or the link went away meanwhile.
func (n *Network) deliver(d *delivery) {
	n.stats.InFlight--
	dl, r := d.dealer, d.router
	var cause Cause
	switch {
	case r.closed, dl.state == dealerCut, !d.ToRouter && dl.state != dealerOpen:
		cause = CauseClosed
	case len(n.parts) > 0 && n.partitioned(dl.node.id, r.node.id):
		cause = CausePartition
	}
	if cause != 0 {
		n.drop(d, cause)
		return
	}
	n.stats.Delivered++
	if n.trace != nil {
		n.trace(&d.Envelope, 0)
	}
	frames, toRouter := d.Frames, d.ToRouter
	n.release(d)
	if toRouter {
		if r.h != nil {
			r.h(dl.id, frames)
		}
		return
	}
	if dl.h != nil {
		dl.h(frames)
	}
}

// drop counts a lost message, traces it and frees its record.
func (n *Network) drop(d *delivery, c Cause) {
	switch c {
	case CauseFilter:
		n.stats.DroppedFilter++
	case CauseLink:
		n.stats.DroppedLink++
	case CausePartition:
		n.stats.DroppedPartition++
	case CauseNoRouter:
		n.stats.DroppedNoRouter++
	case CauseClosed:
		n.stats.DroppedClosed++
	}
	if n.trace != nil {
		n.trace(&d.Envelope, c)
	}
	n.release(d)
}
