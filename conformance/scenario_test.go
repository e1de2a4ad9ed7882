package conformance

import (
	"fmt"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// scenario is a scripted run of a World: the catalogue is checked throughout, and
// want checks the outcome the scenario is about.
type scenario struct {
	name  string
	check string // the check its outcome belongs to
	cfg   WorldConfig
	run   func(s *World)
	want  func(s *World) error
}

const (
	beat = 100 * time.Millisecond
	ms   = time.Millisecond
)

func baseConfig() WorldConfig {
	return WorldConfig{
		Broker:  core.BrokerConfig{HeartbeatInterval: beat, Liveness: 3},
		Latency: ms,
		Worker:  core.WorkerConfig{HeartbeatInterval: beat, Liveness: 3, ReconnectInitial: 50 * ms},
	}
}

func withBroker(f func(*core.BrokerConfig)) WorldConfig {
	c := baseConfig()
	f(&c.Broker)
	return c
}

// outcome checks client i's counters: replies, failures by reason and discards.
func outcome(s *World, i int, replies uint64, failed map[core.Reason]uint64, discarded map[core.Reason]uint64) error {
	st := s.ClientStats(i)
	if st.Replies != replies {
		return fmt.Errorf("client %d: %d replies, want %d", i, st.Replies, replies)
	}
	for r := range core.NumReasons {
		if got, want := st.Failures[r], failed[core.Reason(r)]; got != want {
			return fmt.Errorf("client %d: %d failures (%v), want %d", i, got, core.Reason(r), want)
		}
		if got, want := st.Discarded[r], discarded[core.Reason(r)]; got != want {
			return fmt.Errorf("client %d: %d discarded (%v), want %d", i, got, core.Reason(r), want)
		}
	}
	return nil
}

var scenarios = []scenario{
	{
		// Guarantee 8: an idle worker for every request, no faults: each latency is
		// exactly 4 × 1 ms + the worker's service time.
		name:  "exact-latency",
		check: G8ExactLatency,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.ExactLatency()
			for _, svc := range []time.Duration{10 * ms, 25 * ms, 40 * ms} {
				s.AddWorker("echo", svc)
				s.AddClient(core.ClientConfig{})
			}
			s.Advance(10 * ms)
			for round := range 3 {
				for c := range 3 {
					s.Request(c, "echo")
				}
				s.Advance(time.Duration(100+round) * ms)
			}
		},
		want: func(s *World) error {
			for i := range 3 {
				if err := outcome(s, i, 3, nil, nil); err != nil {
					return err
				}
			}
			return nil
		},
	},
	{
		// A reply that comes after its request failed must not answer the next one:
		// request 1 times out at 200 ms; request 2 is made at 250 ms; the worker's
		// late reply to request 1 (at about 304 ms) is stale.
		name:  "stale-reply",
		check: G1ReplyMatches,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 300*ms)
			s.AddClient(core.ClientConfig{Timeout: 200 * ms, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(250 * ms)
			s.Request(0, "echo")
		},
		want: func(s *World) error {
			return outcome(s, 0, 0, map[core.Reason]uint64{core.TimedOut: 2}, map[core.Reason]uint64{core.Stale: 1})
		},
	},
	{
		// A retry reaches a second worker; both answer; the client accepts the first
		// and discards the second as a duplicate.
		name:  "duplicate-reply",
		check: G1ReplyMatches,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 150*ms)
			s.AddWorker("echo", 150*ms)
			s.AddClient(core.ClientConfig{Timeout: 100 * ms, Attempts: 2})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(400 * ms)
		},
		want: func(s *World) error {
			return outcome(s, 0, 1, nil, map[core.Reason]uint64{core.Duplicate: 1})
		},
	},
	{
		// A worker crashes holding a request (requeue policy): another worker answers
		// before the client's timeout.
		name:  "crash-requeue",
		check: G5HeldNotLost,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 20*ms)
			s.AddClient(core.ClientConfig{Timeout: 2 * time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(10 * ms)
			s.KillWorker(0)
			s.AddWorker("echo", 20*ms)
		},
		want: func(s *World) error {
			if n := s.Broker().Stats().Requeued; n != 1 {
				return fmt.Errorf("requeued %d, want 1", n)
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
	{
		// The same with the fail policy: the ebwrk client is told "worker died".
		name:  "crash-fail",
		check: G5HeldNotLost,
		cfg:   withBroker(func(b *core.BrokerConfig) { b.OnWorkerDeath = core.FailRequest }),
		run: func(s *World) {
			s.AddWorker("echo", 20*ms)
			s.AddClient(core.ClientConfig{Timeout: 2 * time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(10 * ms)
			s.KillWorker(0)
		},
		want: func(s *World) error {
			return outcome(s, 0, 0, map[core.Reason]uint64{core.WorkerDied: 1}, nil)
		},
	},
	{
		// A paused worker holding a request expires; the request is requeued to a
		// second worker; when the first resumes, its late reply is dropped by the
		// broker (it no longer holds the request).
		name:  "pause-requeue",
		check: G5HeldNotLost,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 50*ms)
			s.AddClient(core.ClientConfig{Timeout: time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(10 * ms)
			s.PauseWorker(0)
			s.AddWorker("echo", 50*ms)
			s.Advance(600 * ms)
			s.ResumeWorker(0)
		},
		want: func(s *World) error {
			if n := s.Broker().Stats().Requeued; n != 1 {
				return fmt.Errorf("requeued %d, want 1", n)
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
	{
		// A worker hangs on its request (10 s) while it heartbeats: liveness never
		// removes it; the 300 ms hold limit does, and the request goes to a second
		// worker before the client's timeout.
		name:  "hold-limit-requeue",
		check: E3HoldLimit,
		cfg:   withBroker(func(b *core.BrokerConfig) { b.HoldLimit = 300 * ms }),
		run: func(s *World) {
			s.AddWorker("echo", 10*time.Second)
			s.AddClient(core.ClientConfig{Timeout: 2 * time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
			s.Advance(10 * ms)
			s.AddWorker("echo", 20*ms)
		},
		want: func(s *World) error {
			st := s.Broker().Stats()
			if st.Requeued != 1 || st.WorkersRemoved[core.HeldTooLong] != 1 {
				return fmt.Errorf("requeued %d, removed as held too long %d; want 1 and 1", st.Requeued, st.WorkersRemoved[core.HeldTooLong])
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
	{
		// The same with the fail policy: the ebwrk client is told "worker died".
		name:  "hold-limit-fail",
		check: E3HoldLimit,
		cfg: withBroker(func(b *core.BrokerConfig) {
			b.HoldLimit = 300 * ms
			b.OnWorkerDeath = core.FailRequest
		}),
		run: func(s *World) {
			s.AddWorker("echo", 10*time.Second)
			s.AddClient(core.ClientConfig{Timeout: 2 * time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.Request(0, "echo")
		},
		want: func(s *World) error {
			if n := s.Broker().Stats().WorkersRemoved[core.HeldTooLong]; n != 1 {
				return fmt.Errorf("removed as held too long %d, want 1", n)
			}
			return outcome(s, 0, 0, map[core.Reason]uint64{core.WorkerDied: 1}, nil)
		},
	},
	{
		// The broker restarts: workers are told DISCONNECT at their next heartbeat,
		// re-register, and the client's retry is served.
		name:  "broker-restart",
		check: R7Unexpected,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 10*ms)
			s.AddClient(core.ClientConfig{Timeout: 300 * ms, Attempts: 3})
			s.Advance(50 * ms)
			s.RestartBroker()
			s.Request(0, "echo")
		},
		want: func(s *World) error {
			if n := s.Broker().Stats().WorkersJoined; n != 1 {
				return fmt.Errorf("%d workers joined the new broker, want 1", n)
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
	{
		// Standard MDP clients: one request on the wire, a fresh connection per retry;
		// a partition makes the first attempt time out.
		name:  "standard-client-retry",
		check: G2RequestEnds,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 10*ms)
			s.AddClient(core.ClientConfig{Standard: true, Timeout: 200 * ms, Attempts: 3})
			s.Advance(5 * ms)
			s.Partition(s.ClientNode(0))
			s.Request(0, "echo")
			s.Advance(150 * ms)
			s.Heal(s.ClientNode(0))
		},
		want: func(s *World) error {
			if st := s.ClientStats(0); st.Retries != 1 {
				return fmt.Errorf("%d retries, want 1", st.Retries)
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
	{
		// Heartbeat loss both ways for longer than the liveness: the broker purges the
		// worker, the worker reconnects; the queued request is then served.
		name:  "heartbeat-loss",
		check: G4Purge,
		cfg:   baseConfig(),
		run: func(s *World) {
			s.AddWorker("echo", 10*ms)
			s.AddClient(core.ClientConfig{Timeout: 2 * time.Second, Attempts: 1})
			s.Advance(5 * ms)
			s.DropHeartbeats(s.WorkerNode(0), 600*ms)
			s.Advance(450 * ms)
			s.Request(0, "echo")
		},
		want: func(s *World) error {
			removed := uint64(0)
			for _, n := range s.Broker().Stats().WorkersRemoved {
				removed += n
			}
			if removed == 0 {
				return fmt.Errorf("the broker removed no worker under heartbeat loss")
			}
			return outcome(s, 0, 1, nil, nil)
		},
	},
}

// TestScenarios runs each scenario, checks the catalogue throughout and its outcome.
func TestScenarios(t *testing.T) {
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			s, err := NewWorld(sc.cfg)
			if err != nil {
				t.Fatal(err)
			}
			sc.run(s)
			s.Settle()
			if s.Checker().Failed() {
				t.Errorf("%s\nactions:\n%v", s.Checker().Report(), s.Log())
			}
			if err := sc.want(s); err != nil {
				t.Errorf("CHECK %s: %s: %v\nactions:\n%v", sc.check, sc.name, err, s.Log())
			}
		})
	}
}
