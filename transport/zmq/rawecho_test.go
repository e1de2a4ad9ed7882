package zmq

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestRawEcho checks the raw limit's far end: a RawPeer's messages come back as they
// went, frame for frame, and Serve returns nil when its context ends.
func TestRawEcho(t *testing.T) {
	e, err := ListenRawEcho("tcp://127.0.0.1:*")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	served := make(chan error, 1)
	go func() { served <- e.Serve(ctx) }()
	p, err := DialRaw(e.Endpoint())
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Error(err)
		}
	}()
	for _, msg := range [][][]byte{
		{[]byte(""), []byte("MDPC01"), []byte("echo"), []byte("hello")},
		{[]byte("one frame")},
		{{}, {}, []byte("empty frames around")},
	} {
		if err := p.Send(msg); err != nil {
			t.Fatal(err)
		}
		got, err := p.Recv(10 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(msg, got); d != "" {
			t.Errorf("echo mismatch (-sent +got):\n%s", d)
		}
	}
	cancel()
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve = %v; want nil after the context ended", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if err := e.Close(); err != nil {
		t.Error(err)
	}
}
