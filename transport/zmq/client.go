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
	// Curve, when set, makes the connection CURVE (curve.go). Nil means plain.
	Curve *CurveKeys
	// Logger receives what goes wrong with the connection: a socket error that made
	// the client reconnect (Warn), and the error that ended it, if one does (Error).
	// Nil means no log.
	Logger *slog.Logger
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
// connection and told apart by their sequence numbers (core.Client). The loop that
// owns the socket runs on the goroutine of one of the callers, the leader, so a lone
// caller sends, waits and receives itself, with no hand-off to another goroutine;
// the others hand their requests to it and wait for their outcome, and one of them
// takes the loop over when the leader's own request ends (see the package doc).
type Client struct {
	endpoint string
	cfg      core.ClientConfig
	hwm      int
	curve    *CurveKeys
	log      *slog.Logger
	zctx     *zmq4.Context
	waiter   *sockWaiter // the leader waits in it; new requests kick it
	loop     *clientLoop // the loop's state, used by the leader alone

	mu      sync.Mutex
	pending []*call // handed in, not yet taken by the leader
	leading bool    // a goroutine leads the loop (or has ended it)
	closed  bool    // no more requests: Close was called or the loop failed
	cause   error   // why the loop failed, if it did; set with closed

	done   chan struct{}    // closed when the loop has ended for good
	err    error            // why the loop ended; read after done
	final  core.ClientStats // the counters when the loop ended; read after done
	unsent atomic.Uint64
}

// call is one Request on its way through the loop, or a query of the core.
type call struct {
	service string
	body    [][]byte
	query   func(*core.Client)
	result  chan result   // buffered: the loop never waits for the caller
	lead    chan struct{} // buffered: the caller is to lead the loop
	waiting bool          // guarded by Client.mu: the caller still waits for the outcome
	ended   bool          // the loop's: the outcome was sent
}

func newCall(service string, body [][]byte, query func(*core.Client)) *call {
	return &call{service: service, body: body, query: query, result: make(chan result, 1), lead: make(chan struct{}, 1)}
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
	zctx, err := newContext()
	if err != nil {
		return nil, err
	}
	c := &Client{
		endpoint: endpoint,
		cfg:      core.ClientConfig{Timeout: opts.Timeout, Attempts: opts.Attempts, Standard: opts.Standard},
		hwm:      opts.HighWaterMark,
		curve:    opts.Curve,
		log:      opts.Logger,
		zctx:     zctx,
		done:     make(chan struct{}),
	}
	dealer, err := c.connect()
	if err != nil {
		return nil, errors.Join(err, zctx.Term())
	}
	if c.waiter, err = newSockWaiter(zctx, dealer); err != nil {
		return nil, errors.Join(err, dealer.Close(), zctx.Term())
	}
	c.loop = newClientLoop(c, dealer)
	return c, nil
}

// connect opens a new DEALER to the endpoint: the client's connection, and a new
// identity at the broker.
func (c *Client) connect() (*zmq4.Socket, error) {
	s, err := newSocket(c.zctx, zmq4.DEALER, c.hwm, 0)
	if err != nil {
		return nil, err
	}
	if err := c.curve.apply(s); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	if err := s.Connect(c.endpoint); err != nil {
		return nil, errors.Join(fmt.Errorf("zmq: connect %s: %w", c.endpoint, err), s.Close())
	}
	return s, nil
}

// Request sends a request with the given body frames to service and returns the
// reply's body frames. It fails with a *RequestError (errors.Is ErrTimeout or
// ErrRefused), with ctx's error when ctx ends first, or with ErrClosed: the client
// was closed, or it ended on an error, which an *EndedError then carries. The body is
// copied, so the caller may reuse it at once.
func (c *Client) Request(ctx context.Context, service string, body ...[]byte) ([][]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("zmq: request to %s: %w", service, err)
	}
	r, err := c.do(ctx, newCall(service, copyFrames(body), nil))
	if err != nil {
		// The request goes on in the core until it ends (core.Client cannot cancel
		// it); its outcome is then dropped.
		return nil, fmt.Errorf("zmq: request to %s: %w", service, err)
	}
	return r.body, r.err
}

