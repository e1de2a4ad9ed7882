package mem

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// chatter runs a small busy network for seed: 3 dealers on 3 nodes and a router that
// echoes, with jitter and every random fault on, and returns the trace of every
// message's fate with its virtual time.
func chatter(seed uint64) []string {
	c := NewClock(epoch)
	n := NewNetwork(c, Config{
		Latency: time.Millisecond,
		Jitter:  5 * time.Millisecond,
		Rand:    rand.New(rand.NewPCG(seed, 0)),
	})
	var log []string
	n.SetTrace(func(m *Envelope, dropped Cause) {
		log = append(log, strconv.FormatInt(int64(c.Since()), 10)+" "+m.String()+" "+dropped.String())
	})
	n.SetLinkFaults("*", "*", Faults{Drop: 0.1, Duplicate: 0.1, Delay: 7 * time.Millisecond, DelayProb: 0.2})
	var r *Router
	r, err := n.Bind("broker", "front", func(from string, frames [][]byte) {
		_ = r.Send(from, frames)
	})
	if err != nil {
		panic(err)
	}
	for i := range 3 {
		d, err := n.Connect("c"+strconv.Itoa(i), "front", nil)
		if err != nil {
			panic(err)
		}
		for k := range 20 {
			c.At(epoch.Add(time.Duration(k)*time.Millisecond), func() { _ = d.Send(msg("m")) })
		}
	}
	for c.Step() {
	}
	return log
}

func TestDeterminism(t *testing.T) {
	a, b := chatter(42), chatter(42)
	if len(a) < 100 {
		t.Fatalf("only %d trace lines", len(a))
	}
	if d := cmp.Diff(a, b); d != "" {
		t.Errorf("same seed, different traces (-first +second):\n%s", d)
	}
	if cmp.Equal(a, chatter(43)) {
		t.Error("seeds 42 and 43 gave identical traces")
	}
}

// faultCase sends msgs messages from a dealer on node "c1" to a router on "broker"
// at time 0, each answered by the router, after setup installs faults.
type faultCase struct {
	name      string
	setup     func(n *Network)
	wantLog   []string
	wantStats Stats
}

