package zmq

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	zmq4 "github.com/pebbe/zmq4"
	"golang.org/x/sys/unix"

	"github.com/ebwrk/ebwrk/core"
)

// stormEvery is the pause between two rounds of a signal storm. Each round signals
// every thread of the process, so a thread blocked in libzmq (a cgo call on a thread
// of its own) is interrupted about this often.
const stormEvery = 0

// The storm tests' heartbeat: as often as the other tests' (every heartbeat sent is
// one more send a signal may interrupt), but with a liveness of 3 s, since the storm
// slows everything down on a busy machine, and a peer expired for being slow is not
// what they look for.
const (
	stormHeartbeat = 50 * time.Millisecond
	stormLiveness  = 60
)

// startSignalStorm sends SIGURG to every thread of the process, round after round,
// until the test ends. The Go runtime takes SIGURG for a preemption request and
// otherwise ignores it, but every system call it lands in fails with EINTR, as
// profiling, GC and preemption signals do in production, only far more often. It
// returns the number of signals sent so far.
func startSignalStorm(t *testing.T) *atomic.Int64 {
	t.Helper()
	var sent atomic.Int64
	pid := os.Getpid()
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		var tids []int
		for round := 0; ; round++ {
			select {
			case <-stop:
				return
			default:
			}
			if round%32 == 0 { // threads come and go: list them now and then
				var err error
				if tids, err = threads(); err != nil {
					t.Errorf("signal storm: %v", err)
					return
				}
			}
			for _, tid := range tids {
				// ESRCH: the thread has ended.
				if err := unix.Tgkill(pid, tid, unix.SIGURG); err != nil && !errors.Is(err, unix.ESRCH) {
					t.Errorf("signal storm: tgkill: %v", err)
					return
				}
				sent.Add(1)
			}
			if stormEvery > 0 {
				time.Sleep(stormEvery) // the storm's pace, not a wait for an outcome
			} else {
				runtime.Gosched()
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-done
	})
	return &sent
}

// threads returns the thread ids of the process.
func threads() ([]int, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	tids := make([]int, 0, len(tasks))
	for _, task := range tasks {
		if tid, err := strconv.Atoi(task.Name()); err == nil {
			tids = append(tids, tid)
		}
	}
	return tids, nil
}

// stormWorker serves service until the end of the test and reports on ended when
// Serve returns early, so that a worker lost to a signal fails the test at once.
func stormWorker(t *testing.T, endpoint, service string, h Handler, ended chan<- error) {
	t.Helper()
	opts := testWorkerOptions
	opts.HeartbeatInterval, opts.Liveness = stormHeartbeat, stormLiveness
	w := NewWorker(endpoint, service, opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := w.Serve(ctx, h); err != nil || ctx.Err() == nil {
			ended <- fmt.Errorf("worker of %s: Serve returned %v before its stop", service, err)
		}
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

// stormBody returns the body of request i of goroutine g: parts frames (more than one
// cgo call takes when parts > maxParts) of varied sizes, some empty, all from a seed,
// so that the reply can be checked byte for byte.
func stormBody(g, i, parts int) [][]byte {
	rng := rand.New(rand.NewPCG(uint64(g), uint64(i)))
	body := make([][]byte, parts)
	for p := range body {
		n := rng.IntN(300)
		if p%7 == 3 {
			n = 0
		}
		f := make([]byte, n)
		for k := range f {
			f[k] = byte(rng.Uint32())
		}
		body[p] = f
	}
	return body
}

// sameFrames reports whether a and b hold the same frames, byte for byte.
func sameFrames(a, b [][]byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			return false
		}
	}
	return true
}

// TestSignalStorm runs a broker, workers and a client on 127.0.0.1 while every thread
// of the process is signalled thousands of times a second (stormLoad says what runs
// and what must hold).
func TestSignalStorm(t *testing.T) {
	stormLoad(t, func() func() int64 {
		sent := startSignalStorm(t)
		return func() int64 { return sent.Load() }
	})
}

