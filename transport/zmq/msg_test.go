package zmq

import (
	"fmt"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"
)

// TestMessageHelpers: the one-call receive and send carry messages exactly as zmq4
// does, with empty parts and with more parts than one call takes, and report EAGAIN
// and EHOSTUNREACH as zmq4 errors.
func TestMessageHelpers(t *testing.T) {
	zctx, err := zmq4.NewContext()
	if err != nil {
		t.Fatal(err)
	}
	a, b := socketPair(t, zctx)
	var in recvScratch
	var out sendScratch
	if _, err := in.recv(b, false); !isAgain(err) {
		t.Fatalf("recv on an empty socket: %v; want EAGAIN", err)
	}
	long := make([][]byte, 3*maxParts+1)
	for i := range long {
		long[i] = fmt.Appendf(nil, "part %d", i)
	}
	for _, msg := range [][][]byte{{[]byte("one")}, {{}, []byte("MDPC01"), {}}, long} {
		if err := out.send(a, msg); err != nil {
			t.Fatalf("send: %v", err)
		}
		got, err := b.RecvMessageBytes(0)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(msg, got); d != "" {
			t.Errorf("zmq4 received (-sent +got):\n%s", d)
		}
		parts := make([]any, len(msg))
		for i, f := range msg {
			parts[i] = f
		}
		if _, err := a.SendMessage(parts...); err != nil {
			t.Fatal(err)
		}
		if got, err = in.recv(b, true); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(msg, got); d != "" {
			t.Errorf("recv (-sent +got):\n%s", d)
		}
	}
	router, err := newSocket(zctx, zmq4.ROUTER, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := router.SetRouterMandatory(1); err != nil {
		t.Fatal(err)
	}
	if err := out.sendRouted(router, []byte("nobody"), [][]byte{[]byte("x")}); zmq4.AsErrno(err) != zmq4.Errno(syscall.EHOSTUNREACH) {
		t.Errorf("send to an unknown peer: %v; want EHOSTUNREACH", err)
	}
	for _, s := range []*zmq4.Socket{a, b, router} {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	if err := zctx.Term(); err != nil {
		t.Error(err)
	}
}

// socketPair returns two PAIR sockets of zctx connected over inproc.
func socketPair(t *testing.T, zctx *zmq4.Context) (*zmq4.Socket, *zmq4.Socket) {
	t.Helper()
	a, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	b, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	ep := "inproc://msg-test"
	if err := a.Bind(ep); err != nil {
		t.Fatal(err)
	}
	if err := b.Connect(ep); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// TestRecvScratchAligned: libzmq wants its zmq_msg_t aligned like a pointer, and cgo
// gives it byte alignment, so recvScratch must align its C parts itself.
func TestRecvScratchAligned(t *testing.T) {
	var r recvScratch
	if a, off := unsafe.Alignof(r), unsafe.Offsetof(r.rx); a < unsafe.Alignof(uintptr(0)) || off%unsafe.Alignof(uintptr(0)) != 0 {
		t.Errorf("recvScratch aligned to %d with its C parts at offset %d; want pointer alignment", a, off)
	}
}