func TestFaults(t *testing.T) {
	tests := []faultCase{
		{
			name: "filter drop upstream only",
			setup: func(n *Network) {
				n.SetFilter(func(m *Envelope) Verdict {
					if m.ToRouter && string(m.Frames[0]) == "1" {
						return Drop
					}
					return Deliver
				})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 5, Delivered: 4, DroppedFilter: 1},
		},
		{
			name: "filter duplicate",
			setup: func(n *Network) {
				n.SetFilter(func(m *Envelope) Verdict {
					if !m.ToRouter && string(m.Frames[0]) == "0" {
						return Duplicate
					}
					return Deliver
				})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 1", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<0", "2000us c1.1<1", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 7, Duplicated: 1},
		},
		{
			// The delayed message holds back the later ones on its connection (FIFO).
			name: "filter delay keeps FIFO",
			setup: func(n *Network) {
				n.SetFilter(func(m *Envelope) Verdict {
					if m.ToRouter && string(m.Frames[0]) == "1" {
						return Delay(5 * time.Millisecond)
					}
					return Deliver
				})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "2000us c1.1<0",
				"6000us broker<c1.1 1", "6000us broker<c1.1 2",
				"7000us c1.1<1", "7000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 6, Delayed: 1},
		},
		{
			name: "link drop one direction",
			setup: func(n *Network) {
				n.SetLinkFaults("broker", "c1", Faults{Drop: 1})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 1", "1000us broker<c1.1 2",
			},
			wantStats: Stats{Sent: 6, Delivered: 3, DroppedLink: 3},
		},
		{
			name: "link duplicate with wildcard",
			setup: func(n *Network) {
				n.SetLinkFaults("c1", "*", Faults{Duplicate: 1})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 0",
				"1000us broker<c1.1 1", "1000us broker<c1.1 1",
				"1000us broker<c1.1 2", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<0", "2000us c1.1<1",
				"2000us c1.1<1", "2000us c1.1<2", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 9, Delivered: 12, Duplicated: 3},
		},
		{
			name: "link delay",
			setup: func(n *Network) {
				n.SetLinkFaults("*", "broker", Faults{Delay: 4 * time.Millisecond, DelayProb: 1})
			},
			wantLog: []string{
				"5000us broker<c1.1 0", "5000us broker<c1.1 1", "5000us broker<c1.1 2",
				"6000us c1.1<0", "6000us c1.1<1", "6000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 6, Delayed: 3},
		},
		{
			// The exact setting wins over the wildcard one.
			name: "specific link setting overrides wildcard",
			setup: func(n *Network) {
				n.SetLinkFaults("*", "*", Faults{Drop: 1})
				n.SetLinkFaults("c1", "broker", Faults{Delay: time.Millisecond, DelayProb: 1})
			},
			wantLog: []string{
				"2000us broker<c1.1 0", "2000us broker<c1.1 1", "2000us broker<c1.1 2",
			},
			wantStats: Stats{Sent: 6, Delivered: 3, Delayed: 3, DroppedLink: 3},
		},
		{
			name: "zero faults remove a setting",
			setup: func(n *Network) {
				n.SetLinkFaults("*", "*", Faults{Drop: 1})
				n.SetLinkFaults("*", "*", Faults{})
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 1", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<1", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 6},
		},
		{
			name:      "partition",
			setup:     func(n *Network) { n.Partition("broker", "c1") },
			wantStats: Stats{Sent: 3, DroppedPartition: 3},
		},
		{
			name:      "partition from everyone",
			setup:     func(n *Network) { n.Partition("c1", "*") },
			wantStats: Stats{Sent: 3, DroppedPartition: 3},
		},
		{
			name: "partition of other nodes",
			setup: func(n *Network) {
				n.Partition("broker", "c2")
				n.Partition("c1", "c3")
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 1", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<1", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 6},
		},
		{
			name: "healed partition",
			setup: func(n *Network) {
				n.Partition("c1", "broker")
				n.Heal("broker", "c1")
			},
			wantLog: []string{
				"1000us broker<c1.1 0", "1000us broker<c1.1 1", "1000us broker<c1.1 2",
				"2000us c1.1<0", "2000us c1.1<1", "2000us c1.1<2",
			},
			wantStats: Stats{Sent: 6, Delivered: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, Config{Latency: time.Millisecond})
			var r *Router
			r, err := h.net.Bind("broker", "front", func(from string, frames [][]byte) {
				h.log = append(h.log, h.stamp()+"broker<"+from+" "+string(frames[0]))
				mustSend(t, r.Send(from, frames))
			})
			if err != nil {
				t.Fatal(err)
			}
			d := h.connect("c1", "front")
			tt.setup(h.net)
			for i := range 3 {
				mustSend(t, d.Send(msg(strconv.Itoa(i))))
			}
			h.run()
			h.wantLog(tt.wantLog...)
			h.wantStats(tt.wantStats)
		})
	}
}

// TestPartitionInFlight: a message sent before a partition and arriving during it is
// lost; one sent during it and arriving after Heal is lost too (dropped at send).
func TestPartitionInFlight(t *testing.T) {
	h := newHarness(t, Config{Latency: 10 * time.Millisecond})
	h.bind("broker", "front")
	d := h.connect("c1", "front")
	mustSend(t, d.Send(msg("before")))
	h.clock.RunUntil(ms(5))
	h.net.Partition("c1", "broker")
	if !h.net.Partitioned("broker", "c1") {
		t.Error("Partitioned() = false during the partition")
	}
	mustSend(t, d.Send(msg("during")))
	h.clock.RunUntil(ms(12))
	h.net.Heal("c1", "broker")
	if h.net.Partitioned("broker", "c1") {
		t.Error("Partitioned() = true after Heal")
	}
	mustSend(t, d.Send(msg("after")))
	h.run()
	h.wantLog("22000us broker<c1.1 after")
	h.wantStats(Stats{Sent: 3, Delivered: 1, DroppedPartition: 2})
}

// TestLinkFaultRates checks that random link faults hit at about their probability.
func TestLinkFaultRates(t *testing.T) {
	c := NewClock(epoch)
	n := NewNetwork(c, Config{Rand: rand.New(rand.NewPCG(7, 7))})
	if _, err := n.Bind("broker", "front", nil); err != nil {
		t.Fatal(err)
	}
	d, err := n.Connect("c1", "front", nil)
	if err != nil {
		t.Fatal(err)
	}
	n.SetLinkFaults("c1", "broker", Faults{Drop: 0.2, Duplicate: 0.3, Delay: time.Millisecond, DelayProb: 0.5})
	const total = 20000
	for range total {
		mustSend(t, d.Send(msg("x")))
	}
	for c.Step() {
	}
	s := n.Stats()
	near := func(name string, got uint64, p float64) {
		want := p * total
		if f := float64(got); f < want*0.9 || f > want*1.1 {
			t.Errorf("%s = %d, want about %.0f", name, got, want)
		}
	}
	near("DroppedLink", s.DroppedLink, 0.2)
	near("Duplicated", s.Duplicated, 0.8*0.3)
	near("Delayed", s.Delayed, 0.8*0.5)
	if s.Delivered != total-s.DroppedLink+s.Duplicated {
		t.Errorf("Delivered = %d, want %d", s.Delivered, total-s.DroppedLink+s.Duplicated)
	}
}

func TestVerdictAndCauseStrings(t *testing.T) {
	got := []string{
		Deliver.String(), Drop.String(), Duplicate.String(), Delay(5 * time.Millisecond).String(),
		Delay(-1).String(), Verdict(-9).String(),
		Cause(0).String(), CauseFilter.String(), CauseLink.String(), CausePartition.String(),
		CauseNoRouter.String(), CauseClosed.String(), Cause(99).String(),
	}
	want := []string{
		"deliver", "drop", "duplicate", "delay 5ms", "deliver", "verdict(-9)",
		"delivered", "filter", "link", "partition", "no-router", "closed", "cause(99)",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("String() mismatch (-want +got):\n%s", d)
	}
	if Delay(3*time.Second).Delayed() != 3*time.Second || Drop.Delayed() != 0 {
		t.Error("Delayed() wrong")
	}
	e := Envelope{ID: 7, FromNode: "c1", ToNode: "broker", Identity: "c1.1", Addr: "front", Frames: msg("x")}
	if got := e.String(); got != "#7 c1→broker c1.1@front 1 frame" {
		t.Errorf("Envelope.String() = %q", got)
	}
	e.ToNode, e.Frames = "", nil
	if got := e.String(); got != "#7 c1→? c1.1@front 0 frames" {
		t.Errorf("Envelope.String() = %q", got)
	}
}

// TestTraceFates: the trace sees every copy once, with its cause.
func TestTraceFates(t *testing.T) {
	h := newHarness(t, Config{Latency: time.Millisecond})
	var fates []string
	h.net.SetTrace(func(m *Envelope, dropped Cause) { fates = append(fates, m.String()+" "+dropped.String()) })
	d := h.connect("c1", "front")
	mustSend(t, d.Send(msg("a")))
	h.bind("broker", "front")
	h.net.SetFilter(func(m *Envelope) Verdict {
		if m.ID == 2 {
			return Drop
		}
		return Duplicate
	})
	mustSend(t, d.Send(msg("b")))
	mustSend(t, d.Send(msg("c")))
	h.run()
	want := []string{
		"#1 c1→? c1.1@front 1 frame no-router",
		"#2 c1→broker c1.1@front 1 frame filter",
		"#3 c1→broker c1.1@front 1 frame delivered",
		"#3 c1→broker c1.1@front 1 frame delivered",
	}
	if d := cmp.Diff(want, fates); d != "" {
		t.Errorf("trace mismatch (-want +got):\n%s", d)
	}
}
