package core

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var t0 = scriptStart

// reply builds an ebwrk reply for seq from service with the given status and body.
func reply(seq uint64, status Status, service string, body ...string) [][]byte {
	m := Message{Protocol: ClientProtocol, Envelope: true, Seq: seq, Status: status, Service: []byte(service)}
	for _, b := range body {
		m.Body = append(m.Body, []byte(b))
	}
	return m.Frames()
}

func TestClientStats(t *testing.T) {
	c := NewClient(ClientConfig{Timeout: time.Second, Attempts: 2})
	c.Request(t0, "echo", nil)                       // 1: answered
	c.Request(t0, "echo", nil)                       // 2: queue full
	c.Request(t0, "echo", nil)                       // 3: retried, then times out
	c.Receive(t0, reply(1, StatusOK, "echo", "a"))   //
	c.Receive(t0, reply(1, StatusOK, "echo", "a"))   // duplicate
	c.Receive(t0, reply(2, StatusQueueFull, "echo")) //
	c.Receive(t0, reply(3, StatusOK, "other"))       // wrong service
	c.Receive(t0, reply(99, StatusOK, "echo"))       // stale
	c.Receive(t0, [][]byte{{}})                      // malformed
	c.Advance(t0.Add(time.Second))
	c.Advance(t0.Add(2 * time.Second))
	want := ClientStats{Requests: 3, Sends: 4, Retries: 1, Replies: 1}
	want.Failures[QueueFull] = 1
	want.Failures[TimedOut] = 1
	want.Discarded[Duplicate] = 1
	want.Discarded[WrongService] = 1
	want.Discarded[Stale] = 1
	want.Discarded[Malformed] = 1
	if d := cmp.Diff(want, c.Stats()); d != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", d)
	}
	if n := c.Outstanding(); n != 0 {
		t.Errorf("Outstanding() = %d, want 0", n)
	}
}

