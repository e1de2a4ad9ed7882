package mem

import (
	"errors"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// harness is a network on a fresh clock with a log of every delivery, one line each:
// "12ms broker<c1.1 hello" at a router, "12ms c1.1<broker hello" at a dealer.
type harness struct {
	t     *testing.T
	clock *Clock
	net   *Network
	log   []string
}

func newHarness(t *testing.T, cfg Config) *harness {
	t.Helper()
	c := NewClock(epoch)
	return &harness{t: t, clock: c, net: NewNetwork(c, cfg)}
}

func (h *harness) stamp() string {
	return strconv.FormatInt(int64(h.clock.Since()/time.Microsecond), 10) + "us "
}

func (h *harness) bind(node, addr string) *Router {
	h.t.Helper()
	r, err := h.net.Bind(node, addr, func(from string, frames [][]byte) {
		h.log = append(h.log, h.stamp()+node+"<"+from+" "+string(frames[0]))
	})
	if err != nil {
		h.t.Fatalf("Bind(%s, %s): %v", node, addr, err)
	}
	return r
}

func (h *harness) connect(node, addr string) *Dealer {
	h.t.Helper()
	var d *Dealer
	d, err := h.net.Connect(node, addr, func(frames [][]byte) {
		h.log = append(h.log, h.stamp()+d.Identity()+"<"+string(frames[0]))
	})
	if err != nil {
		h.t.Fatalf("Connect(%s, %s): %v", node, addr, err)
	}
	return d
}

func msg(s string) [][]byte { return [][]byte{[]byte(s)} }

func mustSend(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
}

func (h *harness) run() {
	for h.clock.Step() {
	}
}

func (h *harness) wantLog(want ...string) {
	h.t.Helper()
	if d := cmp.Diff(want, h.log); d != "" {
		h.t.Errorf("delivery log mismatch (-want +got):\n%s", d)
	}
	h.log = nil
}

func (h *harness) wantStats(want Stats) {
	h.t.Helper()
	got := h.net.Stats()
	if d := cmp.Diff(want, got); d != "" {
		h.t.Errorf("Stats() mismatch (-want +got):\n%s", d)
	}
	if got.Sent+got.Duplicated != got.Delivered+got.Dropped()+got.InFlight {
		h.t.Errorf("Stats() do not balance: %+v", got)
	}
}

func TestIdentities(t *testing.T) {
	h := newHarness(t, Config{})
	var got []string
	for _, node := range []string{"c1", "c1", "w1", "c1", "w1"} {
		d := h.connect(node, "front")
		if d.Node() != node || d.Addr() != "front" {
			t.Errorf("dealer %s: Node() = %q, Addr() = %q", d.Identity(), d.Node(), d.Addr())
		}
		got = append(got, d.Identity())
	}
	if d := cmp.Diff([]string{"c1.1", "c1.2", "w1.1", "c1.3", "w1.2"}, got); d != "" {
		t.Errorf("identities mismatch (-want +got):\n%s", d)
	}
}

func TestRoundTrip(t *testing.T) {
	h := newHarness(t, Config{Latency: 3 * time.Millisecond})
	r := h.bind("broker", "front")
	c1 := h.connect("c1", "front")
	c2 := h.connect("c2", "front")
	mustSend(t, c1.Send(msg("a")))
	h.clock.RunUntil(ms(1))
	mustSend(t, c2.Send(msg("b")))
	h.clock.RunUntil(ms(3))
	mustSend(t, r.Send("c2.1", msg("to-c2")))
	mustSend(t, r.Send("c1.1", msg("to-c1")))
	h.run()
	h.wantLog(
		"3000us broker<c1.1 a",
		"4000us broker<c2.1 b",
		"6000us c2.1<to-c2",
		"6000us c1.1<to-c1",
	)
	h.wantStats(Stats{Sent: 4, Delivered: 4})
}

func TestErrors(t *testing.T) {
	h := newHarness(t, Config{})
	r := h.bind("broker", "front")
	if _, err := h.net.Bind("other", "front", nil); !errors.Is(err, ErrAddrInUse) {
		t.Errorf("second Bind: err = %v, want ErrAddrInUse", err)
	}
	for _, tc := range []struct{ node, addr string }{{"", "a"}, {"*", "a"}, {"n", ""}} {
		if _, err := h.net.Bind(tc.node, tc.addr, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Bind(%q, %q): err = %v, want ErrInvalid", tc.node, tc.addr, err)
		}
		if _, err := h.net.Connect(tc.node, tc.addr, nil); !errors.Is(err, ErrInvalid) {
			t.Errorf("Connect(%q, %q): err = %v, want ErrInvalid", tc.node, tc.addr, err)
		}
	}
	if err := r.Send("nobody", msg("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Send to unknown identity: err = %v, want ErrUnreachable", err)
	}
	d := h.connect("c1", "front")
	other := h.connect("c2", "elsewhere")
	if !r.Connected("c1.1") || r.Connected("c2.1") {
		t.Errorf("Connected: c1.1 %v (want true), c2.1 %v (want false: other address)",
			r.Connected("c1.1"), r.Connected("c2.1"))
	}
	if err := r.Send(other.Identity(), msg("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Send to a dealer of another address: err = %v, want ErrUnreachable", err)
	}
	d.Close()
	if err := d.Send(msg("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Close: err = %v, want ErrClosed", err)
	}
	if err := r.Send("c1.1", msg("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("Send to a closed dealer: err = %v, want ErrUnreachable", err)
	}
	r.Close()
	if err := r.Send("c1.1", msg("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send on a closed router: err = %v, want ErrClosed", err)
	}
	h.wantStats(Stats{})
}

func TestNoRouterThenBind(t *testing.T) {
	h := newHarness(t, Config{Latency: time.Millisecond})
	d := h.connect("c1", "front")
	mustSend(t, d.Send(msg("lost")))
	h.run()
	r := h.bind("broker", "front")
	mustSend(t, d.Send(msg("found")))
	mustSend(t, r.Send("c1.1", msg("back")))
	h.run()
	h.wantLog("1000us broker<c1.1 found", "1000us c1.1<back")
	h.wantStats(Stats{Sent: 3, Delivered: 2, DroppedNoRouter: 1})
}

// TestRebind closes a router with messages in flight both ways, binds a new one at
// the same address, and checks that the old messages are lost while the dealer's
// new ones reach the new router under the same identity, which can answer.
func TestRebind(t *testing.T) {
	h := newHarness(t, Config{Latency: 2 * time.Millisecond})
	old := h.bind("broker", "front")
	d := h.connect("c1", "front")
	mustSend(t, d.Send(msg("to-old")))
	mustSend(t, old.Send("c1.1", msg("from-old")))
	h.clock.RunUntil(ms(1))
	old.Close()
	old.Close()
	r := h.bind("broker2", "front")
	mustSend(t, d.Send(msg("to-new")))
	h.clock.RunUntil(ms(3))
	mustSend(t, r.Send("c1.1", msg("from-new")))
	h.run()
	h.wantLog("3000us broker2<c1.1 to-new", "5000us c1.1<from-new")
	h.wantStats(Stats{Sent: 4, Delivered: 2, DroppedClosed: 2})
}

// TestDealerClose: messages in flight to a closed dealer are dropped; those it sent
// before closing still arrive.
func TestDealerClose(t *testing.T) {
	h := newHarness(t, Config{Latency: time.Millisecond})
	r := h.bind("broker", "front")
	d := h.connect("c1", "front")
	mustSend(t, d.Send(msg("parting")))
	mustSend(t, r.Send("c1.1", msg("too-late")))
	d.Close()
	h.run()
	h.wantLog("1000us broker<c1.1 parting")
	h.wantStats(Stats{Sent: 2, Delivered: 1, DroppedClosed: 1})
}

func TestCut(t *testing.T) {
	h := newHarness(t, Config{Latency: time.Millisecond})
	r := h.bind("broker", "front")
	d := h.connect("w1", "front")
	keep := h.connect("w2", "front")
	mustSend(t, d.Send(msg("up")))
	mustSend(t, r.Send("w1.1", msg("down")))
	mustSend(t, keep.Send(msg("other")))
	h.net.Cut(d)
	h.net.Cut(d)
	h.net.Cut(nil)
	if err := d.Send(msg("x")); !errors.Is(err, ErrClosed) {
		t.Errorf("Send after Cut: err = %v, want ErrClosed", err)
	}
	if err := r.Send("w1.1", msg("x")); !errors.Is(err, ErrUnreachable) {
		t.Errorf("router Send after Cut: err = %v, want ErrUnreachable", err)
	}
	if !d.Closed() {
		t.Error("Closed() = false after Cut")
	}
	h.run()
	h.wantLog("1000us broker<w2.1 other")
	h.wantStats(Stats{Sent: 3, Delivered: 1, DroppedClosed: 2})
}

// sendBurst makes nConn dealers send nMsg numbered messages each at random instants
// and returns the router's delivery log: "identity seq" per message.
func sendBurst(seed uint64, cfg Config, nConn, nMsg int) []string {
	rng := rand.New(rand.NewPCG(seed, 1))
	cfg.Rand = rand.New(rand.NewPCG(seed, 2))
	c := NewClock(epoch)
	n := NewNetwork(c, cfg)
	var log []string
	if _, err := n.Bind("broker", "front", func(from string, frames [][]byte) {
		log = append(log, from+" "+string(frames[0]))
	}); err != nil {
		panic(err)
	}
	for i := range nConn {
		d, err := n.Connect("c"+strconv.Itoa(i), "front", nil)
		if err != nil {
			panic(err)
		}
		for k := range nMsg {
			// Several messages per instant, the rest spread over 10ms.
			at := epoch.Add(time.Duration(rng.IntN(10)) * time.Millisecond)
			if k%3 == 0 {
				at = epoch
			}
			c.At(at, func() {
				if err := d.Send(msg(strconv.Itoa(k))); err != nil {
					panic(err)
				}
			})
		}
	}
	for c.Step() {
	}
	return log
}

// TestFIFOUnderJitter: for many seeds, with jitter far larger than the spacing of
// sends, each connection's messages arrive in the order they were sent, yet
// messages of different connections do reorder.
func TestFIFOUnderJitter(t *testing.T) {
	cfg := Config{Latency: time.Millisecond, Jitter: 20 * time.Millisecond}
	reordered := 0
	for seed := range uint64(200) {
		log := sendBurst(seed, cfg, 4, 30)
		// With no latency and no jitter, delivery order is the send order.
		sent := sendBurst(seed, Config{}, 4, 30)
		if len(log) != len(sent) || len(sent) != 4*30 {
			t.Fatalf("seed %d: %d deliveries, %d sends, want 120", seed, len(log), len(sent))
		}
		for i := range 4 {
			id := "c" + strconv.Itoa(i) + ".1"
			if d := cmp.Diff(ofConn(sent, id), ofConn(log, id)); d != "" {
				t.Fatalf("seed %d: connection %s out of order (-sent +delivered):\n%s", seed, id, d)
			}
		}
		if !cmp.Equal(sent, log) {
			reordered++
		}
	}
	if reordered < 100 {
		t.Errorf("only %d of 200 seeds reordered messages across connections", reordered)
	}
}

// ofConn returns the lines of log that belong to connection id.
func ofConn(log []string, id string) []string {
	var out []string
	for _, l := range log {
		if strings.HasPrefix(l, id+" ") {
			out = append(out, l)
		}
	}
	return out
}
