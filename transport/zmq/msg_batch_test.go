package zmq

import (
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"unsafe"

	"github.com/google/go-cmp/cmp"
	zmq4 "github.com/pebbe/zmq4"
)

// batchPair returns a ROUTER (ROUTER_MANDATORY) and a DEALER of identity "d1"
// connected to it over inproc, where a message sent is at the other end when the send
// returns: what is waiting is known exactly.
func batchPair(t *testing.T) (r, d *zmq4.Socket) {
	t.Helper()
	zctx, err := newContext()
	if err != nil {
		t.Fatal(err)
	}
	r, err = newSocket(zctx, router, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.SetRouterMandatory(1); err != nil {
		t.Fatal(err)
	}
	ep := inprocEndpoint("batch-test")
	if err := r.Bind(ep); err != nil {
		t.Fatal(err)
	}
	d, err = newSocket(zctx, dealer, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.SetIdentity("d1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ep); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []*zmq4.Socket{r, d} {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
		if err := zctx.Term(); err != nil {
			t.Error(err)
		}
	})
	return r, d
}

// batchMessages returns n messages of varied shapes: empty parts, more parts than one
// call takes, a part larger than a chunk.
func batchMessages(n int) [][][]byte {
	msgs := make([][][]byte, n)
	for i := range msgs {
		switch i % 7 {
		case 3:
			msgs[i] = [][]byte{{}, []byte("MDPC01"), {}, fmt.Appendf(nil, "body %d", i)}
		case 5:
			long := make([][]byte, maxBatchParts+3)
			for k := range long {
				long[k] = fmt.Appendf(nil, "%d/%d", i, k)
			}
			msgs[i] = long
		case 6:
			big := make([]byte, chunkBytes+100+i)
			for k := range big {
				big[k] = byte(i + k)
			}
			msgs[i] = [][]byte{[]byte("big"), big}
		default:
			msgs[i] = [][]byte{{}, []byte("MDPW01"), {4}, fmt.Appendf(nil, "%d", i)}
		}
	}
	return msgs
}

// TestBatchHelpers: one receive call takes every message waiting, up to
// maxBatchMsgs, byte for byte, whatever their shape, and the messages go back intact;
// with every third part failing with EINTR first, nothing changes.
func TestBatchHelpers(t *testing.T) {
	for _, every := range []int32{0, 3} {
		t.Run(fmt.Sprintf("eintr-every-%d", every), func(t *testing.T) {
			r, d := batchPair(t)
			var in batchRecv
			var out sendScratch
			in.faults.every, in.faults.errno, in.faults.n = every, syscall.EINTR, 1<<30
			out.faults = in.faults
			if err := in.recv(r, false); !isAgain(err) {
				t.Fatalf("recv with nothing waiting: %v; want EAGAIN", err)
			}
			const n = maxBatchMsgs + 20
			msgs := batchMessages(n)
			var send sendScratch
			for _, m := range msgs {
				if err := send.send(d, m); err != nil {
					t.Fatal(err)
				}
			}
			var got [][][]byte
			calls, cgoCalls := 0, in.calls
			for len(got) < n {
				err := in.recv(r, false)
				if err != nil {
					t.Fatalf("recv after %d messages: %v", len(got), err)
				}
				calls++
				if every == 0 && len(in.msgs) > maxBatchMsgs {
					t.Errorf("one recv returned %d messages; want at most %d", len(in.msgs), maxBatchMsgs)
				}
				for _, m := range in.msgs {
					if string(m.id) != "d1" {
						t.Fatalf("identity %q; want d1", m.id)
					}
					got = append(got, m.frames)
				}
			}
			if d := cmp.Diff(msgs, got); d != "" {
				t.Fatalf("received (-sent +got):\n%s", d)
			}
			// Each recv call ends with one cgo call that finds nothing more; a long
			// message takes one more, a part larger than what is left of a chunk one
			// more (two for a big one: its own chunk, then a new one after it). Every
			// other message comes in the same cgo call as the messages before it.
			bytes := 0
			for _, m := range msgs {
				for _, f := range m {
					bytes += len(f) + len("d1")
				}
			}
			long, big := (n+1)/7, (n+0)/7
			bound := 2*calls + long + 2*big + bytes/chunkBytes + 1
			if cgo := in.calls - cgoCalls; every == 0 && (calls != 2 || cgo > bound) {
				t.Errorf("%d messages waiting took %d receive calls and %d cgo calls; want 2 (%d a call) and at most %d",
					n, calls, cgo, maxBatchMsgs, bound)
			}
			// Back to d1, from the chunks they were received in.
			for _, i := range []int{0, 5, 6} {
				if err := out.sendRouted(r, []byte("d1"), got[i]); err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
			}
			var back recvScratch
			for _, i := range []int{0, 5, 6} {
				m, err := back.recv(d, true)
				if err != nil {
					t.Fatal(err)
				}
				if d := cmp.Diff(msgs[i], m); d != "" {
					t.Errorf("message %d sent back (-want +got):\n%s", i, d)
				}
			}
		})
	}
}

// TestBatchNoAllocPerMessage: on the steady path (messages of a few frames, each
// received and answered) the broker's batch receive and its sends allocate only a
// chunk now and then, far less than once per message.
func TestBatchNoAllocPerMessage(t *testing.T) {
	r, d := batchPair(t)
	var in batchRecv
	var out sendScratch
	var send sendScratch
	var back recvScratch
	req := [][]byte{{}, []byte("MDPC01"), []byte("echo"), []byte("hello world")}
	const rounds, per = 200, maxBatchMsgs
	round := func() (mallocs uint64) {
		for range per {
			if err := send.send(d, req); err != nil {
				t.Fatal(err)
			}
		}
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		if err := in.recv(r, false); err != nil {
			t.Fatal(err)
		}
		for i := range in.msgs {
			if err := out.sendRouted(r, in.msgs[i].id, in.msgs[i].frames); err != nil {
				t.Fatalf("send: %v", err)
			}
		}
		runtime.ReadMemStats(&after)
		if len(in.msgs) != per {
			t.Fatalf("one call took %d of %d messages waiting", len(in.msgs), per)
		}
		for range per {
			if _, err := back.recv(d, true); err != nil {
				t.Fatal(err)
			}
		}
		return after.Mallocs - before.Mallocs
	}
	round() // the first round grows the reused slices
	var mallocs uint64
	for range rounds {
		mallocs += round()
	}
	perMsg := float64(mallocs) / (rounds * per)
	t.Logf("%d allocations for %d messages received and sent: %.4f a message", mallocs, rounds*per, perMsg)
	if perMsg > 0.05 {
		t.Errorf("%.4f allocations a message; want at most 0.05 (a chunk now and then)", perMsg)
	}
}

// TestBatchRecvAligned: libzmq wants its zmq_msg_t aligned like a pointer, and cgo
// gives it byte alignment, so batchRecv must align its C state itself.
func TestBatchRecvAligned(t *testing.T) {
	var r batchRecv
	if a, off := unsafe.Alignof(r), unsafe.Offsetof(r.rx); a < unsafe.Alignof(uintptr(0)) || off%unsafe.Alignof(uintptr(0)) != 0 {
		t.Errorf("batchRecv aligned to %d with its C state at offset %d; want pointer alignment", a, off)
	}
}
