package zmq

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"
)

// The interop tests use peers that are plain sockets sending RFC 7 frames written out
// here, not through this package's API.

// TestInteropREQClient: a standard MDP client (a REQ socket, which adds and strips
// the empty delimiter frame itself) gets its replies, and its MMI answers.
func TestInteropREQClient(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	mark := b.rec.mark()
	startWorker(t, b.Backend(), "echo", echo)
	b.waitJoined(t, mark, "echo", 1)
	client := rawSocket(t, req, b.Frontend())
	for _, tc := range []struct {
		send, want []string
	}{
		{[]string{"MDPC01", "echo", "hello", "world"}, []string{"MDPC01", "echo", "hello", "world"}},
		{[]string{"MDPC01", "mmi.service", "echo"}, []string{"MDPC01", "mmi.service", "200"}},
		{[]string{"MDPC01", "mmi.service", "nope"}, []string{"MDPC01", "mmi.service", "404"}},
		{[]string{"MDPC01", "mmi.nope"}, []string{"MDPC01", "mmi.nope", "nope", "404"}},
		{[]string{"MDPC01", "mmi.x", "y"}, []string{"MDPC01", "mmi.x", "501"}},
	} {
		sendRaw(t, client, tc.send...)
		got := recvRaw(t, client, nil)
		if d := cmp.Diff(tc.want, got); d != "" {
			t.Errorf("REQ %q: reply mismatch (-want +got):\n%s", tc.send, d)
		}
	}
}

// TestInteropDEALERWorker: a standard MDP worker (a DEALER) registers, gets REQUEST
// with the client address, answers with REPLY, and is heartbeated.
func TestInteropDEALERWorker(t *testing.T) {
	b := startBroker(t, BrokerOptions{})
	w := rawSocket(t, dealer, b.Backend())
	mark := b.rec.mark()
	sendRaw(t, w, "", "MDPW01", "\x01", "echo")
	b.waitJoined(t, mark, "echo", 1)

	for _, c := range []struct {
		name string
		send func() string // sends "ping" to echo; returns the body of the reply
	}{
		{"ebwrk client", func() string {
			c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit, Attempts: 1})
			done := make(chan string, 1)
			go func() {
				got, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("ping"))
				if err != nil {
					t.Errorf("Request: %v", err)
				}
				done <- string(firstFrame(got))
			}()
			serveRaw(t, w)
			return <-done
		}},
		{"REQ client", func() string {
			c := rawSocket(t, req, b.Frontend())
			sendRaw(t, c, "MDPC01", "echo", "ping")
			serveRaw(t, w)
			got := recvRaw(t, c, nil)
			if len(got) != 3 || got[0] != "MDPC01" || got[1] != "echo" {
				t.Errorf("REQ client got %q", got)
				return ""
			}
			return got[2]
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := c.send(); got != "pong" {
				t.Errorf("reply %q; want pong", got)
			}
		})
	}
	// The broker heartbeats the worker: HEARTBEAT is three frames.
	hb := recvRaw(t, w, func(m []string) bool { return !notHeartbeat(m) })
	if d := cmp.Diff([]string{"", "MDPW01", "\x04"}, hb); d != "" {
		t.Errorf("heartbeat mismatch (-want +got):\n%s", d)
	}
}

// serveRaw answers one REQUEST on the raw worker w with "pong".
func serveRaw(t *testing.T, w *zmq4.Socket) {
	t.Helper()
	got := recvRaw(t, w, notHeartbeat)
	if len(got) != 6 || got[0] != "" || got[1] != "MDPW01" || got[2] != "\x02" || got[4] != "" || got[5] != "ping" {
		t.Fatalf("raw worker got %q; want a REQUEST for ping", got)
	}
	sendRaw(t, w, "", "MDPW01", "\x03", got[3], "", "pong")
}

func firstFrame(f [][]byte) []byte {
	if len(f) == 0 {
		return nil
	}
	return f[0]
}

// TestInteropStandardClient: with ClientOptions.Standard the client speaks plain
// MDP/0.1 to a plain broker (a ROUTER here): no envelope, and a retry on a new
// connection, as RFC 7 recommends.
func TestInteropStandardClient(t *testing.T) {
	broker, err := zmq4.NewSocket(zmq4.ROUTER)
	if err != nil {
		t.Fatalf("NewSocket: %v", err)
	}
	t.Cleanup(func() { closeRaw(t, broker) })
	if err := broker.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	if err := broker.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatalf("Bind: %v", err)
	}
	ep, err := broker.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, ep, ClientOptions{Standard: true, Timeout: 200 * time.Millisecond, Attempts: 2})
	done := make(chan result, 1)
	go func() {
		body, err := c.Request(ctxFor(t, waitLimit), "echo", []byte("hi"))
		done <- result{body, err}
	}()
	first := recvRaw(t, broker, nil)
	if d := cmp.Diff([]string{"", "MDPC01", "echo", "hi"}, first[1:]); d != "" {
		t.Fatalf("first attempt mismatch (-want +got):\n%s", d)
	}
	// No answer: the retry comes on a new connection, with a new identity.
	second := recvRaw(t, broker, nil)
	if d := cmp.Diff([]string{"", "MDPC01", "echo", "hi"}, second[1:]); d != "" {
		t.Fatalf("retry mismatch (-want +got):\n%s", d)
	}
	if second[0] == first[0] {
		t.Errorf("retry came on the same connection %q; want a new one", first[0])
	}
	sendRaw(t, broker, second[0], "", "MDPC01", "echo", "ho")
	r := <-done
	if r.err != nil {
		t.Fatalf("Request: %v", r.err)
	}
	if d := cmp.Diff([]string{"ho"}, strs(r.body)); d != "" {
		t.Errorf("reply mismatch (-want +got):\n%s", d)
	}
	if st := c.Stats(); st.Retries != 1 {
		t.Errorf("client retries %d; want 1", st.Retries)
	}
}
