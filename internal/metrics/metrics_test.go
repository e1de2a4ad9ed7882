package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/ebwrk/ebwrk/core"
)

// fakeSource is a core.Broker driven by hand, standing for the running broker.
type fakeSource struct {
	b   *core.Broker
	rec *Recorder
}

func (f *fakeSource) Inspect(fn func(*core.Broker)) { fn(f.b) }
func (f *fakeSource) Undeliverable() uint64         { return 2 }

// feed drains the broker's outputs into the Recorder, as the broker's OnEvent does.
func (f *fakeSource) feed() {
	for _, o := range f.b.Drain() {
		f.rec.Observe(&o)
	}
}

// TestCollector drives a core.Broker through known traffic and checks the metrics
// the Collector builds, and their names with client_golang's linter.
func TestCollector(t *testing.T) {
	t0 := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	f := &fakeSource{b: core.NewBroker(core.BrokerConfig{HeartbeatInterval: time.Hour}, t0), rec: NewRecorder()}
	w, c := core.Peer{Socket: core.Backend, ID: "w1"}, core.Peer{Socket: core.Frontend, ID: "c1"}
	frames := func(m core.Message) [][]byte { return m.Frames() }
	req := frames(core.Message{Protocol: core.ClientProtocol, Envelope: true, Seq: 1, Service: []byte("echo"), Body: [][]byte{[]byte("x")}})
	f.b.Receive(t0, c, req) // queued
	f.feed()
	f.b.Receive(t0.Add(3*time.Millisecond), w, frames(core.Message{Protocol: core.WorkerProtocol, Command: core.Ready, Service: []byte("echo")}))
	f.feed()
	f.b.Receive(t0.Add(5*time.Millisecond), w, frames(core.Message{Protocol: core.WorkerProtocol, Command: core.Reply, Address: []byte("c1"), Body: [][]byte{[]byte("x")}}))
	f.feed()
	f.b.Receive(t0.Add(6*time.Millisecond), c, [][]byte{[]byte("garbage")})
	f.feed()

	col := NewCollector(f, f.rec)
	want := `
# HELP ebwrk_requests_total Client requests the broker took in, by service (mmi. excluded).
# TYPE ebwrk_requests_total counter
ebwrk_requests_total{service="echo"} 1
# HELP ebwrk_replies_total Worker replies passed to clients, by service.
# TYPE ebwrk_replies_total counter
ebwrk_replies_total{service="echo"} 1
# HELP ebwrk_workers Registered workers, by service and state (idle or busy).
# TYPE ebwrk_workers gauge
ebwrk_workers{service="echo",state="busy"} 0
ebwrk_workers{service="echo",state="idle"} 1
# HELP ebwrk_dropped_total Inputs the broker refused, by reason.
# TYPE ebwrk_dropped_total counter
ebwrk_dropped_total{reason="malformed"} 1
# HELP ebwrk_undeliverable_total Messages ZeroMQ could not deliver (peer gone or at its high-water mark).
# TYPE ebwrk_undeliverable_total counter
ebwrk_undeliverable_total 2
# HELP ebwrk_queue_wait_seconds Time a request waited in its queue before each dispatch, by service.
# TYPE ebwrk_queue_wait_seconds histogram
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0001"} 0
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0004"} 0
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0016"} 0
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0064"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.0256"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.1024"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="0.4096"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="1.6384"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="6.5536"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="26.2144"} 1
ebwrk_queue_wait_seconds_bucket{service="echo",le="+Inf"} 1
ebwrk_queue_wait_seconds_sum{service="echo"} 0.003
ebwrk_queue_wait_seconds_count{service="echo"} 1
`
	if err := testutil.CollectAndCompare(col, strings.NewReader(want), "ebwrk_requests_total", "ebwrk_replies_total",
		"ebwrk_workers", "ebwrk_dropped_total", "ebwrk_undeliverable_total", "ebwrk_queue_wait_seconds"); err != nil {
		t.Error(err)
	}
	problems, err := testutil.CollectAndLint(col)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("promlint: %s: %s", p.Metric, p.Text)
	}
}

// TestObserveAllocs: feeding a request's events for a service already seen allocates
// nothing, so the broker's loop pays no allocation per message for metrics.
func TestObserveAllocs(t *testing.T) {
	r := NewRecorder()
	evs := []core.Output{
		{Kind: core.EventOutput, Event: core.RequestDispatched, Service: "echo", First: true, Waited: time.Millisecond},
		{Kind: core.EventOutput, Event: core.RequestAnswered, Service: "echo", Elapsed: 2 * time.Millisecond},
		{Kind: core.EventOutput, Event: core.RequestFailed, Service: "echo", Reason: core.Expired},
	}
	for i := range evs {
		r.Observe(&evs[i])
	}
	if n := testing.AllocsPerRun(1000, func() {
		for i := range evs {
			r.Observe(&evs[i])
		}
	}); n != 0 {
		t.Errorf("Observe allocates %v times per request; want 0", n)
	}
}

// TestMaxServices: services past MaxServices are counted under OtherService.
func TestMaxServices(t *testing.T) {
	r := NewRecorder()
	for i := range MaxServices + 5 {
		o := core.Output{Kind: core.EventOutput, Event: core.RequestQueued, Service: "s" + string(rune('a'+i%26)) + strings.Repeat("x", i/26), First: true}
		r.Observe(&o)
	}
	if len(r.services) != MaxServices+1 || r.services[OtherService].requests != 5 {
		t.Errorf("%d services, %d under %s; want %d, 5", len(r.services), r.services[OtherService].requests, OtherService, MaxServices+1)
	}
}

func TestReasonLabel(t *testing.T) {
	for r, want := range map[core.Reason]string{core.QueueFull: "queue_full", core.ReservedService: "reserved_mmi_service",
		core.DuplicateReady: "second_ready", core.NotAuthorized: "not_authorized"} {
		if got := ReasonLabel(r); got != want {
			t.Errorf("ReasonLabel(%v) = %q; want %q", r, got, want)
		}
	}
}
