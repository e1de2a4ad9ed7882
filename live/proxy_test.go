package live

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

var (
	heartbeat = [][]byte{{}, []byte("MDPW01"), {0x04}}
	request   = [][]byte{{}, []byte("MDPC01"), []byte("echo"), []byte("body")}
	// notHeartbeat looks like one but carries a body frame: it must pass.
	notHeartbeat = [][]byte{{}, []byte("MDPW01"), {0x04}, []byte("x")}
)

// echoThrough starts a raw echo server and a proxy in front of it, and a raw peer
// connected through the proxy.
func echoThrough(t *testing.T) (*Proxy, *zmq.RawPeer) {
	t.Helper()
	e, err := zmq.ListenRawEcho("tcp://127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Serve(ctx) }()
	p, err := NewProxy(e.Endpoint(), 1)
	if err != nil {
		t.Fatal(err)
	}
	peer, err := zmq.DialRaw(p.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = peer.Close()
		_ = p.Close()
		cancel()
		<-done
		_ = e.Close()
	})
	return p, peer
}

// echoes sends msgs in order and returns the echoes that came back within 500 ms
// of the last one sent (the echo of a marker message sent last ends the wait early).
func echoes(t *testing.T, peer *zmq.RawPeer, msgs [][][]byte) []string {
	t.Helper()
	marker := [][]byte{[]byte("marker")}
	for _, m := range append(msgs, marker) {
		if err := peer.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for {
		m, err := peer.Recv(5 * time.Second)
		if errors.Is(err, zmq.ErrNoMessage) {
			t.Fatalf("the marker did not come back through the proxy; got %q", got)
		}
		if err != nil {
			t.Fatal(err)
		}
		if len(m) == 1 && string(m[0]) == "marker" {
			return got
		}
		got = append(got, string(joinFrames(m)))
	}
}

func joinFrames(m [][]byte) []byte {
	var parts []string
	for _, f := range m {
		parts = append(parts, string(f))
	}
	return []byte(strings.Join(parts, "|"))
}

func TestProxyDropsExactlyHeartbeats(t *testing.T) {
	for _, dir := range []string{dirToBroker, dirFromBroker} {
		t.Run(dir, func(t *testing.T) {
			p, peer := echoThrough(t)
			// The handshake first: one message through before the rule.
			if got := echoes(t, peer, nil); len(got) != 0 {
				t.Fatalf("echoes before any message: %q", got)
			}
			p.LoseHeartbeats(dir, 1, 0)
			got := echoes(t, peer, [][][]byte{request, heartbeat, notHeartbeat, heartbeat, request})
			want := []string{string(joinFrames(request)), string(joinFrames(notHeartbeat)), string(joinFrames(request))}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("echoes through the proxy:\n%q\nwant\n%q", got, want)
			}
			st := p.Stats()
			to, from := st.HeartbeatsToBroker, st.HeartbeatsFromBrkr
			if dir == dirToBroker && (to != 2 || from != 0) || dir == dirFromBroker && (to != 0 || from != 2) {
				t.Errorf("heartbeats dropped to the broker %d, from it %d; want 2 %s", to, from, dir)
			}
		})
	}
}

func TestProxyPassesAfterHeartbeatLossEnds(t *testing.T) {
	p, peer := echoThrough(t)
	echoes(t, peer, nil)
	p.LoseHeartbeats(dirBoth, 1, 50*time.Millisecond)
	if got := echoes(t, peer, [][][]byte{heartbeat}); len(got) != 0 {
		t.Fatalf("a heartbeat passed while lost: %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := echoes(t, peer, [][][]byte{heartbeat}); len(got) == 1 {
			return
		}
	}
	t.Fatal("heartbeats still lost 5 s after a 50 ms loss")
}

// logWatch is a slog handler that closes a channel when a record's message
// contains a text.
type logWatch struct {
	text string
	once sync.Once
	seen chan struct{}
}

func (w *logWatch) Enabled(context.Context, slog.Level) bool { return true }
func (w *logWatch) Handle(_ context.Context, r slog.Record) error {
	println(time.Now().Format("05.000"), r.Message)
	if strings.Contains(r.Message, w.text) {
		w.once.Do(func() { close(w.seen) })
	}
	return nil
}
func (w *logWatch) WithAttrs([]slog.Attr) slog.Handler { return w }
func (w *logWatch) WithGroup(string) slog.Handler      { return w }

