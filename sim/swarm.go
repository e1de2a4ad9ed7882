package sim

import (
	"context"
	"math"
	"runtime"
	"sync"
	"time"
)

// applySwarm draws the fault profile of a swarm run from the seed: each fault family
// is on or off with even odds and, when on, gets a rate drawn log-uniformly from its
// range. The profile replaces the scenario's random rates; timed events stay.
func applySwarm(sc Scenario, seed uint64) (Scenario, *RandomFaults) {
	g := NewStreams(seed).Stream("swarm")
	on := func() bool { return g.IntN(2) == 1 }
	logU := func(lo, hi float64) float64 { return math.Exp(math.Log(lo) + g.Float64()*(math.Log(hi)-math.Log(lo))) }
	durU := func(lo, hi time.Duration) time.Duration { return lo + time.Duration(g.Int64N(int64(hi-lo))) }
	p := RandomFaults{}
	// Every family draws the same number of values whether on or off, so switching one
	// family does not change the others' draws.
	pick := func(lo, hi float64) float64 {
		o, v := on(), logU(lo, hi)
		if o {
			return v
		}
		return 0
	}
	p.Crash = pick(0.005, 0.1)
	p.RestartAfter = durU(500*time.Millisecond, 5*time.Second)
	p.Restart = pick(0.005, 0.1)
	p.Pause = pick(0.005, 0.1)
	p.PauseFor = durU(time.Second, 6*time.Second)
	p.Slow = pick(0.001, 0.05)
	p.SlowTime = sc.Clients.Timeout + durU(time.Millisecond, sc.Clients.Timeout)
	p.HeartbeatLoss = pick(0.01, 0.5)
	p.HeartbeatDirection = [...]string{ToBroker, FromBroker, Both}[g.IntN(3)]
	p.Drop = pick(0.0005, 0.02)
	p.Duplicate = pick(0.001, 0.05)
	p.Delay = pick(0.001, 0.05)
	p.DelayMax = durU(10*time.Millisecond, 500*time.Millisecond)
	p.Reorder = pick(0.01, 0.3)
	p.ReorderMax = durU(time.Millisecond, 20*time.Millisecond)
	p.Partition = pick(0.002, 0.03)
	p.PartitionFor = durU(500*time.Millisecond, 5*time.Second)
	p.BrokerRestart = pick(0.005, 0.05)
	p.BrokerDown = durU(100*time.Millisecond, 3*time.Second)
	p.Skew = pick(0.001, 0.2)
	p.Malformed = pick(0.1, 10)
	sc.Faults.Random = p
	sc.Faults.Replay = false
	sc.Faults.Decisions = nil
	return sc, &p
}

// SeedResult is the outcome of one seed of a sweep.
type SeedResult struct {
	Seed        uint64      `json:"seed"`
	Fingerprint string      `json:"fingerprint"`
	Requests    uint64      `json:"requests"`
	Successes   uint64      `json:"successes"`
	Failures    uint64      `json:"failures"`
	Events      uint64      `json:"events"`
	StuckBusy   uint64      `json:"stuck_busy"` // Metrics.StuckBusy
	Violations  []Violation `json:"violations,omitempty"`
}

// SweepResult sums up a sweep.
type SweepResult struct {
	Scenario   string         `json:"scenario"`
	Seeds      int            `json:"seeds"`
	Passed     int            `json:"passed"`
	Failed     []SeedResult   `json:"failed"` // by seed
	Requests   uint64         `json:"requests"`
	Successes  uint64         `json:"successes"`
	Failures   uint64         `json:"failures"`
	Events     uint64         `json:"events"`
	StuckBusy  uint64         `json:"stuck_busy"`  // workers stuck busy at the end, over all seeds
	StuckSeeds int            `json:"stuck_seeds"` // seeds that ended with a worker stuck busy
	Violations map[string]int `json:"violations"`  // seeds that broke each guarantee
	// Results are every seed's outcome, by seed; kept out of the JSON summary.
	Results []SeedResult  `json:"-"`
	Wall    time.Duration `json:"-"`
}

// SweepProgress is how far a sweep has got.
type SweepProgress struct {
	Done   int // seeds run so far
	Failed int // of which violated a guarantee
	Total  int // seeds in the sweep
}

// SweepOptions configure Sweep.
type SweepOptions struct {
	First    uint64 // the first seed; seeds are First, First+1, ...
	Seeds    int
	Parallel int // goroutines; 0 means GOMAXPROCS
	Source   string
	// Progress, when not nil, is called after each seed with the counts so far, from
	// the goroutine that ran it (calls do not overlap).
	Progress func(SweepProgress)
}

// Sweep runs the scenario once per seed as a swarm (each seed draws its fault
// profile), in parallel, and sums up the outcomes. The result does not depend on
// the parallelism. It stops early, with ctx's error, when ctx is done.
func Sweep(ctx context.Context, sc Scenario, opt SweepOptions) (*SweepResult, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	par := opt.Parallel
	if par <= 0 {
		par = runtime.GOMAXPROCS(0)
	}
	start := time.Now()
	results := make([]SeedResult, opt.Seeds)
	jobs := make(chan int)
	var mu sync.Mutex
	var wg sync.WaitGroup
	var firstErr error
	prog := SweepProgress{Total: opt.Seeds}
	for range par {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				seed := opt.First + uint64(i)
				res, err := Run(sc, seed, Options{Source: opt.Source, SwarmFlag: !sc.Swarm})
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
				}
				if res != nil {
					results[i] = SeedResult{
						Seed: seed, Fingerprint: res.Fingerprint, Requests: res.Metrics.Requests,
						Successes: res.Metrics.Successes, Failures: res.Metrics.Requests - res.Metrics.Successes,
						Events: res.Metrics.Events, StuckBusy: res.Metrics.StuckBusy, Violations: res.Violations,
					}
				}
				prog.Done++
				if len(results[i].Violations) > 0 {
					prog.Failed++
				}
				if opt.Progress != nil {
					opt.Progress(prog)
				}
				mu.Unlock()
			}
		}()
	}
	var ctxErr error
feed:
	for i := range opt.Seeds {
		select {
		case jobs <- i:
		case <-ctx.Done():
			ctxErr = ctx.Err()
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return nil, firstErr
	}
	if ctxErr != nil {
		return nil, ctxErr
	}
	sum := Summarize(sc.Name, results)
	sum.Wall = time.Since(start)
	return sum, nil
}

// Summarize sums up the outcomes of a sweep of scenario, given by seed in increasing
// order: Sweep's summary, from seed results run anywhere (the shards of a sweep).
func Summarize(scenario string, results []SeedResult) *SweepResult {
	sum := &SweepResult{Scenario: scenario, Seeds: len(results), Failed: []SeedResult{},
		Violations: map[string]int{}, Results: results}
	for _, s := range results {
		sum.Requests += s.Requests
		sum.Successes += s.Successes
		sum.Failures += s.Failures
		sum.Events += s.Events
		sum.StuckBusy += s.StuckBusy
		if s.StuckBusy > 0 {
			sum.StuckSeeds++
		}
		if len(s.Violations) == 0 {
			sum.Passed++
			continue
		}
		sum.Failed = append(sum.Failed, s)
		seen := map[string]bool{}
		for _, v := range s.Violations {
			if !seen[v.Guarantee] {
				seen[v.Guarantee] = true
				sum.Violations[v.Guarantee]++
			}
		}
	}
	return sum
}
