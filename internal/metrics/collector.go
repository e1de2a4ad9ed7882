package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/ebwrk/ebwrk/core"
)

// Source is the broker a Collector reads.
type Source interface {
	// Inspect runs f on the broker's goroutine, where the Recorder is fed, and
	// returns when f has.
	Inspect(f func(*core.Broker))
	// Undeliverable returns how many messages the transport could not deliver.
	Undeliverable() uint64
}

// Collector is a prometheus.Collector of a broker and its Recorder.
type Collector struct {
	src Source
	rec *Recorder

	requests, replies, failures, requeues *prometheus.Desc
	workers, queue                        *prometheus.Desc
	dropped, undeliverable, removed       *prometheus.Desc
	duration, wait                        *prometheus.Desc
}

// NewCollector returns the Collector of src, whose OnEvent feeds rec.
func NewCollector(src Source, rec *Recorder) *Collector {
	d := prometheus.NewDesc
	return &Collector{
		src:           src,
		rec:           rec,
		requests:      d("ebwrk_requests_total", "Client requests the broker took in, by service (mmi. excluded).", []string{"service"}, nil),
		replies:       d("ebwrk_replies_total", "Worker replies passed to clients, by service.", []string{"service"}, nil),
		failures:      d("ebwrk_failures_total", "Requests the broker failed, by service and reason.", []string{"service", "reason"}, nil),
		requeues:      d("ebwrk_requeues_total", "Requests put back in their queue after their worker died, by service.", []string{"service"}, nil),
		workers:       d("ebwrk_workers", "Registered workers, by service and state (idle or busy).", []string{"service", "state"}, nil),
		queue:         d("ebwrk_queue_depth", "Requests waiting for a worker, by service.", []string{"service"}, nil),
		dropped:       d("ebwrk_dropped_total", "Inputs the broker refused, by reason.", []string{"reason"}, nil),
		undeliverable: d("ebwrk_undeliverable_total", "Messages ZeroMQ could not deliver (peer gone or at its high-water mark).", nil, nil),
		removed:       d("ebwrk_workers_removed_total", "Workers the broker forgot, by reason.", []string{"reason"}, nil),
		duration:      d("ebwrk_request_duration_seconds", "Time from taking a request in to passing its reply on, by service.", []string{"service"}, nil),
		wait:          d("ebwrk_queue_wait_seconds", "Time a request waited in its queue before each dispatch, by service.", []string{"service"}, nil),
	}
}

// Describe sends the descriptions of every metric.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.requests, c.replies, c.failures, c.requeues, c.workers,
		c.queue, c.dropped, c.undeliverable, c.removed, c.duration, c.wait} {
		ch <- d
	}
}

// Collect copies the counts on the broker's goroutine and sends the metrics built from
// the copy.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	var (
		counts   map[string]serviceCounts
		stats    core.BrokerStats
		services []core.ServiceInfo
	)
	c.src.Inspect(func(b *core.Broker) {
		counts = c.rec.copy()
		stats = b.Stats()
		services = b.Services()
	})
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	for name, s := range counts {
		counter(c.requests, s.requests, name)
		counter(c.replies, s.replies, name)
		counter(c.requeues, s.requeues, name)
		for r, n := range s.failures {
			if n > 0 {
				counter(c.failures, n, name, ReasonLabel(core.Reason(r)))
			}
		}
		ch <- constHistogram(c.duration, &s.duration, name)
		ch <- constHistogram(c.wait, &s.wait, name)
	}
	for _, s := range services {
		gauge(c.workers, s.Idle, s.Name, "idle")
		gauge(c.workers, s.Workers-s.Idle, s.Name, "busy")
		gauge(c.queue, s.Queued, s.Name)
	}
	for r := range core.NumReasons {
		if n := stats.Dropped[r]; n > 0 {
			counter(c.dropped, n, ReasonLabel(core.Reason(r)))
		}
		if n := stats.WorkersRemoved[r]; n > 0 {
			counter(c.removed, n, ReasonLabel(core.Reason(r)))
		}
	}
	counter(c.undeliverable, c.src.Undeliverable())
}

// constHistogram builds the metric of h, whose counts are per bucket, as Prometheus'
// cumulative buckets.
func constHistogram(d *prometheus.Desc, h *histogram, labels ...string) prometheus.Metric {
	buckets := make(map[float64]uint64, len(Buckets))
	var cum uint64
	for i, le := range Buckets {
		cum += h.counts[i]
		buckets[le] = cum
	}
	return prometheus.MustNewConstHistogram(d, h.n, h.sum, buckets, labels...)
}
