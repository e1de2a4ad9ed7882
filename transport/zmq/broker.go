package zmq

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// The default broker endpoints, as in ebwrkapi.
const (
	DefaultFrontend = "tcp://*:5555"
	DefaultBackend  = "tcp://*:5556"
)

// NoBackend as BrokerOptions.Backend makes the broker serve clients and workers on
// its frontend endpoint alone, as a single-endpoint MDP broker does.
const NoBackend = "-"

// ErrBrokerRun is returned by Run when it is called a second time.
var ErrBrokerRun = errors.New("zmq: broker already ran")

// BrokerOptions configures a Broker. The zero value gives ebwrkapi's defaults.
type BrokerOptions struct {
	// Frontend is the endpoint bound for clients. Empty means DefaultFrontend.
	Frontend string
	// Backend is the endpoint bound for workers. Empty means DefaultBackend;
	// NoBackend means none. Either endpoint accepts both sub-protocols (the header
	// frame tells them apart): both are bound by one ROUTER socket (see the package
	// doc).
	Backend string
	// Config configures the protocol (heartbeat, liveness, queue bound and expiry,
	// what happens to the request of a dead worker). Zero fields mean core's defaults.
	Config core.BrokerConfig
	// HighWaterMark bounds the messages queued per peer in each direction. A message
	// to a peer at the mark is not delivered: it is counted and reported, but the peer
	// stays (it is slow, not gone). Zero means 10000.
	HighWaterMark int
	// Linger bounds how long the stop waits to flush the last messages (failure
	// replies to clients, DISCONNECT to workers). Zero means one second; negative
	// means not at all.
	Linger time.Duration
	// Logger receives the broker's log: endpoints bound, workers joining and leaving,
	// refused input and failed requests at Info and Warn, every request at Debug.
	// Nil means no log.
	Logger *slog.Logger
	// OnEvent, when set, is called on the broker's goroutine with every event of
	// core.Broker and every message the broker could not deliver. It must not block
	// and must not keep the event's frames.
	OnEvent func(Event)
	// Curve, when set, turns CURVE on for both endpoints (curve.go): plain peers get
	// nothing through, and each message reaches the core with its peer's key, which
	// Config.Access checks. ROUTER_HANDOVER is then off, so that no peer can take
	// over another's identity.
	Curve *BrokerCurve
}

// BrokerStats counts what a Broker did: the protocol's counters and the driver's.
type BrokerStats struct {
	core.BrokerStats
	// Undeliverable counts messages ZeroMQ refused to route: the peer was gone
	// (EHOSTUNREACH; each such peer was passed to core.Broker.Unreachable, which
	// removes a worker), or it was at its high-water mark.
	Undeliverable uint64
	// Full counts the undeliverable messages refused because the peer was at its
	// high-water mark (EAGAIN): the message was dropped and the peer kept.
	Full uint64
}

// Broker is the ebwrk broker on ZeroMQ: core.Broker driven by the wall clock on one
// ROUTER socket bound to one or two endpoints. NewBroker binds; Run serves until its
// context ends. The methods of Broker are safe for concurrent use; the socket
// belongs to Run's goroutine.
type Broker struct {
	opts    BrokerOptions
	zctx    *zmq4.Context
	sock    *zmq4.Socket // the ROUTER bound to both endpoints
	frontEP string
	backEP  string  // empty with NoBackend
	kicker  *kicker // wakes the loop
	kickID  string  // the routing identity of the kicker's messages
	core    *core.Broker
	log     *eventLog
	scratch recvScratch
	out     sendScratch
	ids     identities
	keys    identities    // the CURVE keys of peers, interned
	zapDone chan struct{} // closed when the ZAP handler has ended; nil without CURVE
	undeliv atomic.Uint64
	full    atomic.Uint64
	pending atomic.Int32 // queries waiting, so the loop locks mu only when needed
	mu      sync.Mutex   // guards state and queries
	state   brokerState
	queries []func(*core.Broker)
}

type brokerState uint8

const (
	brokerBound   brokerState = iota // socket bound, Run not called
	brokerRunning                    // Run's loop owns the socket and the core
	brokerStopped                    // socket closed
)

// NewBroker opens and binds the broker's socket, so that a bad or busy endpoint is
// an error here and not in Run. The broker's clock starts now. Call Run to serve, or
// Close to release the socket without serving.
func NewBroker(opts BrokerOptions) (*Broker, error) {
	if opts.Frontend == "" {
		opts.Frontend = DefaultFrontend
	}
	if opts.Backend == "" {
		opts.Backend = DefaultBackend
	}
	if opts.HighWaterMark <= 0 {
		opts.HighWaterMark = defaultHWM
	}
	switch {
	case opts.Linger == 0:
		opts.Linger = defaultLinger
	case opts.Linger < 0:
		opts.Linger = 0
	}
	zctx, err := newContext()
	if err != nil {
		return nil, err
	}
	b := &Broker{
		opts: opts,
		zctx: zctx,
		core: core.NewBroker(opts.Config, time.Now()),
		log:  newEventLog(opts.Logger, opts.OnEvent),
		ids:  newIdentities(),
		keys: newIdentities(),
	}
	if err := b.open(); err != nil {
		return nil, errors.Join(err, b.release())
	}
	return b, nil
}

