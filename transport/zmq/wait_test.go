package zmq

import (
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"
)

// waiterPair returns a waiter on the receiving end of an inproc PAIR, that end and
// the sending end.
func waiterPair(t *testing.T) (*sockWaiter, *zmq4.Socket, *zmq4.Socket) {
	t.Helper()
	zctx, err := newContext()
	if err != nil {
		t.Fatal(err)
	}
	ep := inprocEndpoint("waitertest")
	recv, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := recv.Bind(ep); err != nil {
		t.Fatal(err)
	}
	send, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := send.Connect(ep); err != nil {
		t.Fatal(err)
	}
	w, err := newSockWaiter(zctx, recv)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := w.close(); err != nil {
			t.Error(err)
		}
		w.kick() // after close: nothing happens
		for _, s := range []*zmq4.Socket{send, recv} {
			if err := s.Close(); err != nil {
				t.Error(err)
			}
		}
		if err := zctx.Term(); err != nil {
			t.Error(err)
		}
	})
	return w, recv, send
}

// pairSocket opens a PAIR in zctx, closed when the test ends.
func pairSocket(t *testing.T, zctx *zmq4.Context) *zmq4.Socket {
	t.Helper()
	s, err := newSocket(zctx, zmq4.PAIR, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s
}

// drainSocket receives until EAGAIN, as a loop does before it waits, and returns how
// many messages it took.
func drainSocket(t *testing.T, s *zmq4.Socket) int {
	t.Helper()
	for n := 0; ; n++ {
		if _, err := s.RecvBytes(zmq4.DONTWAIT); err != nil {
			if !isAgain(err) {
				t.Fatal(err)
			}
			return n
		}
	}
}

// waitReturns runs w.wait(deadline, block) and fails the test unless it returns within
// waitLimit: a wait that is never woken would block forever.
func waitReturns(t *testing.T, w *sockWaiter, deadline time.Time, block bool, what string) {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- w.wait(deadline, block) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%s: wait: %v", what, err)
		}
	case <-time.After(waitLimit):
		t.Fatalf("%s: the wait was not woken", what)
	}
}

// TestWaiterWakes checks each way a wait must end, parked and blocking: a kick
// during the wait, a kick before it, input arriving, input that was already there
// before the wait (its signal consumed; parked only: a blocking wait's caller must
// have received until EAGAIN), the deadline, and input on a replacing socket.
func TestWaiterWakes(t *testing.T) {
	for _, block := range []bool{false, true} {
		t.Run(map[bool]string{false: "parked", true: "blocking"}[block], func(t *testing.T) {
			testWaiterWakes(t, block)
		})
	}
}

func testWaiterWakes(t *testing.T, block bool) {
	w, recv, send := waiterPair(t)
	never := time.Time{}

	drainSocket(t, recv)
	go func() {
		time.Sleep(20 * time.Millisecond)
		w.kick()
	}()
	waitReturns(t, w, never, block, "kick during the wait")

	w.kick()
	waitReturns(t, w, never, block, "kick before the wait")

	inputWakes(t, w, block, send, recv, "input during the wait")

	if !block {
		// The message is queued and its signal consumed (ZMQ_EVENTS processes the
		// socket's commands), but the loop did not receive it: the wait must not
		// sleep.
		if _, err := send.SendBytes([]byte("b"), 0); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
		if ev, err := recv.GetEvents(); err != nil || ev&zmq4.POLLIN == 0 {
			t.Fatalf("input queued: events %v, %v", ev, err)
		}
		waitReturns(t, w, never, block, "input queued before the wait")
		if n := drainSocket(t, recv); n != 1 {
			t.Fatalf("after input queued before the wait: received %d, want 1", n)
		}
	}

	// A wait may end early ("may have input": a command reaching the socket, such
	// as the peer's flow control, signals ZMQ_FD too), and its loop just waits again;
	// but with nothing to wake it, it must sleep until the deadline, not spin.
	deadline := time.Now().Add(30 * time.Millisecond)
	wakes := 0
	for time.Now().Before(deadline) {
		waitReturns(t, w, deadline, block, "deadline")
		drainSocket(t, recv)
		if wakes++; wakes > 10 {
			t.Fatalf("deadline 30ms: %d wake-ups before it, with no input and no kick", wakes)
		}
	}

	// A new connection: the waiter watches the new socket only.
	zctx, err := newContext()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { // after the sockets' cleanups: Term waits for them
		if err := zctx.Term(); err != nil {
			t.Error(err)
		}
	})
	ep := inprocEndpoint("waitertest2")
	recv2, send2 := pairSocket(t, zctx), pairSocket(t, zctx)
	if err := recv2.Bind(ep); err != nil {
		t.Fatal(err)
	}
	if err := w.replace(recv2); err != nil {
		t.Fatal(err)
	}
	if err := send2.Connect(ep); err != nil {
		t.Fatal(err)
	}
	drainSocket(t, recv2)
	inputWakes(t, w, block, send2, recv2, "input on the new socket")
}

// inputWakes checks that a message sent on send while w waits ends the wait, and
// that recv then has exactly that message. Waits that end early, before the message
// (see the deadline case), are waited again, a few at most.
func inputWakes(t *testing.T, w *sockWaiter, block bool, send, recv *zmq4.Socket, what string) {
	t.Helper()
	sent := make(chan error, 1)
	go func() {
		time.Sleep(20 * time.Millisecond)
		_, err := send.SendBytes([]byte(what), 0)
		sent <- err
	}()
	got := 0
	for wakes := 1; got == 0; wakes++ {
		if wakes > 10 {
			<-sent
			t.Fatalf("%s: %d wake-ups and no message", what, wakes-1)
		}
		waitReturns(t, w, time.Time{}, block, what)
		got += drainSocket(t, recv)
	}
	if err := <-sent; err != nil {
		t.Fatalf("%s: send: %v", what, err)
	}
	if got += drainSocket(t, recv); got != 1 {
		t.Fatalf("after %s: received %d, want 1", what, got)
	}
}

// TestWaiterKickStorm checks that no kick is lost among many from many goroutines,
// with the loop switching between parked and blocking waits: each kicker waits for
// the loop to have seen its kick before the next.
func TestWaiterKickStorm(t *testing.T) {
	w, recv, _ := waiterPair(t)
	drainSocket(t, recv)
	const kickers, rounds = 4, 200
	acks := make([]chan struct{}, kickers)
	for i := range acks {
		acks[i] = make(chan struct{}, 1)
	}
	pending := make(chan int, kickers*rounds)
	for i := range kickers {
		go func() {
			for range rounds {
				pending <- i
				w.kick()
				<-acks[i]
			}
		}()
	}
	for got, n := 0, 0; got < kickers*rounds; n++ {
		waitReturns(t, w, time.Time{}, n%3 == 0, "kick storm")
		for more := true; more; {
			select {
			case i := <-pending:
				got++
				acks[i] <- struct{}{}
			default:
				more = false
			}
		}
	}
}
