package core

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestBrokerRequestTimes checks the times the broker's request events carry for
// metrics: First on a request's first event, Waited on a dispatch after a wait in the
// queue, Elapsed since the request was taken in.
func TestBrokerRequestTimes(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	b := NewBroker(BrokerConfig{HeartbeatInterval: time.Hour}, t0)
	w, c := Peer{Socket: Backend, ID: "w1"}, Peer{Socket: Frontend, ID: "c1"}
	frames := func(m Message) [][]byte { return m.Frames() }
	ready := frames(Message{Protocol: WorkerProtocol, Command: Ready, Service: []byte("echo")})
	req := frames(Message{Protocol: ClientProtocol, Envelope: true, Seq: 1, Service: []byte("echo"), Body: [][]byte{[]byte("x")}})
	reply := frames(Message{Protocol: WorkerProtocol, Command: Reply, Address: []byte("c1"), Body: [][]byte{[]byte("x")}})

	type ev struct {
		Event           EventKind
		First           bool
		Elapsed, Waited time.Duration
	}
	var got []ev
	collect := func() {
		for _, o := range b.Drain() {
			switch o.Event {
			case RequestQueued, RequestDispatched, RequestAnswered, RequestFailed, RequestRequeued:
				got = append(got, ev{o.Event, o.First, o.Elapsed, o.Waited})
			}
		}
	}
	b.Receive(t0, c, req)
	collect()
	b.Receive(t0.Add(2*time.Second), w, ready)
	collect()
	b.Receive(t0.Add(5*time.Second), w, reply)
	collect()
	b.Receive(t0.Add(6*time.Second), c, req)
	collect()
	b.Receive(t0.Add(7*time.Second), w, frames(Message{Protocol: WorkerProtocol, Command: Disconnect}))
	collect()
	want := []ev{
		{RequestQueued, true, 0, 0},
		{RequestDispatched, false, 2 * time.Second, 2 * time.Second},
		{RequestAnswered, false, 5 * time.Second, 0},
		{RequestDispatched, true, 0, 0},
		{RequestRequeued, false, time.Second, 0},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("request events mismatch (-want +got):\n%s", d)
	}
}
