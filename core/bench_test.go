package core

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
)

// BenchmarkFullRequest measures one whole request through core alone: the client
// builds it, the broker routes it to the worker, the worker's application answers,
// the broker routes the reply back and the client accepts it. No transport: frames are
// handed from machine to machine as the outputs say.
func BenchmarkFullRequest(b *testing.B) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	broker := NewBroker(BrokerConfig{}, now)
	worker := NewWorker(WorkerConfig{Service: "echo"})
	client := NewClient(ClientConfig{})
	wp, cp := Peer{Backend, "w1"}, Peer{Frontend, "c1"}
	worker.Start(now)
	for _, o := range worker.Drain() {
		if o.Kind == SendOutput {
			broker.Receive(now, wp, o.Frames)
		}
	}
	broker.Drain()
	body := [][]byte{[]byte("hello")}
	replies := 0
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		client.Request(now, "echo", body)
		for _, o := range client.Drain() {
			broker.Receive(now, cp, o.Frames)
		}
		for _, o := range broker.Drain() {
			if o.Kind == SendOutput {
				worker.Receive(now, o.Frames)
			}
		}
		for _, o := range worker.Drain() {
			if o.Kind == DeliverOutput {
				worker.Reply(now, o.Body)
			}
		}
		for _, o := range worker.Drain() {
			broker.Receive(now, wp, o.Frames)
		}
		for _, o := range broker.Drain() {
			if o.Kind == SendOutput {
				client.Receive(now, o.Frames)
			}
		}
		for _, o := range client.Drain() {
			if o.Kind == DeliverOutput {
				replies++
			}
		}
	}
	b.StopTimer()
	if replies != b.N {
		b.Fatalf("%d replies for %d requests", replies, b.N)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// BenchmarkQueuedMemory reports the heap the broker keeps per queued request (a
// 5-byte body from a client with a 5-byte identity), as bytes/queued.
func BenchmarkQueuedMemory(b *testing.B) {
	now := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 100000
	for range b.N {
		b.StopTimer()
		broker := NewBroker(BrokerConfig{QueueLimit: -1}, now)
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for i := range n {
			id := make([]byte, 5)
			binary.BigEndian.PutUint32(id[1:], uint32(i))
			broker.Receive(now, Peer{Frontend, string(id)},
				[][]byte{envelope(uint64(i+1), StatusOK), {}, []byte(ClientHeader), []byte("echo"), []byte("hello")})
			broker.Drain()
		}
		b.StopTimer()
		runtime.GC()
		runtime.ReadMemStats(&after)
		if got := broker.Services(); len(got) != 1 || got[0].Queued != n {
			b.Fatalf("services %+v, want %d queued", got, n)
		}
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/queued")
		runtime.KeepAlive(broker)
	}
}
