package sim

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/google/go-cmp/cmp"
)

// TestWorldStepsLikeRun steps a World built from a catalogue scenario one event at a
// time until its workload is over: the trace must be Run's, byte for byte.
func TestWorldStepsLikeRun(t *testing.T) {
	for _, name := range []string{"baseline", "worker-crash", "partition", "broker-restart", "malformed", "credit"} {
		t.Run(name, func(t *testing.T) {
			sc := mustLookup(t, name)
			res, want, _ := runOnce(t, sc, 7)
			var trace bytes.Buffer
			w, err := NewWorld(sc, 7, Options{Trace: &trace})
			if err != nil {
				t.Fatal(err)
			}
			for !w.Done() && w.Step() {
			}
			got := w.Result()
			if err := w.r.tr.flush(); err != nil {
				t.Fatal(err)
			}
			if got.Fingerprint != res.Fingerprint || trace.String() != want {
				t.Errorf("stepped World: fingerprint %s, %d trace bytes; Run: %s, %d bytes", got.Fingerprint, trace.Len(), res.Fingerprint, len(want))
			}
		})
	}
}

// recorder is an Observer that keeps what it sees as lines, and the body of each
// reply a client accepted.
type recorder struct {
	lines  []string
	bodies [][][]byte
}

func (r *recorder) BrokerStep(now time.Time, in BrokerInput, outs []core.Output, _ []core.WorkerInfo, _ []core.ServiceInfo) {
	kind := map[InputKind]string{InputMessage: "message", InputAdvance: "advance", InputUnreachable: "unreachable"}[in.Kind]
	r.lines = append(r.lines, "step "+kind+" "+in.Peer.String())
	for i := range outs {
		r.lines = append(r.lines, "  "+outs[i].String())
	}
}

func (r *recorder) BrokerRestarted(time.Time) { r.lines = append(r.lines, "restarted") }

func (r *recorder) ClientRequest(_ time.Time, client string, _ core.ClientConfig, seq uint64, service string, _ [][]byte) {
	r.lines = append(r.lines, "request "+client+" "+service)
}

func (r *recorder) ClientEnded(_ time.Time, client string, o *core.Output) {
	r.lines = append(r.lines, "ended "+client+" "+o.String())
	if o.Kind == core.DeliverOutput {
		r.bodies = append(r.bodies, o.Body)
	}
}

func (r *recorder) has(prefix string) bool {
	for _, l := range r.lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func emptyWorld(t *testing.T, obs Observer) *World {
	t.Helper()
	sc := Scenario{
		Name:     "world",
		Network:  NetworkSpec{Latency: time.Millisecond},
		Broker:   BrokerSpec{Heartbeat: 100 * time.Millisecond},
		Worker:   WorkerSpec{Heartbeat: 100 * time.Millisecond, ReconnectInitial: 50 * time.Millisecond},
		Services: []ServiceSpec{{Name: "echo"}},
		Clients:  ClientSpec{Requests: 1},
	}
	w, err := NewWorld(sc, 1, Options{Empty: true, SignReplies: true, Observer: obs})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// TestWorldActions drives an empty World by actions: a request is answered with the
// signed echo after exactly 4 × latency + service time; a killed worker's request
// goes to the other worker; the observer sees each step, the Unreachable input the
// kill causes among them, and the broker's restart.
func TestWorldActions(t *testing.T) {
	rec := &recorder{}
	w := emptyWorld(t, rec)
	w.AddWorker("echo", Dist{Mean: 10 * time.Millisecond}, 1)
	c := w.AddClient(core.ClientConfig{Timeout: time.Second, Attempts: 1})
	w.Advance(5 * time.Millisecond)
	start := w.Now()
	seq := w.Request(c, "echo", [][]byte{[]byte("hello")})
	var end time.Time
	w.RunWhile(func() bool { end = w.Now(); return !w.Outcome(c, seq).Done }, w.Now().Add(time.Second))
	if got, want := w.Outcome(c, seq), (Outcome{Done: true, OK: true, Attempts: 1}); got != want {
		t.Fatalf("Outcome = %+v, want %+v", got, want)
	}
	if got, want := end.Sub(start), 4*time.Millisecond+10*time.Millisecond; got != want {
		t.Errorf("latency %v, want %v", got, want)
	}
	if d := cmp.Diff([][][]byte{{[]byte("hello"), []byte("w1")}}, rec.bodies); d != "" {
		t.Errorf("accepted replies mismatch (-want +got):\n%s", d)
	}

	w.AddWorker("echo", Dist{Mean: 300 * time.Millisecond}, 1)
	w.Advance(10 * time.Millisecond)
	seq = w.Request(c, "echo", [][]byte{[]byte("again")})
	w.Advance(5 * time.Millisecond)
	w.Kill(0)
	w.Advance(500 * time.Millisecond)
	if got := w.Outcome(c, seq); !got.OK {
		t.Errorf("after the kill: Outcome = %+v, want the reply of w2", got)
	}
	if n := w.Broker().Stats().Requeued; n != 1 {
		t.Errorf("broker requeued %d requests, want 1", n)
	}
	if !rec.has("step unreachable") {
		t.Errorf("the observer saw no Unreachable step after the kill:\n%s", strings.Join(rec.lines, "\n"))
	}
	w.RestartBroker()
	if !rec.has("restarted") {
		t.Error("the observer did not see the broker restart")
	}
	if p := w.Panic(); p != "" {
		t.Errorf("panic: %s", p)
	}
}

// TestWorldFaultActions checks that partition, heartbeat loss and pause act: a worker
// cut off, deaf to heartbeats or frozen for longer than liveness × interval is
// removed by the broker (under heartbeat loss it may have reconnected already: its
// READY is no heartbeat); after EndFaults it is registered again.
func TestWorldFaultActions(t *testing.T) {
	for _, tc := range []struct {
		name  string
		fault func(w *World)
	}{
		{"partition", func(w *World) { w.Partition(w.WorkerNode(0)) }},
		{"heartbeat-loss", func(w *World) { w.DropHeartbeats(w.WorkerNode(0), time.Second) }},
		{"pause", func(w *World) { w.Pause(0) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := emptyWorld(t, nil)
			w.AddWorker("echo", Dist{Mean: time.Millisecond}, 1)
			w.Advance(50 * time.Millisecond)
			if n := len(w.Broker().Workers()); n != 1 {
				t.Fatalf("%d workers registered, want 1", n)
			}
			tc.fault(w)
			w.Advance(600 * time.Millisecond)
			removed := uint64(0)
			for _, n := range w.Broker().Stats().WorkersRemoved {
				removed += n
			}
			if removed == 0 {
				t.Errorf("during %s: no worker removed", tc.name)
			}
			w.EndFaults()
			w.Advance(2 * time.Second)
			if n := len(w.Broker().Workers()); n != 1 {
				t.Errorf("after EndFaults: %d workers registered, want 1", n)
			}
		})
	}
}

// TestWorldInject checks that injected frames reach the broker from the hostile peer
// and are dropped.
func TestWorldInject(t *testing.T) {
	rec := &recorder{}
	w := emptyWorld(t, rec)
	w.Inject(core.Backend, [][]byte{{}, []byte("MDPX01")})
	w.Advance(10 * time.Millisecond)
	want := []string{"step message back:" + hostileName + ".2"}
	var got []string
	for _, l := range rec.lines {
		if strings.HasPrefix(l, "step") {
			got = append(got, l)
		}
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("broker steps mismatch (-want +got):\n%s", d)
	}
}
