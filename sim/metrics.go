package sim

import (
	"slices"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// Metrics are the figures of one run. Every figure is a function of (scenario,
// seed): wall-clock figures live in Wall, apart.
type Metrics struct {
	Requests  uint64            `json:"requests"`  // requests started (mmi. lookups included)
	Successes uint64            `json:"successes"` // requests that got their reply
	Failures  map[string]uint64 `json:"failures"`  // requests that failed, by reason
	Hung      uint64            `json:"hung"`      // requests still open when the run stopped
	// StuckBusy counts the workers still busy when the run stopped with a request
	// older than timeout × attempts: phantoms whose reply was lost (see the hold limit).
	StuckBusy uint64            `json:"stuck_busy"`
	Attempts  uint64            `json:"attempts"`  // sends, first attempts and retries
	Retries   uint64            `json:"retries"`   // sends after a timeout
	Discarded map[string]uint64 `json:"discarded"` // replies the clients discarded, by reason
	Requeues  uint64            `json:"requeues"`  // requests the broker put back after a worker died
	Purged    uint64            `json:"purged"`    // workers the broker removed as silent or unreachable
	Removed   map[string]uint64 `json:"removed"`   // workers the broker removed, by reason
	Dropped   map[string]uint64 `json:"dropped"`   // inputs the broker refused, by reason
	Messages  map[string]uint64 `json:"messages"`  // messages sent, by sub-protocol and command
	Network   NetworkFigures    `json:"network"`   // what the network did with them
	Faults    map[string]uint64 `json:"faults"`    // fault decisions made, by family
	Latency   LatencyFigures    `json:"latency"`   // of successful requests, in virtual time
	// Throughput is successes per virtual second of the run.
	Throughput float64       `json:"throughput"`
	Virtual    time.Duration `json:"virtual"` // virtual time the run covered
	Events     uint64        `json:"events"`  // clock events run (timers and deliveries)
}

// NetworkFigures count what the in-memory network did.
type NetworkFigures struct {
	Sent       uint64 `json:"sent"`
	Delivered  uint64 `json:"delivered"`
	Dropped    uint64 `json:"dropped"`
	Duplicated uint64 `json:"duplicated"`
	Delayed    uint64 `json:"delayed"`
}

// LatencyFigures summarise a latency distribution.
type LatencyFigures struct {
	Count uint64        `json:"count"`
	Min   time.Duration `json:"min"`
	P50   time.Duration `json:"p50"`
	P90   time.Duration `json:"p90"`
	P99   time.Duration `json:"p99"`
	P999  time.Duration `json:"p99_9"`
	Max   time.Duration `json:"max"`
	Mean  time.Duration `json:"mean"`
}

// Wall are the wall-clock figures of a run. They differ from run to run, so they are
// kept out of the JSON, the reports and every determinism-checked output.
type Wall struct {
	Elapsed             time.Duration
	EventsPerSecond     float64
	VirtualPerWallRatio float64 // virtual seconds per wall second
}

// String returns "12ms, 1.2M events/s, 850× real time".
func (w Wall) String() string {
	return w.Elapsed.Round(time.Microsecond).String() + ", " +
		siFloat(w.EventsPerSecond) + " events/s, " + strconv.FormatFloat(w.VirtualPerWallRatio, 'f', 0, 64) + "× real time"
}

// sample is one successful request: when it ended and how long it took.
type sample struct {
	End     time.Duration // since the start
	Latency time.Duration
}

// metrics accumulates the figures during a run.
type metrics struct {
	requests, successes, hung, attempts, retries, requeues, purged uint64
	failures, discarded, removed, dropped                          [core.NumReasons]uint64
	messages                                                       [2][8]uint64 // [protocol-1][command]
	faults                                                         map[string]uint64
	lat                                                            []time.Duration
	samples                                                        []sample // kept only with Options.Samples
}

// percentile returns the q-quantile (nearest rank) of sorted values.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.999999999) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// latencyFigures summarises the latencies; it sorts ls.
func latencyFigures(ls []time.Duration) LatencyFigures {
	if len(ls) == 0 {
		return LatencyFigures{}
	}
	var sum float64
	for _, l := range ls {
		sum += float64(l)
	}
	slices.Sort(ls)
	return LatencyFigures{
		Count: uint64(len(ls)),
		Min:   ls[0],
		P50:   percentile(ls, 0.50),
		P90:   percentile(ls, 0.90),
		P99:   percentile(ls, 0.99),
		P999:  percentile(ls, 0.999),
		Max:   ls[len(ls)-1],
		Mean:  time.Duration(sum / float64(len(ls))),
	}
}

// byReason turns a counter array into a map of the non-zero reasons.
func byReason(a *[core.NumReasons]uint64) map[string]uint64 {
	m := map[string]uint64{}
	for r, n := range a {
		if n > 0 {
			m[core.Reason(r).String()] = n
		}
	}
	return m
}

// messageKey names a counted message: "client REQUEST" or "worker HEARTBEAT".
func messageKey(p core.Protocol, c core.Command) string {
	if p == core.ClientProtocol {
		return "client " + c.String()
	}
	return "worker " + c.String()
}

// ftoa formats a float in the shortest form.
func ftoa(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

// siFloat formats f with a k/M/G suffix and three significant digits.
func siFloat(f float64) string {
	switch {
	case f >= 1e9:
		return strconv.FormatFloat(f/1e9, 'f', 2, 64) + "G"
	case f >= 1e6:
		return strconv.FormatFloat(f/1e6, 'f', 2, 64) + "M"
	case f >= 1e3:
		return strconv.FormatFloat(f/1e3, 'f', 1, 64) + "k"
	}
	return strconv.FormatFloat(f, 'f', 0, 64)
}

// brokerEvent counts a broker event.
func (m *metrics) brokerEvent(o *core.Output) {
	switch o.Event {
	case core.RequestRequeued:
		m.requeues++
	case core.WorkerRemoved:
		m.removed[o.Reason]++
		if o.Reason == core.Silent {
			m.purged++
		}
	case core.InputDropped:
		m.dropped[o.Reason]++
	}
}