// TestInjectedEINTR runs stormLoad with every third part that the package's helpers
// send or receive failing with EINTR first (faultEINTR), in the broker, the client
// and the workers alike: every retry path, the first part of a message and part-way
// through one, is taken thousands of times, where a signal storm takes some by chance.
func TestInjectedEINTR(t *testing.T) {
	stormLoad(t, func() func() int64 {
		injectEINTR(t, 3)
		before := interruptedParts.Load()
		return func() int64 {
			n := int64(interruptedParts.Load() - before)
			if n == 0 {
				t.Error("no part was interrupted part-way through a message")
			}
			return n
		}
	})
}

// injectEINTR sets faultEINTR until the end of the test.
func injectEINTR(t *testing.T, every int32) {
	t.Helper()
	faultEINTR.Store(every)
	t.Cleanup(func() { faultEINTR.Store(0) })
}

// stormLoad runs a broker, workers and a client on 127.0.0.1 under the interruptions
// that start starts (it returns a count of them to log): sync round trips, requests
// pipelined by many goroutines on one Client, many-frame messages (more parts than one
// cgo call takes, so a send or receive interrupted part-way must resume where it
// stopped), and a slow service whose worker heartbeats while its handler runs. Every
// request must get its own reply byte for byte, no worker may end or be removed, the
// broker may refuse no input nor fail to deliver a message.
func stormLoad(t *testing.T, start func() func() int64) {
	b := startBroker(t, BrokerOptions{Config: core.BrokerConfig{HeartbeatInterval: stormHeartbeat, Liveness: stormLiveness}})
	ended := make(chan error, 8)
	mark := b.rec.mark()
	for range 2 {
		stormWorker(t, b.Backend(), "echo", echo, ended)
	}
	slow := func(ctx context.Context, req [][]byte) [][]byte {
		// Service time: long enough for the keeper to heartbeat while it runs.
		select {
		case <-time.After(2 * stormHeartbeat):
		case <-ctx.Done():
		}
		return req
	}
	stormWorker(t, b.Backend(), "slow", slow, ended)
	b.waitJoined(t, mark, "echo", 2)
	b.waitJoined(t, mark, "slow", 1)
	c := newClient(t, b.Frontend(), ClientOptions{Timeout: waitLimit / 2, Attempts: 2})
	interruptions := start()
	ctx := ctxFor(t, 4*waitLimit)

	const (
		syncRequests = 1200 // one goroutine, one request at a time
		pipeliners   = 8    // goroutines sharing the Client
		pipelined    = 200  // requests per pipelining goroutine
		slowRequests = 4
	)
	var wg sync.WaitGroup
	errs := make(chan error, 1+pipeliners+1)
	run := func(g, n, parts int, service string) {
		defer wg.Done()
		for i := range n {
			body := stormBody(g, i, parts)
			got, err := c.Request(ctx, service, body...)
			if err != nil {
				errs <- fmt.Errorf("goroutine %d request %d to %s: %w", g, i, service, err)
				return
			}
			if !sameFrames(body, got) {
				errs <- fmt.Errorf("goroutine %d request %d to %s: reply of %d frames differs from the request of %d",
					g, i, service, len(got), len(body))
				return
			}
		}
	}
	wg.Add(1 + pipeliners + 1)
	go run(0, syncRequests, 3, "echo")
	for g := 1; g <= pipeliners; g++ {
		go run(g, pipelined, 2*maxParts+g, "echo") // many frames: several cgo calls each
	}
	go run(pipeliners+1, slowRequests, 1, "slow")
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	select {
	case err := <-ended:
		t.Error(err)
	default:
	}
	n := interruptions()
	t.Logf("%d interruptions", n)
	if n == 0 {
		t.Error("no interruption")
	}
	for _, e := range b.rec.all() {
		if e.Undeliverable != nil || e.Output.Event == core.WorkerRemoved || e.Output.Event == core.InputDropped {
			t.Errorf("broker reported %v; want no worker removed, no input refused, no message undeliverable", e)
		}
	}
}

