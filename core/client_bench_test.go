package core

import (
	"encoding/binary"
	"testing"
	"time"
)

// BenchmarkClientRequest measures one request and its reply through a Client alone.
func BenchmarkClientRequest(b *testing.B) {
	c := NewClient(ClientConfig{})
	body := [][]byte{[]byte("hello")}
	rep := reply(0, StatusOK, "echo", "hello")
	now := t0
	b.ReportAllocs()
	for b.Loop() {
		now = now.Add(time.Microsecond)
		seq := c.Request(now, "echo", body)
		binary.BigEndian.PutUint64(rep[0], seq)
		c.Receive(now, rep)
		c.Drain()
	}
}

// BenchmarkWorkerRequest measures one request and its reply through a Worker alone.
func BenchmarkWorkerRequest(b *testing.B) {
	w := NewWorker(WorkerConfig{Service: "echo"})
	w.Start(t0)
	req := workerRequest("c1", "hello")
	body := [][]byte{[]byte("hello")}
	b.ReportAllocs()
	for b.Loop() {
		w.Receive(t0, req)
		w.Reply(t0, body)
		w.Drain()
	}
}
