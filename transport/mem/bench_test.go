package mem

import (
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// BenchmarkDeliver measures one message sent by a dealer, delivered to the router,
// and one reply sent back and delivered: two Sends and two delivery events per op,
// with latency and jitter, on 16 connections.
func BenchmarkDeliver(b *testing.B) {
	c := NewClock(epoch)
	n := NewNetwork(c, Config{
		Latency: time.Millisecond,
		Jitter:  100 * time.Microsecond,
		Rand:    rand.New(rand.NewPCG(1, 2)),
	})
	var r *Router
	r, err := n.Bind("broker", "front", func(from string, frames [][]byte) {
		if err := r.Send(from, frames); err != nil {
			b.Fatal(err)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	frames := [][]byte{[]byte("MDPC01"), []byte("echo"), []byte("hello")}
	dealers := make([]*Dealer, 16)
	for i := range dealers {
		if dealers[i], err = n.Connect("c", "front", func([][]byte) {}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := dealers[i%16].Send(frames); err != nil {
			b.Fatal(err)
		}
		c.Step()
		c.Step()
	}
	b.StopTimer()
	if s := n.Stats(); s.Delivered != 2*uint64(b.N) {
		b.Fatalf("delivered %d of %d", s.Delivered, 2*b.N)
	}
}

// BenchmarkTimerReset measures re-arming one timer and running it, as a driver does
// with a state machine's deadline.
func BenchmarkTimerReset(b *testing.B) {
	c := NewClock(epoch)
	fired := 0
	tm := c.At(epoch, func() { fired++ })
	tm.Stop()
	b.ReportAllocs()
	for b.Loop() {
		tm.Reset(c.Now().Add(time.Millisecond))
		c.Step()
	}
	if fired == 0 {
		b.Fatal("timer never fired")
	}
}

// BenchmarkDeliverLoaded measures one message delivered and answered while 1024
// messages are in flight on 64 connections, so the heap has its working size: one
// op is one delivery event and one Send.
func BenchmarkDeliverLoaded(b *testing.B) {
	c := NewClock(epoch)
	n := NewNetwork(c, Config{
		Latency: time.Millisecond,
		Jitter:  time.Millisecond,
		Rand:    rand.New(rand.NewPCG(3, 4)),
	})
	var r *Router
	r, err := n.Bind("broker", "front", func(from string, frames [][]byte) {
		if err := r.Send(from, frames); err != nil {
			b.Fatal(err)
		}
	})
	if err != nil {
		b.Fatal(err)
	}
	frames := [][]byte{[]byte("MDPC01"), []byte("echo"), []byte("hello")}
	for i := range 64 {
		var d *Dealer
		d, err = n.Connect("c"+strconv.Itoa(i), "front", func(f [][]byte) {
			if err := d.Send(f); err != nil {
				b.Fatal(err)
			}
		})
		if err != nil {
			b.Fatal(err)
		}
		for range 16 {
			if err := d.Send(frames); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		c.Step()
	}
	b.StopTimer()
	if p := c.Pending(); p != 1024 {
		b.Fatalf("%d messages in flight, want 1024", p)
	}
}