// TestInterruptedMultipart sends many-frame messages (more parts than one cgo call
// takes, some empty) through a DEALER and a ROUTER on 127.0.0.1 and back, one message
// at a time, under a signal storm, with the package's own send and receive, and
// checks every message byte for byte at both ends: a part interrupted part-way
// through a message must be sent or received again, exactly once, in its place.
func TestInterruptedMultipart(t *testing.T) {
	t.Run("signals", func(t *testing.T) {
		sent := startSignalStorm(t)
		multipartEcho(t, 200, 1000)
		t.Logf("%d signals sent", sent.Load())
	})
	t.Run("injected", func(t *testing.T) {
		injectEINTR(t, 3)
		if n := multipartEcho(t, 300, 3*maxParts+5); n == 0 {
			t.Error("no part was interrupted part-way through a message")
		}
	})
}

// multipartEcho sends messages of parts frames from a DEALER to a ROUTER and back,
// one at a time, and checks them at both ends. It returns how many parts were
// interrupted part-way through a message meanwhile.
func multipartEcho(t *testing.T, messages, parts int) uint64 {
	before := interruptedParts.Load()
	zctx, err := newContext()
	if err != nil {
		t.Fatal(err)
	}
	r, err := newSocket(zctx, router, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Bind("tcp://127.0.0.1:*"); err != nil {
		t.Fatal(err)
	}
	ep, err := r.GetLastEndpoint()
	if err != nil {
		t.Fatal(err)
	}
	d, err := newSocket(zctx, dealer, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Connect(ep); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*zmq4.Socket{r, d} {
		if err := s.SetRcvtimeo(waitLimit); err != nil {
			t.Fatal(err)
		}
	}
	echoed := make(chan error, 1)
	go func() { // the ROUTER: receive, check, send back
		var in recvScratch
		var out sendScratch
		for i := range messages {
			id, got, err := recvWaiting(&in, r)
			if err != nil {
				echoed <- fmt.Errorf("router: message %d: %w", i, err)
				return
			}
			if want := stormBody(0, i, parts); !sameFrames(want, got) {
				echoed <- fmt.Errorf("router: message %d: %d frames differ from the %d sent", i, len(got), len(want))
				return
			}
			if err := out.sendRouted(r, id, got); err != nil {
				echoed <- fmt.Errorf("router: send %d: %w", i, err)
				return
			}
		}
		echoed <- nil
	}()
	var in recvScratch
	var out sendScratch
	for i := range messages {
		body := stormBody(0, i, parts)
		if err := out.send(d, body); err != nil {
			t.Fatalf("dealer: send %d: %v", i, err)
		}
		_, got, err := recvWaiting(&in, d)
		if err != nil {
			t.Fatalf("dealer: message %d: %v", i, err)
		}
		if !sameFrames(body, got) {
			t.Fatalf("dealer: message %d came back as %d frames, differing from the %d sent", i, len(got), len(body))
		}
	}
	if err := <-echoed; err != nil {
		t.Fatal(err)
	}
	n := interruptedParts.Load() - before
	t.Logf("%d parts interrupted part-way through a message and sent or received again", n)
	for _, s := range []*zmq4.Socket{r, d} {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}
	if err := zctx.Term(); err != nil {
		t.Error(err)
	}
	return n
}

// recvWaiting receives one message on s, waiting at most its RCVTIMEO in all: a
// signal that ends the wait early (EINTR) makes it wait again. At a ROUTER it returns
// the identity apart.
func recvWaiting(in *recvScratch, s *zmq4.Socket) ([]byte, [][]byte, error) {
	deadline := time.Now().Add(waitLimit)
	for {
		var id []byte
		var got [][]byte
		var err error
		if typ, terr := s.GetType(); terr != nil {
			return nil, nil, terr
		} else if typ == router {
			id, got, err = in.recvRouted(s, true)
		} else {
			got, err = in.recv(s, true)
		}
		switch {
		case err == nil:
			return id, got, nil
		case !isInterrupted(err) || time.Now().After(deadline):
			return nil, nil, err
		}
	}
}
