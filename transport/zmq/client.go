package zmq

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// ClientOptions configures a Client. The zero value gives the defaults.
type ClientOptions struct {
	// Timeout is how long one attempt waits for its reply. Zero means 1000 ms
	// (core.DefaultTimeout).
	Timeout time.Duration
	// Attempts is how many times a request is sent in all, the first send included,
	// so a request fails at most Attempts × Timeout after it was sent. Zero means 3
	// (core.DefaultAttempts); 1 means no retry.
	Attempts int
	// Standard makes the client work with any MDP/0.1 broker: no ebwrk envelope, one
	// request on the wire at a time (others wait their turn) and a new connection for
	// each retry, as RFC 7 recommends. Broker-made failures cannot reach a standard
	// client; such requests time out.
	Standard bool
	// HighWaterMark bounds the messages queued on the connection in each direction.
	// Zero means 10000.
	HighWaterMark int
}

// ClientStats counts what a Client did.
type ClientStats struct {
	core.ClientStats
	// Unsent counts messages ZeroMQ would not queue (the connection was at its
	// high-water mark); their requests recover by their own retry or timeout.
	Unsent uint64
}

// Client sends requests to services through a broker, on one DEALER connection. It is
// safe for concurrent use by many goroutines: their requests are pipelined on the
// connection and told apart by their sequence numbers (core.Client). One goroutine
// owns the socket; Request hands it the work and waits for the outcome.
type Client struct {
	endpoint string
	cfg      core.ClientConfig
	hwm      int
	zctx     *zmq4.Context
	dealer   *zmq4.Socket // owned by the loop
	waiter   *sockWaiter  // the loop waits in it; Request kicks it

	mu      sync.Mutex
	pending []*call // handed to the loop, not yet taken
	closed  bool

	done   chan struct{}    // closed when the loop has ended
	err    error            // why the loop ended; read after done
	final  core.ClientStats // the counters when the loop ended; read after done
	unsent atomic.Uint64
}

// call is one Request on its way through the loop, or a query of the core.
type call struct {
	service string
	body    [][]byte
	query   func(*core.Client)
	result  chan result // buffered: the loop never waits for the caller
}

type result struct {
	body [][]byte
	err  error
}

// NewClient connects a client to the broker at endpoint (e.g.
// "tcp://127.0.0.1:5555"). ZeroMQ connects in the background and reconnects by
// itself, so a broker that is not up yet is not an error.
func NewClient(endpoint string, opts ClientOptions) (*Client, error) {
	if opts.HighWaterMark <= 0 {
		opts.HighWaterMark = defaultHWM
	}
	zctx, err := zmq4.NewContext()
	if err != nil {
		return nil, fmt.Errorf("zmq: new context: %w", err)
	}
	c := &Client{
		endpoint: endpoint,
		cfg:      core.ClientConfig{Timeout: opts.Timeout, Attempts: opts.Attempts, Standard: opts.Standard},
		hwm:      opts.HighWaterMark,
		zctx:     zctx,
		done:     make(chan struct{}),
	}
	if c.dealer, err = c.connect(); err != nil {
		return nil, errors.Join(err, zctx.Term())
	}
	if c.waiter, err = newSockWaiter(zctx, c.dealer); err != nil {
		return nil, errors.Join(err, c.dealer.Close(), zctx.Term())
	}
	go c.loop()
	return c, nil
}

// connect opens a new DEALER to the endpoint: the client's connection, and a new
// identity at the broker.
func (c *Client) connect() (*zmq4.Socket, error) {
	s, err := newSocket(c.zctx, zmq4.DEALER, c.hwm, 0)
	if err != nil {
		return nil, err
	}
	if err := s.Connect(c.endpoint); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: connect %s: %w", c.endpoint, err), s.Close())
	}
	return s, nil
}

// Request sends a request with the given body frames to service and returns the
// reply's body frames. It fails with a *RequestError (errors.Is ErrTimeout or
// ErrRefused), with ctx's error when ctx ends first, or with ErrClosed. The body is
// copied, so the caller may reuse it at once.
func (c *Client) Request(ctx context.Context, service string, body ...[]byte) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zmq: request to %s: %w", service, err)
	}
	k := &call{service: service, body: copyFrames(body), result: make(chan result, 1)}
	if !c.submit(k) {
		return nil, ErrClosed
	}
	select {
	case r := <-k.result:
		return r.body, r.err
	case <-ctx.Done():
		// The request goes on in the core until it ends (core.Client cannot cancel
		// it); its outcome is then dropped.
		return nil, fmt.Errorf("zmq: request to %s: %w", service, ctx.Err())
	}
}

// submit hands k to the loop and wakes it; false when the client is closed.
func (c *Client) submit(k *call) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return false
	}
	c.pending = append(c.pending, k)
	c.mu.Unlock()
	c.waiter.kick()
	return true
}

// Close ends the client: requests still outstanding fail with ErrClosed and the
// connection closes at once. Close waits for the loop to end and returns its error.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.waiter.kick()
	<-c.done
	return c.err
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	var st ClientStats
	k := &call{query: func(cc *core.Client) { st.ClientStats = cc.Stats() }, result: make(chan result, 1)}
	if c.submit(k) {
		<-k.result
	} else {
		<-c.done
		st.ClientStats = c.final
	}
	st.Unsent = c.unsent.Load()
	return st
}

// copyFrames copies frames into one new buffer.
func copyFrames(frames [][]byte) [][]byte {
	n := 0
	for _, f := range frames {
		n += len(f)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(frames))
	for i, f := range frames {
		buf = append(buf, f...)
		out[i] = buf[len(buf)-len(f) : len(buf) : len(buf)]
	}
	return out
}
