package conformance

import (
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"pgregory.net/rapid"
)

// TestProperties is the state-machine property: random sequences of actions on a
// World (clients, workers, faults, broker restarts, malformed input, time), with
// every check of the catalogue evaluated after every action and once more after the
// system settles. rapid shrinks a failure to a minimal action sequence; the failure
// message lists the actions and rapid prints the flags that replay it.
func TestProperties(t *testing.T) {
	rapid.Check(t, propWorld)
}

// FuzzStateMachine is TestProperties as a fuzz target: the fuzzer's bytes drive
// rapid's choices.
func FuzzStateMachine(f *testing.F) {
	f.Fuzz(rapid.MakeFuzz(propWorld))
}

// The services the property uses; "nosuch" never has a worker. Requests favour echo.
var (
	propServices    = []string{"echo", "slow", "nosuch"}
	requestServices = []string{"echo", "echo", "echo", "slow", "nosuch"}
)

func propWorld(t *rapid.T) {
	beat := 100 * time.Millisecond
	liveness := rapid.IntRange(2, 4).Draw(t, "liveness")
	cfg := WorldConfig{
		Broker: core.BrokerConfig{
			HeartbeatInterval: beat,
			Liveness:          liveness,
			QueueLimit:        rapid.SampledFrom([]int{-1, 2, 100}).Draw(t, "queueLimit"),
			QueueExpiry:       rapid.SampledFrom([]time.Duration{-1, 300 * time.Millisecond, time.Second}).Draw(t, "queueExpiry"),
			OnWorkerDeath:     rapid.SampledFrom([]core.DeathPolicy{core.Requeue, core.FailRequest}).Draw(t, "onDeath"),
			// Service times run up to 300 ms, so 250 ms removes some legitimately slow
			// workers too (as the limit must), besides paused and cut-off ones.
			HoldLimit: rapid.SampledFrom([]time.Duration{0, 250 * time.Millisecond, time.Second}).Draw(t, "holdLimit"),
		},
		Latency: time.Duration(rapid.IntRange(0, 5).Draw(t, "latencyMs")) * time.Millisecond,
		Worker: core.WorkerConfig{
			HeartbeatInterval: beat,
			Liveness:          liveness,
			ReconnectInitial:  50 * time.Millisecond,
			ReconnectMax:      400 * time.Millisecond,
		},
	}
	s, err := NewWorld(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for range rapid.IntRange(1, 3).Draw(t, "clients") {
		s.AddClient(core.ClientConfig{Timeout: 500 * time.Millisecond, Attempts: 2})
	}
	credit := rapid.SampledFrom([]int{1, 1, 3}).Draw(t, "firstCredit")
	for i := range rapid.IntRange(1, 3).Draw(t, "workers") {
		s.AddCreditWorker(propServices[i%2], 20*time.Millisecond, credit)
	}
	check := func(t *rapid.T) {
		if s.Checker().Failed() {
			t.Fatalf("%s\nactions:\n  %s\nreplay: go test ./conformance -run '^TestProperties$' with the -rapid.seed or -rapid.failfile flag printed below",
				s.Checker().Report(), strings.Join(s.Log(), "\n  "))
		}
	}
	// Actions never skip (rapid's fuzz mode fails when every action is rejected): one
	// that cannot apply does nothing. There is always a client and a worker to pick.
	pickWorker := func(t *rapid.T) int { return rapid.IntRange(0, s.Workers()-1).Draw(t, "worker") }
	pickClient := func(t *rapid.T) int { return rapid.IntRange(0, s.Clients()-1).Draw(t, "client") }
	pickNode := func(t *rapid.T) string {
		if rapid.Bool().Draw(t, "workerNode") {
			return s.WorkerNode(pickWorker(t))
		}
		return s.ClientNode(pickClient(t))
	}
	t.Repeat(map[string]func(*rapid.T){
		"AddClient": func(t *rapid.T) {
			if s.Clients() >= 4 {
				return
			}
			s.AddClient(core.ClientConfig{
				Timeout:  time.Duration(rapid.IntRange(2, 10).Draw(t, "timeout100ms")) * 100 * time.Millisecond,
				Attempts: rapid.IntRange(1, 3).Draw(t, "attempts"),
				Standard: rapid.IntRange(0, 3).Draw(t, "standard") == 0,
			})
		},
		"Request": func(t *rapid.T) {
			for range rapid.IntRange(1, 4).Draw(t, "burst") {
				s.Request(pickClient(t), rapid.SampledFrom(requestServices).Draw(t, "service"))
			}
		},
		"Lookup": func(t *rapid.T) {
			s.Lookup(pickClient(t), rapid.SampledFrom(propServices).Draw(t, "name"), rapid.Bool().Draw(t, "short"))
		},
		"AddWorker": func(t *rapid.T) {
			if s.Workers() >= 6 {
				return
			}
			svc := rapid.SampledFrom(propServices[:2]).Draw(t, "service")
			svcTime := time.Duration(rapid.IntRange(0, 30).Draw(t, "svc10ms")) * 10 * time.Millisecond
			s.AddCreditWorker(svc, svcTime, rapid.SampledFrom([]int{1, 1, 2, 4}).Draw(t, "credit"))
		},
		"KillWorker":   func(t *rapid.T) { s.KillWorker(pickWorker(t)) },
		"StopWorker":   func(t *rapid.T) { s.StopWorker(pickWorker(t)) },
		"PauseWorker":  func(t *rapid.T) { s.PauseWorker(pickWorker(t)) },
		"ResumeWorker": func(t *rapid.T) { s.ResumeWorker(pickWorker(t)) },
		"DropHeartbeats": func(t *rapid.T) {
			s.DropHeartbeats(s.WorkerNode(pickWorker(t)), time.Duration(rapid.IntRange(1, 10).Draw(t, "for100ms"))*100*time.Millisecond)
		},
		"Partition":     func(t *rapid.T) { s.Partition(pickNode(t)) },
		"Heal":          func(t *rapid.T) { s.Heal(pickNode(t)) },
		"RestartBroker": func(*rapid.T) { s.RestartBroker() },
		"Inject": func(t *rapid.T) {
			s.Inject(core.Socket(rapid.IntRange(0, 1).Draw(t, "socket")), framesGen().Draw(t, "frames"))
		},
		"Advance": func(t *rapid.T) {
			s.Advance(time.Duration(rapid.IntRange(1, 200).Draw(t, "advance10ms")) * 10 * time.Millisecond)
		},
		"": check,
	})
	s.Settle()
	check(t)
}

// framesGen draws messages for the hostile peer: mostly near-misses of valid MDP
// messages (one frame changed, added or removed), sometimes valid ones, sometimes
// noise.
func framesGen() *rapid.Generator[[][]byte] {
	templates := [][][]byte{
		fr("", core.ClientHeader, "echo", "x"),
		fr("\x00\x00\x00\x00\x00\x00\x00\x07", "", core.ClientHeader, "echo", "x"),
		fr("\x00\x00\x00\x00\x00\x00\x00\x07\x02", "", core.ClientHeader, "echo"),
		fr("", core.ClientHeader, "mmi.service", "echo"),
		fr("", core.WorkerHeader, "\x01", "echo"),
		fr("", core.WorkerHeader, "\x01", "echo", "3"),
		fr("", core.WorkerHeader, "\x01", "mmi.echo"),
		fr("", core.WorkerHeader, "\x02", "c1.1", "", "x"),
		fr("", core.WorkerHeader, "\x03", "c1.1", "", "x"),
		fr("", core.WorkerHeader, "\x03", "c1.1", "c2.1", "", "x"),
		fr("", core.WorkerHeader, "\x04"),
		fr("", core.WorkerHeader, "\x05"),
		fr("", core.WorkerHeader, "\x09"),
	}
	frame := rapid.SliceOfN(rapid.Byte(), 0, 10)
	return rapid.Custom(func(t *rapid.T) [][]byte {
		if rapid.IntRange(0, 5).Draw(t, "noise") == 0 {
			return rapid.SliceOfN(frame, 0, 7).Draw(t, "random")
		}
		m := clone(rapid.SampledFrom(templates).Draw(t, "template"))
		switch rapid.IntRange(0, 3).Draw(t, "mutation") {
		case 0: // valid as it is
		case 1:
			if len(m) > 0 {
				m[rapid.IntRange(0, len(m)-1).Draw(t, "at")] = frame.Draw(t, "frame")
			}
		case 2:
			i := rapid.IntRange(0, len(m)).Draw(t, "at")
			m = append(m[:i], append([][]byte{frame.Draw(t, "frame")}, m[i:]...)...)
		case 3:
			if len(m) > 0 {
				i := rapid.IntRange(0, len(m)-1).Draw(t, "at")
				m = append(m[:i], m[i+1:]...)
			}
		}
		return m
	})
}

func fr(parts ...string) [][]byte {
	out := make([][]byte, len(parts))
	for i, p := range parts {
		out[i] = []byte(p)
	}
	return out
}

func clone(m [][]byte) [][]byte {
	out := make([][]byte, len(m))
	for i, f := range m {
		out[i] = append([]byte{}, f...)
	}
	return out
}
