package sim

import (
	"testing"
	"time"
)

// BenchmarkEventLoop measures the event loop with the real codec: 10 synchronous
// clients on 10 workers, heartbeats at 100 ms; it reports clock events per second.
// Target: 1,000,000 events/s on one core.
func BenchmarkEventLoop(b *testing.B) {
	sc := Scenario{
		Name:     "bench",
		Broker:   BrokerSpec{Heartbeat: 100 * time.Millisecond},
		Worker:   WorkerSpec{Heartbeat: 100 * time.Millisecond},
		Services: []ServiceSpec{{Name: "echo", Workers: 10, Time: Dist{Kind: Constant, Mean: time.Millisecond}}},
		Clients:  ClientSpec{Count: 10, Requests: 2000},
	}
	var events uint64
	b.ResetTimer()
	for b.Loop() {
		res, err := Run(sc, 1, Options{})
		if err != nil {
			b.Fatal(err)
		}
		events += res.Metrics.Events
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkScale60s runs the catalogue's scale scenario: 100 clients, 10 workers, 60
// virtual seconds. It reports how many times faster than real time it runs (target
// 100×) and events per second.
func BenchmarkScale60s(b *testing.B) {
	sc, _ := Lookup("scale")
	var virtual time.Duration
	var events uint64
	for b.Loop() {
		res, err := Run(sc, 1, Options{})
		if err != nil {
			b.Fatal(err)
		}
		virtual += res.Metrics.Virtual
		events += res.Metrics.Events
	}
	b.ReportMetric(virtual.Seconds()/b.Elapsed().Seconds(), "×realtime")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
