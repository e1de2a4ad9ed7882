package zmq

import (
	"bytes"
	"errors"
	"syscall"
	"testing"

	zmq4 "github.com/pebbe/zmq4"

	"github.com/ebwrk/ebwrk/core"
)

// TestBrokerKeepsPeerAtMark: with a high-water mark of 1, megabyte requests and
// replies fill the broker's queues: to a client that does not read, and to the
// worker while a request is on its way (a heartbeat then meets the mark). A message
// ZeroMQ refuses with EAGAIN is counted and reported, but its peer is slow, not gone:
// it is not passed to core.Broker.Unreachable, which would report an unreachable
// client and remove the worker.
func TestBrokerKeepsPeerAtMark(t *testing.T) {
	// Heartbeats slow enough that moving 32 MB on a busy machine expires nobody.
	b := startBroker(t, BrokerOptions{HighWaterMark: 1, Config: core.BrokerConfig{HeartbeatInterval: stormHeartbeat, Liveness: stormLiveness}})
	mark := b.rec.mark()
	ended := make(chan error, 1)
	stormWorker(t, b.Backend(), "echo", echo, ended)
	b.waitJoined(t, mark, "echo", 1)

	c := rawSocket(t, dealer, b.Frontend())
	for _, set := range []func() error{func() error { return c.SetRcvhwm(1) }, func() error { return c.SetRcvbuf(4096) }} {
		if err := set(); err != nil {
			t.Fatal(err)
		}
	}
	body := bytes.Repeat([]byte("x"), 1<<20)
	for range 32 { // 32 MB of replies: more than the connection holds
		if _, err := c.SendMessage("", core.ClientHeader, "echo", body); err != nil {
			t.Fatal(err)
		}
	}
	e, _ := b.rec.waitFor(t, mark, "undeliverable reply", func(e Event) bool { return e.Undeliverable != nil })
	if !errors.Is(e.Undeliverable, zmq4.Errno(syscall.EAGAIN)) {
		t.Errorf("event %v; want EAGAIN", e)
	}
	if st := b.Stats(); st.Full == 0 || st.Dropped[core.Unreachable] != 0 {
		t.Errorf("Stats: %d full, %d unreachable; want > 0, 0", st.Full, st.Dropped[core.Unreachable])
	}
	for _, e := range b.rec.all() {
		if e.Output.Reason == core.Unreachable || e.Output.Event == core.WorkerRemoved {
			t.Errorf("event %v; want no peer unreachable, no worker removed", e)
		}
	}
}
