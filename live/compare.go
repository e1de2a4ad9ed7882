package live

import (
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/sim"
)

// Row is one figure of the side-by-side comparison of a sim run and a live run.
type Row struct {
	Name  string `json:"name"`
	Sim   string `json:"sim"`
	Live  string `json:"live"`
	Agree bool   `json:"agree"`
	// Gate says whether the row counts towards the run's agreement. The latency rows
	// do not: on a shared machine they measure the scheduler as much as the broker;
	// they still say whether they agree.
	Gate bool `json:"gate"`
	// Note says the band the row is judged in, and why the two differ when they do.
	Note string `json:"note"`
}

// Bands of agreement. The sim's figures are exact for its model; the live ones carry
// the real network (loopback, ZeroMQ's I/O threads, the proxies) and the scheduler
// of a shared machine. Each band is stated once here and in the package doc.
const (
	// DurationBand is how far the request count of a duration-bounded workload may
	// differ, relative to the sim's. A sync client's count is duration / mean
	// latency, and a live round trip is slower than the model's, so the sim's count
	// is first scaled by the ratio of the mean latencies (sim's / live's); an
	// open-loop count is compared as it is.
	DurationBand = 0.15
	// FailBand is how far failures may differ: max(FailAbs, FailRel × requests).
	FailAbs = 2
	FailRel = 0.02
	// RetryBand: max(RetryAbs, RetryRel × sim's retries).
	RetryAbs = 10
	RetryRel = 1.0
	// CountBand is how far requeues and purged workers may differ:
	// max(CountAbs, CountRel × sim's).
	CountAbs = 2
	CountRel = 0.5
	// P50Band: max(P50Abs, P50Rel × sim's median).
	P50Abs = 3 * time.Millisecond
	P50Rel = 0.5
	// TailBand, for p99 and max: max(TailAbs, TailRel × sim's).
	TailAbs = 150 * time.Millisecond
	TailRel = 0.5
)

const (
	whyNet   = "real network latency (loopback, ZeroMQ I/O threads, proxies) and scheduler noise"
	whyFault = "when each fault lands relative to the requests in flight differs by scheduler noise"
)

// within reports whether |a-b| ≤ band.
func within(a, b, band float64) bool {
	d := a - b
	if d < 0 {
		d = -d
	}
	return d <= band
}

func total(m map[string]uint64) uint64 {
	var n uint64
	for _, v := range m {
		n += v
	}
	return n
}

// simPurged counts the sim's workers removed as silent or unreachable, as the live
// run counts them.
func simPurged(m sim.Metrics) uint64 { return m.Removed["silent"] + m.Removed["unreachable"] }