// TestProxyPartitionCutsBothWays puts a worker behind a proxy and cuts it. Each
// direction is shown by a side that notices silence long before the other: the
// broker purges the worker as silent only if the worker's heartbeats stop reaching
// it, and the worker declares the broker lost only if the broker's stop reaching it.
func TestProxyPartitionCutsBothWays(t *testing.T) {
	const hb = 100 * time.Millisecond
	for _, tc := range []struct {
		dir                    string
		brokerLive, workerLive int
	}{
		{dirToBroker, 3, 100},
		{dirFromBroker, 100, 3},
	} {
		t.Run(tc.dir, func(t *testing.T) {
			removed := make(chan core.Reason, 8)
			joined := make(chan struct{}, 8)
			b, err := zmq.NewBroker(zmq.BrokerOptions{Frontend: "tcp://127.0.0.1:*", Backend: "tcp://127.0.0.1:*",
				Config: core.BrokerConfig{HeartbeatInterval: hb, Liveness: tc.brokerLive}, Linger: -1,
				OnEvent: func(e zmq.Event) {
					switch e.Output.Event {
					case core.WorkerJoined:
						joined <- struct{}{}
					case core.WorkerRemoved:
						removed <- e.Output.Reason
					}
				}})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(t.Context())
			var wg sync.WaitGroup
			wg.Go(func() { _ = b.Run(ctx) })
			p, err := NewProxy(b.Backend(), 1)
			if err != nil {
				t.Fatal(err)
			}
			lost := &logWatch{text: "lost", seen: make(chan struct{})}
			w := zmq.NewWorker(p.Endpoint(), "echo", zmq.WorkerOptions{HeartbeatInterval: hb, Liveness: tc.workerLive,
				ReconnectInitial: time.Hour, ReconnectMax: time.Hour, Logger: slog.New(lost), Linger: -1})
			wg.Go(func() { _ = w.Serve(ctx, func(_ context.Context, r [][]byte) [][]byte { return r }) })
			t.Cleanup(func() {
				cancel()
				wg.Wait()
				_ = p.Close()
			})
			select {
			case <-joined:
			case <-time.After(10 * time.Second):
				t.Fatal("the worker did not join through the proxy")
			}
			println(time.Now().Format("05.000"), "partition")
			p.Partition(time.Hour)
			// Both sides would notice after 100 intervals (10 s) at the latest.
			if tc.dir == dirToBroker {
				select {
				case r := <-removed:
					if r != core.Silent {
						t.Errorf("worker removed as %v, want silent", r)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the broker did not purge the cut-off worker: its heartbeats still pass")
				}
			} else {
				select {
				case <-lost.seen:
				case <-time.After(5 * time.Second):
					t.Fatal("the worker did not lose the broker: the broker's heartbeats still pass")
				}
			}
			if st := p.Stats(); st.Cut == 0 {
				t.Errorf("proxy stats %+v: nothing counted as cut", st)
			}
		})
	}
}

// TestProxyHoldOnClose checks the crash semantics: after HoldOnClose, the peer's
// closing its connection leaves the broker side open (no EOF there), as a dead host
// would; without it, the broker side sees EOF at once.
func TestProxyHoldOnClose(t *testing.T) {
	for _, hold := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "held"}[hold], func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer ln.Close()
			p, err := NewProxy(ln.Addr().String(), 1)
			if err != nil {
				t.Fatal(err)
			}
			defer p.Close()
			peer, err := net.Dial("tcp", strings.TrimPrefix(p.Endpoint(), "tcp://"))
			if err != nil {
				t.Fatal(err)
			}
			greeting := make([]byte, greetingLen)
			greeting[0], greeting[9], greeting[10] = 0xff, 0x7f, 3
			if _, err := peer.Write(greeting); err != nil {
				t.Fatal(err)
			}
			if err := ln.(*net.TCPListener).SetDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			up, err := ln.Accept()
			if err != nil {
				t.Fatalf("the proxy did not connect on: %v", err)
			}
			defer up.Close()
			got := make([]byte, greetingLen)
			if err := up.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
				t.Fatal(err)
			}
			if _, err := io.ReadFull(up, got); err != nil {
				t.Fatalf("the greeting did not pass: %v", err)
			}
			if hold {
				p.HoldOnClose()
			}
			_ = peer.Close()
			// Held: nothing may come for a while (a bounded wait for an absence).
			// Plain: EOF must come within the same bound.
			if err := up.SetReadDeadline(time.Now().Add(500 * time.Millisecond)); err != nil {
				t.Fatal(err)
			}
			_, err = up.Read(got[:1])
			var ne net.Error
			timedOut := errors.As(err, &ne) && ne.Timeout()
			switch {
			case hold && !timedOut:
				t.Errorf("held: the broker side read %v; want it open and silent", err)
			case !hold && !errors.Is(err, io.EOF):
				t.Errorf("plain: the broker side read %v; want EOF", err)
			}
		})
	}
}
