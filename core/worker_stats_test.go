package core

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// workerRequest builds a REQUEST from the broker for the client address addr.
func workerRequest(addr string, body ...string) [][]byte {
	m := Message{Protocol: WorkerProtocol, Command: Request, Address: []byte(addr)}
	for _, b := range body {
		m.Body = append(m.Body, []byte(b))
	}
	return m.Frames()
}

var workerHeartbeat = [][]byte{{}, []byte(WorkerHeader), {byte(Heartbeat)}}

func TestWorkerStats(t *testing.T) {
	sec := time.Second
	w := NewWorker(WorkerConfig{Service: "echo", Liveness: 2})
	w.Start(t0)
	w.Receive(t0, workerRequest("c1", "a"))
	w.Receive(t0, workerRequest("c2", "b")) // busy: dropped
	w.Reply(t0, [][]byte{[]byte("A")})
	w.Reply(t0, nil)               // nothing held: dropped
	w.Receive(t0, [][]byte{{}})    // malformed
	w.Advance(t0.Add(sec))         // heartbeat
	w.Advance(t0.Add(2 * sec))     // broker lost
	w.Receive(t0, workerHeartbeat) // during the backoff: dropped
	w.Advance(t0.Add(3 * sec))     // reconnect
	w.Receive(t0.Add(3*sec), workerRequest("c3", "c"))
	w.Receive(t0.Add(3*sec), [][]byte{{}, []byte(WorkerHeader), {byte(Disconnect)}}) // reconnect
	want := WorkerStats{Requests: 2, Replies: 1, Heartbeats: 1, Connects: 3}
	want.Dropped[UnexpectedCommand] = 1
	want.Dropped[NoRequest] = 1
	want.Dropped[Malformed] = 1
	want.Dropped[Backoff] = 1
	if d := cmp.Diff(want, w.Stats()); d != "" {
		t.Errorf("Stats() mismatch (-want +got):\n%s", d)
	}
}

func TestWorkerNextDeadline(t *testing.T) {
	sec := time.Second
	cfg := WorkerConfig{Service: "echo", HeartbeatInterval: sec, Liveness: 3, ReconnectInitial: 5 * sec}
	tests := []struct {
		name string
		run  func(w *Worker)
		want time.Time // zero: none
	}{
		{"not started", func(w *Worker) {}, time.Time{}},
		{"started: heartbeat", func(w *Worker) { w.Start(t0) }, t0.Add(sec)},
		{"a reply delays the heartbeat", func(w *Worker) {
			w.Start(t0)
			w.Receive(t0, workerRequest("c1"))
			w.Reply(t0.Add(sec/2), nil)
		}, t0.Add(3 * sec / 2)},
		{"receiving sends nothing", func(w *Worker) {
			w.Start(t0)
			w.Receive(t0.Add(sec/2), workerHeartbeat)
		}, t0.Add(sec)},
		{"broker expiry before the heartbeat", func(w *Worker) {
			w.Start(t0)
			w.Receive(t0, workerRequest("c1"))
			w.Advance(t0.Add(sec))
			w.Advance(t0.Add(2 * sec))
			w.Reply(t0.Add(2500*time.Millisecond), nil) // next heartbeat at 3.5s
		}, t0.Add(3 * sec)},
		{"backoff", func(w *Worker) {
			w.Start(t0)
			for i := 1; i <= 3; i++ {
				w.Advance(t0.Add(time.Duration(i) * sec))
			}
		}, t0.Add(8 * sec)},
		{"stopped", func(w *Worker) {
			w.Start(t0)
			w.Stop(t0)
		}, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := NewWorker(cfg)
			tt.run(w)
			if got := w.NextDeadline(); !got.Equal(tt.want) {
				t.Errorf("NextDeadline() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestWorkerReplyFramesStayValid checks that reply frames are never reused for later
// messages, and that long bodies work.
func TestWorkerReplyFramesStayValid(t *testing.T) {
	w := NewWorker(WorkerConfig{Service: "echo"})
	w.Start(t0)
	w.Receive(t0, workerRequest("first"))
	w.Reply(t0, [][]byte{[]byte("one")})
	outs := w.Drain()
	first := outs[len(outs)-1].Frames
	body := make([][]byte, 200)
	for i := range 400 {
		addr := binary.BigEndian.AppendUint32(nil, uint32(i))
		w.Receive(t0, workerRequest(string(addr)))
		b := body[:i%len(body)]
		w.Reply(t0, b)
		outs := w.Drain()
		f := outs[len(outs)-1].Frames
		if len(f) != 5+len(b) || string(f[3]) != string(addr) {
			t.Fatalf("reply %d: %d frames, address %x", i, len(f), f[3])
		}
	}
	want := [][]byte{{}, []byte(WorkerHeader), {byte(Reply)}, []byte("first"), {}, []byte("one")}
	if d := cmp.Diff(want, first); d != "" {
		t.Errorf("first reply's frames changed (-want +got):\n%s", d)
	}
}

// TestWorkerAllocs checks the worker's share of the allocation budget of a full
// request (issue 2: at most 12 through client, broker and worker).
func TestWorkerAllocs(t *testing.T) {
	w := NewWorker(WorkerConfig{Service: "echo"})
	w.Start(t0)
	req := workerRequest("c1", "hello")
	body := [][]byte{[]byte("hello")}
	allocs := testing.AllocsPerRun(1000, func() {
		w.Receive(t0, req)
		w.Reply(t0, body)
		w.Drain()
	})
	if allocs > 0.5 {
		t.Errorf("request and reply cost %.2f allocations, want at most 0.5", allocs)
	}
}