// Compare returns the side-by-side rows of res (res.Sim is the sim run) and whether
// every row agrees within its band.
func Compare(res *Result, sc sim.Scenario) ([]Row, bool) {
	s, l := res.Sim.Metrics, res.Metrics
	whyFault, whyNet := whyFault, whyNet
	if len(sc.Faults.Events) == 0 && sc.Faults.Random == (sim.RandomFaults{}) {
		whyFault = "no faults: " + whyNet + " change the capacity (a worker idles for a real round trip between its reply and its next request)"
	}
	if len(res.Skipped) > 0 {
		skipped := "the sim-only faults (" + joinNames(res.Skipped) + ") were not applied live; "
		whyFault, whyNet = skipped+whyFault, skipped+whyNet
	}
	u := func(n uint64) string { return strconv.FormatUint(n, 10) }
	f := func(n uint64) float64 { return float64(n) }
	var rows []Row
	gate := true
	add := func(name, sv, lv string, agree bool, band, why string) {
		note := band
		if !agree {
			note = "differs beyond " + band + ": " + why
		}
		rows = append(rows, Row{Name: name, Sim: sv, Live: lv, Agree: agree, Gate: gate, Note: note})
	}
	sc = sc.WithDefaults()
	if sc.Clients.Requests > 0 && sc.Clients.Duration == 0 {
		add("requests", u(s.Requests), u(l.Requests), s.Requests == l.Requests, "exact (count-bounded workload)",
			"the live clients did not finish their workload")
	} else if sc.Clients.Mode == sim.Open {
		add("requests", u(s.Requests), u(l.Requests), within(f(l.Requests), f(s.Requests), DurationBand*f(s.Requests)),
			"±15 % (open-loop workload)", whyNet)
	} else {
		want := f(s.Requests)
		if l.Latency.Mean > 0 {
			want *= float64(s.Latency.Mean) / float64(l.Latency.Mean)
		}
		add("requests", u(s.Requests), u(l.Requests), within(f(l.Requests), want, DurationBand*want),
			"±15 % of sim × mean latency sim/live = "+strconv.FormatFloat(want, 'f', 0, 64)+" (duration-bounded sync workload)",
			"the live clients did not keep their workload going")
	}
	sFail, lFail := total(s.Failures)+s.Hung, total(l.Failed)
	failBand := max(FailAbs, FailRel*f(max(s.Requests, l.Requests)))
	sOK, lOK := 0.0, 0.0
	if s.Requests > 0 {
		sOK = f(s.Successes) / f(s.Requests)
	}
	if l.Requests > 0 {
		lOK = f(l.OK) / f(l.Requests)
	}
	add("ok", u(s.Successes), u(l.OK), within(lOK, sOK, FailRel), "success ratio ±2 points", whyFault)
	if sc.Clients.Requests > 0 && sc.Clients.Duration == 0 {
		add("failed", u(sFail), u(lFail), within(f(lFail), f(sFail), failBand), "±max(2, 2 % of requests)", whyFault)
	} else {
		// The two worlds send different numbers of requests (open-loop or duration-
		// bounded): compare the failed share, as the ok row does.
		sShare, lShare := 0.0, 0.0
		if s.Requests > 0 {
			sShare = f(sFail) / f(s.Requests)
		}
		if l.Requests > 0 {
			lShare = f(lFail) / f(l.Requests)
		}
		add("failed", u(sFail), u(lFail), within(lShare, sShare, FailRel), "failure ratio ±2 points (the request counts differ)", whyFault)
	}
	add("retries", u(s.Retries), u(l.Retries), within(f(l.Retries), f(s.Retries), max(RetryAbs, RetryRel*f(s.Retries))),
		"±max(10, 100 %)", whyFault)
	if l.Events {
		add("requeues", u(s.Requeues), u(l.Requeues), within(f(l.Requeues), f(s.Requeues), max(CountAbs, CountRel*f(s.Requeues))),
			"±max(2, 50 %)", whyFault)
		sp := simPurged(s)
		add("purged", u(sp), u(l.Purged), within(f(l.Purged), f(sp), max(CountAbs, CountRel*f(sp))),
			"±max(2, 50 %); silent or unreachable", whyFault)
	} else {
		rows = append(rows, Row{Name: "requeues", Sim: u(s.Requeues), Live: "n/a", Agree: true, Note: "no broker events (--exec)"},
			Row{Name: "purged", Sim: u(simPurged(s)), Live: "n/a", Agree: true, Note: "no broker events (--exec)"})
	}
	gate = false
	lat := func(name string, sd, ld, abs time.Duration, rel float64, band string) {
		add(name, sd.Round(10*time.Microsecond).String(), ld.Round(10*time.Microsecond).String(),
			within(float64(ld), float64(sd), max(float64(abs), rel*float64(sd))), band, whyNet)
	}
	lat("p50", s.Latency.P50, l.Latency.P50, P50Abs, P50Rel, "±max(3ms, 50 %)")
	lat("p99", s.Latency.P99, l.Latency.P99, TailAbs, TailRel, "±max(150ms, 50 %)")
	lat("max", s.Latency.Max, l.Latency.Max, TailAbs, TailRel, "±max(150ms, 50 %)")
	verdict := func(ok bool, n int) string {
		if ok {
			return "holds"
		}
		return strconv.Itoa(n) + " violations"
	}
	simOK, liveOK := res.Sim.OK(), res.OK()
	rows = append(rows, Row{Name: "verdict", Sim: verdict(simOK, len(res.Sim.Violations)), Live: verdict(liveOK, len(res.Violations)),
		Agree: simOK && liveOK, Gate: true, Note: "both must hold"})
	if !simOK || !liveOK {
		rows[len(rows)-1].Note = "differs: a guarantee broke (see the violations)"
		if !simOK && !liveOK {
			rows[len(rows)-1].Note = "both broke a guarantee (see the violations)"
		}
	}
	all := true
	for _, r := range rows {
		all = all && (r.Agree || !r.Gate)
	}
	return rows, all
}
