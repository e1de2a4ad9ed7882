package core

import "time"

// ClientStats counts what a Client did.
type ClientStats struct {
	Requests  uint64             // Request calls
	Sends     uint64             // attempts sent, first sends and retries
	Retries   uint64             // sends after a timeout
	Replies   uint64             // replies accepted and delivered
	Failures  [NumReasons]uint64 // requests failed, by reason (TimedOut, QueueFull, ...)
	Discarded [NumReasons]uint64 // replies discarded, by reason (Stale, Duplicate, Malformed, WrongService)
}

// Client is the client side of ebwrk on one connection to a broker, as a pure state
// machine. See the package doc for the protocol.
type Client struct {
	cfg ClientConfig
	out outputs
}

// NewClient returns a client with the given configuration (zero fields: defaults).
func NewClient(cfg ClientConfig) *Client {
	return &Client{cfg: cfg.withDefaults()}
}

// Request starts a request to service with the given body frames and returns its
// sequence number (1, 2, ...). The body is not copied.
func (c *Client) Request(now time.Time, service string, body [][]byte) uint64 {
	return 0
}

// Receive takes one message the client's connection received.
func (c *Client) Receive(now time.Time, frames [][]byte) {}

// Advance lets time pass: attempts past their timeout are retried or failed.
func (c *Client) Advance(now time.Time) {}

// NextDeadline returns when Advance must next be called; the zero time means never.
func (c *Client) NextDeadline() time.Time { return time.Time{} }

// Drain returns the outputs since the last Drain, in order. The slice stays valid until
// the next Drain.
func (c *Client) Drain() []Output { return c.out.drain() }

// Outstanding returns how many requests have neither a reply nor a failure yet.
func (c *Client) Outstanding() int { return 0 }

// Stats returns the client's counters.
func (c *Client) Stats() ClientStats { return ClientStats{} }
