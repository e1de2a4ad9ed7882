// Package metrics turns what an ebwrk broker does into Prometheus metrics
// (github.com/prometheus/client_golang) without slowing the broker's loop.
//
// The loop feeds a Recorder with the core's events (Observe, from the broker's
// OnEvent hook): plain counters and histogram buckets per service, on the loop's own
// goroutine, with no lock and no allocation but the first time a service is seen. A
// scrape asks the loop for a copy of them, with the broker's counters and registry
// (Collector, through the broker's Inspect), and builds the metrics from the copy, off
// the loop. The package is pure Go: cmd/ebbroker wires it to transport/zmq.
//
// The metrics: ebwrk_requests_total{service}, ebwrk_replies_total{service},
// ebwrk_failures_total{service,reason}, ebwrk_requeues_total{service},
// ebwrk_workers{service,state} (state idle or busy), ebwrk_queue_depth{service},
// ebwrk_dropped_total{reason}, ebwrk_undeliverable_total,
// ebwrk_workers_removed_total{reason}, and the histograms
// ebwrk_request_duration_seconds{service} (taken in → answered) and
// ebwrk_queue_wait_seconds{service} (time in the queue before each dispatch).
package metrics

import (
	"sort"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebwrk/ebwrk/core"
)

// MaxServices bounds the services a Recorder counts apart; the requests of any
// further service are counted under the service label OtherService, so a client
// inventing names cannot grow the metrics without bound.
const MaxServices = 1000

// OtherService is the service label of the services past MaxServices.
const OtherService = "_other"

// numBuckets is how many upper bounds the histograms have.
const numBuckets = 10

// Buckets are the upper bounds, in seconds, of both histograms: 100 µs to 26 s, each
// four times the last. Read-only.
var Buckets = prometheus.ExponentialBuckets(0.0001, 4, numBuckets)

// histogram counts observations into Buckets (the last count: above them all).
type histogram struct {
	counts [numBuckets + 1]uint64
	sum    float64
	n      uint64
}

func (h *histogram) observe(d time.Duration) {
	s := d.Seconds()
	i := sort.SearchFloat64s(Buckets, s)
	h.counts[i]++
	h.sum += s
	h.n++
}

// serviceCounts is what a Recorder counts for one service.
type serviceCounts struct {
	requests, replies, requeues uint64
	failures                    [core.NumReasons]uint64
	duration, wait              histogram
}

// Recorder counts a broker's request events per service. It belongs to the broker's
// goroutine: Observe there, and copy it there (Collector does, through Inspect).
type Recorder struct {
	services map[string]*serviceCounts
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{services: make(map[string]*serviceCounts)} }

// Observe counts one output of core.Broker; outputs other than request events are
// ignored.
func (r *Recorder) Observe(o *core.Output) {
	if o.Kind != core.EventOutput {
		return
	}
	switch o.Event {
	case core.RequestQueued, core.RequestDispatched, core.RequestAnswered, core.RequestFailed, core.RequestRequeued:
	default:
		return
	}
	s := r.services[o.Service]
	if s == nil {
		name := o.Service
		if len(r.services) >= MaxServices {
			name = OtherService
		}
		if s = r.services[name]; s == nil {
			s = new(serviceCounts)
			r.services[name] = s
		}
	}
	if o.First {
		s.requests++
	}
	switch o.Event {
	case core.RequestDispatched:
		s.wait.observe(o.Waited)
	case core.RequestAnswered:
		s.replies++
		s.duration.observe(o.Elapsed)
	case core.RequestFailed:
		s.failures[o.Reason]++
	case core.RequestRequeued:
		s.requeues++
	}
}

// copy returns a deep copy, for a scrape.
func (r *Recorder) copy() map[string]serviceCounts {
	m := make(map[string]serviceCounts, len(r.services))
	for k, v := range r.services {
		m[k] = *v
	}
	return m
}

// ReasonLabel is a Reason as a label value: lower case, words joined by "_"
// ("queue full" → "queue_full").
func ReasonLabel(r core.Reason) string {
	f := strings.FieldsFunc(strings.ToLower(r.String()), func(c rune) bool {
		return !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9')
	})
	return strings.Join(f, "_")
}