// open creates the ROUTER socket, binds it to the frontend and the backend endpoint
// and connects the kicker.
func (b *Broker) open() error {
	s, err := newSocket(b.zctx, zmq4.ROUTER, b.opts.HighWaterMark, b.opts.Linger)
	if err != nil {
		return err
	}
	b.sock = s
	if b.opts.Curve != nil {
		if err := b.startCurve(s); err != nil {
			return err
		}
	}
	// ROUTER_MANDATORY: an undeliverable message is an error we count and report,
	// never a silent drop. Handover lets a client that reconnects with a fixed
	// identity (a Lazy Pirate REQ client) take its identity over at once.
	if err := s.SetRouterMandatory(1); err != nil {
		return fmt.Errorf("zmq: set ROUTER_MANDATORY: %w", err)
	}
	if err := s.SetRouterHandover(b.opts.Curve == nil); err != nil {
		return fmt.Errorf("zmq: set ROUTER_HANDOVER: %w", err)
	}
	if b.frontEP, err = b.bind(b.opts.Frontend); err != nil {
		return err
	}
	if b.opts.Backend != NoBackend {
		if b.backEP, err = b.bind(b.opts.Backend); err != nil {
			return err
		}
	}
	b.kicker, b.kickID, err = newRouterKicker(b.zctx, s)
	return err
}

// bind binds the ROUTER to ep and returns the endpoint it got.
func (b *Broker) bind(ep string) (string, error) {
	if err := b.sock.Bind(ep); err != nil {
		return "", fmt.Errorf("zmq: bind %s: %w", ep, err)
	}
	got, err := b.sock.GetLastEndpoint()
	if err != nil {
		return "", fmt.Errorf("zmq: endpoint of %s: %w", ep, err)
	}
	return got, nil
}

// release closes whatever is open and terminates the context, waiting at most the
// linger for the last messages to leave.
func (b *Broker) release() error {
	var errs []error
	if b.kicker != nil {
		errs = append(errs, b.kicker.close())
	}
	if b.sock != nil {
		if err := b.sock.Close(); err != nil {
			errs = append(errs, fmt.Errorf("zmq: close broker socket: %w", err))
		}
	}
	if err := b.zctx.Term(); err != nil {
		errs = append(errs, fmt.Errorf("zmq: terminate context: %w", err))
	}
	if b.zapDone != nil {
		<-b.zapDone
	}
	return errors.Join(errs...)
}

// Frontend returns the frontend endpoint as bound, with the port
// ZeroMQ chose for a "*" port (e.g. "tcp://127.0.0.1:40123").
func (b *Broker) Frontend() string { return b.frontEP }

// Backend returns the backend endpoint as bound, or the frontend's
// with NoBackend: the endpoint workers should connect to.
func (b *Broker) Backend() string {
	if b.backEP == "" {
		return b.frontEP
	}
	return b.backEP
}

// Run serves until ctx ends, then stops cleanly: core.Broker.Shutdown fails every
// queued and held request (ebwrk clients get a failure reply), every worker gets
// DISCONNECT, and the socket closes after at most the linger to flush them. Run
// returns nil after a stop by ctx, or the socket error that ended it. A broker runs
// once.
func (b *Broker) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.state != brokerBound {
		b.mu.Unlock()
		return ErrBrokerRun
	}
	b.state = brokerRunning
	b.mu.Unlock()
	b.log.listening(b.Frontend(), b.backEP)

	err := b.loop(ctx)

	now := time.Now()
	b.core.Shutdown(now)
	b.flush(now)
	b.mu.Lock()
	b.state = brokerStopped
	b.runQueriesLocked()
	b.mu.Unlock()
	st := b.Stats()
	if rerr := b.release(); rerr != nil {
		err = errors.Join(err, rerr)
	}
	b.log.stopped(st)
	return err
}

// Close releases the socket of a broker that never ran; after Run it does nothing.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != brokerBound {
		return nil
	}
	b.state = brokerStopped
	return b.release()
}

// Stats returns the broker's counters.
func (b *Broker) Stats() BrokerStats {
	var st BrokerStats
	b.query(func(c *core.Broker) { st.BrokerStats = c.Stats() })
	st.Undeliverable = b.undeliv.Load()
	st.Full = b.full.Load()
	return st
}

// Workers returns the registered workers in the order they joined.
func (b *Broker) Workers() []core.WorkerInfo {
	var ws []core.WorkerInfo
	b.query(func(c *core.Broker) { ws = c.Workers() })
	return ws
}

// Services returns the services that exist, sorted by name.
func (b *Broker) Services() []core.ServiceInfo {
	var ss []core.ServiceInfo
	b.query(func(c *core.Broker) { ss = c.Services() })
	return ss
}

// query runs f on the core: on the loop's goroutine while Run serves, else at once.
func (b *Broker) query(f func(*core.Broker)) {
	b.mu.Lock()
	if b.state != brokerRunning {
		f(b.core)
		b.mu.Unlock()
		return
	}
	done := make(chan struct{})
	b.queries = append(b.queries, func(c *core.Broker) { f(c); close(done) })
	b.pending.Add(1)
	b.mu.Unlock()
	b.kicker.kick()
	<-done
}

// runQueriesLocked runs the waiting queries; b.mu is held.
func (b *Broker) runQueriesLocked() {
	for _, f := range b.queries {
		f(b.core)
	}
	clear(b.queries)
	b.queries = b.queries[:0]
	b.pending.Store(0)
}