func TestClientNextDeadline(t *testing.T) {
	sec := time.Second
	tests := []struct {
		name string
		cfg  ClientConfig
		run  func(c *Client)
		want time.Time // zero: none
	}{
		{"idle", ClientConfig{}, func(c *Client) {}, time.Time{}},
		{"one request", ClientConfig{}, func(c *Client) { c.Request(t0, "echo", nil) }, t0.Add(sec)},
		{"earliest of several", ClientConfig{Timeout: 3 * sec}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Request(t0.Add(sec), "echo", nil)
		}, t0.Add(3 * sec)},
		{"retry moves the deadline", ClientConfig{Timeout: 3 * sec}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Request(t0.Add(sec), "echo", nil)
			c.Advance(t0.Add(3 * sec))
		}, t0.Add(4 * sec)},
		{"answered", ClientConfig{}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Receive(t0, reply(1, StatusOK, "echo"))
		}, time.Time{}},
		{"failed", ClientConfig{Attempts: 1}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Advance(t0.Add(sec))
		}, time.Time{}},
		{"standard: queued requests have no deadline", ClientConfig{Standard: true}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Request(t0.Add(sec/2), "echo", nil)
		}, t0.Add(sec)},
		{"standard: the next starts when sent", ClientConfig{Standard: true, Attempts: 1}, func(c *Client) {
			c.Request(t0, "echo", nil)
			c.Request(t0, "echo", nil)
			c.Advance(t0.Add(5 * sec))
		}, t0.Add(6 * sec)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(tt.cfg)
			tt.run(c)
			if got := c.NextDeadline(); !got.Equal(tt.want) {
				t.Errorf("NextDeadline() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestClientAnsweredMemory checks that the memory of answered sequence numbers is
// bounded: a reply for a request answered long ago counts as stale, not duplicate.
func TestClientAnsweredMemory(t *testing.T) {
	c := NewClient(ClientConfig{})
	for i := uint64(1); i <= answeredMemory+1; i++ {
		seq := c.Request(t0, "echo", nil)
		c.Receive(t0, reply(seq, StatusOK, "echo"))
	}
	c.Drain()
	c.Receive(t0, reply(2, StatusOK, "echo"))                // the oldest remembered
	c.Receive(t0, reply(1, StatusOK, "echo"))                // forgotten
	c.Receive(t0, reply(answeredMemory+2, StatusOK, "echo")) // never sent
	var got []Reason
	for _, o := range c.Drain() {
		got = append(got, o.Reason)
	}
	if d := cmp.Diff([]Reason{Duplicate, Stale, Stale}, got); d != "" {
		t.Errorf("discard reasons mismatch (-want +got):\n%s", d)
	}
	// Sequence number 0 is never given out, even while the memory is still empty.
	c = NewClient(ClientConfig{})
	c.Receive(t0, reply(0, StatusOK, "echo"))
	if outs := c.Drain(); len(outs) != 1 || outs[0].Reason != Stale {
		t.Errorf("reply for seq 0: outputs %v, want one stale discard", outs)
	}
}

func TestClientDiscardErr(t *testing.T) {
	tests := []struct {
		name     string
		standard bool
		frames   [][]byte
		parse    bool // Err is a *ParseError
	}{
		{"too few frames", false, [][]byte{{}}, true},
		{"bad envelope", false, [][]byte{{1, 2}, {}, []byte(ClientHeader), []byte("echo")}, true},
		{"no envelope", false, [][]byte{{}, []byte(ClientHeader), []byte("echo")}, false},
		{"envelope in standard mode", true, reply(1, StatusOK, "echo"), false},
		{"worker command", false, [][]byte{{}, []byte(WorkerHeader), {byte(Heartbeat)}}, false},
		{"unknown status", false, reply(1, Status(200), "echo"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClient(ClientConfig{Standard: tt.standard})
			c.Request(t0, "echo", nil)
			c.Drain()
			c.Receive(t0, tt.frames)
			outs := c.Drain()
			if len(outs) != 1 || outs[0].Event != ReplyDiscarded || outs[0].Reason != Malformed {
				t.Fatalf("outputs = %v, want one malformed discard", outs)
			}
			err := outs[0].Err
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("Err = %v, does not match ErrMalformed", err)
			}
			var pe *ParseError
			if got := errors.As(err, &pe); got != tt.parse {
				t.Errorf("Err = %v: is *ParseError %v, want %v", err, got, tt.parse)
			}
			if c.Outstanding() != 1 {
				t.Errorf("Outstanding() = %d, want 1", c.Outstanding())
			}
		})
	}
}

// TestClientFramesStayValid checks that the frames of a send are never reused for
// later messages, even after many requests, and that long names and bodies work.
func TestClientFramesStayValid(t *testing.T) {
	for _, standard := range []bool{false, true} {
		c := NewClient(ClientConfig{Standard: standard, Attempts: 1})
		c.Request(t0, "echo", [][]byte{[]byte("first")})
		first := c.Drain()[0].Frames
		want := make([][]byte, len(first))
		for i, f := range first {
			want[i] = bytes.Clone(f)
		}
		long := string(bytes.Repeat([]byte("s"), 1000))
		body := make([][]byte, 300)
		for i := range 500 {
			svc := "echo"
			if i%7 == 0 {
				svc = long
			}
			b := body[:i%len(body)]
			c.Advance(t0.Add(time.Duration(i+1) * time.Second))
			seq := c.Request(t0.Add(time.Duration(i+1)*time.Second), svc, b)
			outs := c.Drain()
			f := outs[len(outs)-1].Frames
			if !standard && binary.BigEndian.Uint64(f[0]) != seq {
				t.Fatalf("request %d: envelope %x", seq, f[0])
			}
			if got := string(f[len(f)-len(b)-1]); got != svc {
				t.Fatalf("request %d: service frame %.10q", seq, got)
			}
			if len(f) != len(want)-1+len(b) {
				t.Fatalf("request %d: %d frames", seq, len(f))
			}
		}
		if d := cmp.Diff(want, first); d != "" {
			t.Errorf("standard=%v: first request's frames changed (-want +got):\n%s", standard, d)
		}
	}
}

// TestClientAllocs checks the client's share of the allocation budget of a full
// request (issue 2: at most 12 through client, broker and worker).
func TestClientAllocs(t *testing.T) {
	c := NewClient(ClientConfig{})
	body := [][]byte{[]byte("hello")}
	rep := reply(0, StatusOK, "echo", "hello")
	now := t0
	allocs := testing.AllocsPerRun(1000, func() {
		now = now.Add(time.Millisecond)
		seq := c.Request(now, "echo", body)
		binary.BigEndian.PutUint64(rep[0], seq)
		c.Receive(now, rep)
		c.Drain()
	})
	if allocs > 1 {
		t.Errorf("request and reply cost %.2f allocations, want at most 1", allocs)
	}
}