// do hands k to the loop and waits for its outcome, leading the loop while no other
// goroutine does, or when the leader hands it over. It returns ErrClosed (or the
// *EndedError that says why) when the client is closed, or ctx's error when ctx ends
// first.
func (c *Client) do(ctx context.Context, k *call) (result, error) {
	c.mu.Lock()
	if c.closed {
		err := c.closedErr()
		c.mu.Unlock()
		return result{}, err
	}
	k.waiting = true
	c.pending = append(c.pending, k)
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	if !lead {
		c.waiter.kick()
	}
	for {
		if lead {
			c.lead(ctx, k)
			lead = false
		}
		select {
		case r := <-k.result:
			return r, nil
		case <-k.lead:
			lead = true
		case <-ctx.Done():
			c.mu.Lock()
			k.waiting = false
			select {
			case <-k.lead:
				// Handed the loop just now: hand it on.
				lead = true
			default:
			}
			c.mu.Unlock()
			if lead {
				c.lead(ctx, k)
			}
			return result{}, ctx.Err()
		}
	}
}

// lead runs the loop on the caller's goroutine until the outcome of me is sent or
// ctx ends, then hands the loop to another caller still waiting, if any.
func (c *Client) lead(ctx context.Context, me *call) {
	stop := context.AfterFunc(ctx, c.waiter.kick)
	defer stop()
	err := c.loop.run(ctx, me)
	for err != nil {
		if err = c.loop.recoverFrom(err); err != nil {
			break
		}
		err = c.loop.run(ctx, me)
	}
	if err != nil || c.loop.closed {
		c.end(err)
		return
	}
	c.mu.Lock()
	if ctx.Err() != nil {
		me.waiting = false
	}
	closed := c.closed
	if !closed {
		if heir := c.heir(); heir != nil {
			heir.lead <- struct{}{}
		} else {
			c.leading = false
		}
	}
	c.mu.Unlock()
	if closed {
		// Close came after the loop last looked: end the loop here, Close waits.
		c.end(nil)
	}
}

// heir returns a call whose caller still waits, to lead the loop next: one handed
// in, else one outstanding. c.mu is held, by the leader.
func (c *Client) heir() *call {
	for _, k := range c.pending {
		if k.waiting {
			return k
		}
	}
	for _, k := range c.loop.calls {
		if k.waiting {
			return k
		}
	}
	return nil
}

// end ends the loop for good: what is outstanding fails with ErrClosed, or with an
// *EndedError carrying err, the error that ended the loop, if any; the socket closes,
// and err is logged and kept for Close.
func (c *Client) end(err error) {
	c.mu.Lock()
	c.closed = true
	if err != nil {
		c.cause = err
	}
	c.mu.Unlock()
	if err != nil && c.log != nil {
		c.log.Error("client ended", slog.String("endpoint", c.endpoint), slog.String("err", err.Error()))
	}
	c.err = errors.Join(err, c.loop.close())
	close(c.done)
}

// closedErr is the error of a request on the closed client: ErrClosed, or an
// *EndedError with the cause when an error ended the client. c.mu is held.
func (c *Client) closedErr() error {
	if c.cause != nil {
		return &EndedError{Cause: c.cause}
	}
	return ErrClosed
}

// Close ends the client: requests still outstanding fail with ErrClosed and the
// connection closes at once. Close waits for the loop to end and returns its error:
// the error that ended the client before, if one did, and any error of closing.
func (c *Client) Close() error {
	c.mu.Lock()
	first := !c.closed
	c.closed = true
	lead := !c.leading
	c.leading = true
	c.mu.Unlock()
	switch {
	case first && lead:
		c.end(nil)
	case first:
		c.waiter.kick()
	}
	<-c.done
	return c.err
}

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats {
	var st ClientStats
	k := newCall("", nil, func(cc *core.Client) { st.ClientStats = cc.Stats() })
	if _, err := c.do(context.Background(), k); err != nil {
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

// warn logs a socket error the client recovers from.
func (c *Client) warn(msg string, err error) {
	if c.log != nil {
		c.log.Warn(msg, slog.String("endpoint", c.endpoint), slog.String("err", err.Error()))
	}
}
