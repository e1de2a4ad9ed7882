package conformance

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"testing"

	"github.com/ebwrk/ebwrk/sim"
	"pgregory.net/rapid"
)

// TestSimProperties is a property over sim itself: rapid draws a topology, a
// configuration and a schedule of timed faults (t.Repeat: each action schedules one
// fault at a moving cursor, or moves the cursor; the schedule is validated after each
// one), then sim runs it with a drawn seed. Sim's online checker must report no
// violated guarantee, no state machine may panic, and the accounting must close:
// every request started ends as a success or a failure, none is left hanging. A
// failure writes the scenario as TOML and prints the ebsim commands that replay and
// shrink it.
func TestSimProperties(t *testing.T) {
	rapid.Check(t, propSim)
}

func propSim(t *rapid.T) {
	ms := time.Millisecond
	beat := time.Duration(rapid.IntRange(1, 3).Draw(t, "beat100ms")) * 100 * ms
	sc := sim.Scenario{
		Name:    "rapid",
		Network: sim.NetworkSpec{Latency: time.Duration(rapid.IntRange(0, 3).Draw(t, "latencyMs")) * ms},
		Broker: sim.BrokerSpec{
			Heartbeat:     beat,
			Liveness:      rapid.IntRange(2, 4).Draw(t, "liveness"),
			QueueExpiry:   rapid.SampledFrom([]time.Duration{-1, 0, 500 * ms}).Draw(t, "queueExpiry"),
			OnWorkerDeath: rapid.SampledFrom([]string{"requeue", "fail"}).Draw(t, "onDeath"),
		},
		Worker: sim.WorkerSpec{Heartbeat: beat, ReconnectInitial: 50 * ms, ReconnectMax: 400 * ms},
		Services: []sim.ServiceSpec{
			{Name: "echo", Workers: rapid.IntRange(1, 3).Draw(t, "echoWorkers"),
				Time: sim.Dist{Kind: sim.Constant, Mean: time.Duration(rapid.IntRange(1, 30).Draw(t, "echoMs")) * ms}},
			{Name: "render", Workers: rapid.IntRange(0, 2).Draw(t, "renderWorkers"),
				Time: sim.Dist{Kind: sim.Exponential, Mean: 20 * ms}},
		},
		Clients: sim.ClientSpec{
			Count:    rapid.IntRange(1, 4).Draw(t, "clients"),
			Requests: rapid.IntRange(1, 30).Draw(t, "requests"),
			Think:    time.Duration(rapid.IntRange(0, 20).Draw(t, "think10ms")) * 10 * ms,
			Timeout:  time.Duration(rapid.IntRange(3, 10).Draw(t, "timeout100ms")) * 100 * ms,
			Attempts: rapid.IntRange(1, 3).Draw(t, "attempts"),
			MMI:      rapid.SampledFrom([]float64{0, 0.1}).Draw(t, "mmi"),
		},
	}
	workers := sc.Services[0].Workers + sc.Services[1].Workers
	worker := func(t *rapid.T) string { return "w" + strconv.Itoa(rapid.IntRange(1, workers).Draw(t, "worker")) }
	node := func(t *rapid.T) string {
		if rapid.Bool().Draw(t, "isWorker") {
			return worker(t)
		}
		return "c" + strconv.Itoa(rapid.IntRange(1, sc.Clients.Count).Draw(t, "client"))
	}
	dur := func(t *rapid.T, label string) time.Duration {
		return time.Duration(rapid.IntRange(1, 20).Draw(t, label)) * 100 * ms
	}
	var at time.Duration
	add := func(e sim.FaultEvent) {
		e.At = at
		sc.Faults.Events = append(sc.Faults.Events, e)
	}
	t.Repeat(map[string]func(*rapid.T){
		"Crash": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamCrash, Node: worker(t), For: rapid.SampledFrom([]time.Duration{0, time.Second}).Draw(t, "restartAfter")})
		},
		"Restart": func(t *rapid.T) { add(sim.FaultEvent{Kind: sim.FamRestart, Node: worker(t)}) },
		"Pause":   func(t *rapid.T) { add(sim.FaultEvent{Kind: sim.FamPause, Node: worker(t), For: dur(t, "for")}) },
		"Slow": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamSlow, Node: worker(t), For: dur(t, "for"), Delay: dur(t, "delay")})
		},
		"Partition": func(t *rapid.T) { add(sim.FaultEvent{Kind: sim.FamPartition, Node: node(t), For: dur(t, "for")}) },
		"HeartbeatLoss": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamHeartbeatLoss, Node: worker(t), For: dur(t, "for"),
				Direction: rapid.SampledFrom([]string{sim.ToBroker, sim.FromBroker, sim.Both}).Draw(t, "direction")})
		},
		"Drop": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamDrop, Node: node(t), For: dur(t, "for"), Prob: 0.3})
		},
		"Duplicate": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamDuplicate, Node: node(t), For: dur(t, "for"), Prob: 0.5})
		},
		"Delay": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamDelay, Node: node(t), For: dur(t, "for"), Prob: 0.5, Delay: dur(t, "delay")})
		},
		"BrokerRestart": func(t *rapid.T) { add(sim.FaultEvent{Kind: sim.FamBrokerRestart, For: dur(t, "for")}) },
		"Malformed": func(t *rapid.T) {
			add(sim.FaultEvent{Kind: sim.FamMalformed, Count: rapid.IntRange(1, 20).Draw(t, "count")})
		},
		"Advance": func(t *rapid.T) { at += time.Duration(rapid.IntRange(1, 10).Draw(t, "advance100ms")) * 100 * ms },
		"": func(t *rapid.T) {
			if err := sc.Validate(); err != nil {
				t.Fatalf("the drawn scenario is invalid: %v", err)
			}
		},
	})
	seed := rapid.Uint64Range(1, 1<<20).Draw(t, "seed")
	res, err := sim.Run(sc, seed, sim.Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := res.Metrics
	var failed uint64
	for _, n := range m.Failures {
		failed += n
	}
	var problems []string
	for _, v := range res.Violations {
		problems = append(problems, "CHECK "+strings.Replace(v.Guarantee, " ", "-", 1)+" (sim): "+v.Detail)
	}
	if res.Panic != "" {
		problems = append(problems, "CHECK "+G7Malformed+" (sim): a state machine panicked:\n"+res.Panic)
	}
	if m.Hung != 0 || m.Requests != m.Successes+failed {
		problems = append(problems, fmt.Sprintf("CHECK %s (sim): %d requests, %d successes, %d failures, %d hung", G2RequestEnds, m.Requests, m.Successes, failed, m.Hung))
	}
	if len(problems) > 0 {
		t.Fatalf("%s\n%s", strings.Join(problems, "\n"), replayHint(sc, seed))
	}
}

// replayHint saves sc where it outlives the test and returns the commands that
// replay and shrink it.
func replayHint(sc sim.Scenario, seed uint64) string {
	var buf bytes.Buffer
	if err := sim.EncodeScenario(&buf, sc); err != nil {
		return "(the scenario could not be encoded: " + err.Error() + ")"
	}
	dir, err := os.MkdirTemp("", "ebwrk-rapid-")
	if err != nil {
		return "(the scenario could not be saved: " + err.Error() + ")\n" + buf.String()
	}
	path := filepath.Join(dir, "rapid.toml")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		return "(the scenario could not be saved: " + err.Error() + ")\n" + buf.String()
	}
	s := strconv.FormatUint(seed, 10)
	return "replay: go run ./cmd/ebsim run " + path + " --seed " + s + "\nshrink: go run ./cmd/ebsim shrink " + path + " --seed " + s
}
