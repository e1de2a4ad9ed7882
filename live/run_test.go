package live

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

const ms = time.Millisecond

// short are shortened copies of catalogue scenarios, a few seconds each.
var short = []sim.Scenario{
	{
		Name:     "short-worker-crash",
		Broker:   sim.BrokerSpec{Heartbeat: 250 * ms},
		Worker:   sim.WorkerSpec{Heartbeat: 250 * ms},
		Services: []sim.ServiceSpec{{Name: "echo", Workers: 3, Time: sim.Dist{Kind: sim.Constant, Mean: 20 * ms}}},
		Clients:  sim.ClientSpec{Count: 3, Requests: 80, Timeout: 2 * time.Second},
		Faults: sim.Faults{Events: []sim.FaultEvent{
			{At: 305 * ms, Kind: sim.FamCrash, Node: "w1"},
			{At: 605 * ms, Kind: sim.FamCrash, Node: "w2", For: 600 * ms},
		}},
	},
	{
		Name:     "short-partition",
		Broker:   sim.BrokerSpec{Heartbeat: 250 * ms},
		Worker:   sim.WorkerSpec{Heartbeat: 250 * ms},
		Services: []sim.ServiceSpec{{Name: "echo", Workers: 3, Time: sim.Dist{Kind: sim.Constant, Mean: 10 * ms}}},
		Clients:  sim.ClientSpec{Count: 2, Duration: 3 * time.Second},
		Faults: sim.Faults{Events: []sim.FaultEvent{
			{At: 500 * ms, Kind: sim.FamPartition, Node: "w1", For: 1500 * ms},
			{At: 1 * time.Second, Kind: sim.FamPartition, Node: "c1", For: 500 * ms},
		}},
	},
	{
		Name:     "short-malformed",
		Services: []sim.ServiceSpec{{Name: "echo", Workers: 2, Time: sim.Dist{Kind: sim.Constant, Mean: 10 * ms}}},
		Clients:  sim.ClientSpec{Count: 2, Duration: 2 * time.Second, MMI: 0.05},
		Faults: sim.Faults{Events: []sim.FaultEvent{{At: 200 * ms, Kind: sim.FamMalformed, Count: 30}},
			Random: sim.RandomFaults{Malformed: 20}},
	},
}

// TestShortScenariosAgree runs each shortened scenario live and requires both
// verdicts to hold and every gating row to agree.
func TestShortScenariosAgree(t *testing.T) {
	for _, sc := range short {
		t.Run(sc.Name, func(t *testing.T) {
			res, err := Run(t.Context(), sc, 1, testOptions(t))
			if err != nil {
				t.Fatal(err)
			}
			rows, agree := Compare(res, sc)
			if !agree {
				for _, r := range rows {
					t.Logf("%-9s sim %-8s live %-9s agree %v: %s", r.Name, r.Sim, r.Live, r.Agree, r.Note)
				}
				for _, v := range res.Violations {
					t.Logf("live violation: %s at %v: %s", v.Guarantee, v.At, v.Detail)
				}
				t.Fatal("sim and live do not agree")
			}
			if len(res.Faults) == 0 {
				t.Error("no fault was applied live")
			}
		})
	}
}

// TestMalformedReachesBroker checks the live run's hostile peer really sends, and
// that the broker reports what it dropped.
func TestMalformedReachesBroker(t *testing.T) {
	res, err := Run(t.Context(), short[2], 1, testOptions(t))
	if err != nil {
		t.Fatal(err)
	}
	if m := res.Metrics; m.Malformed < 30 || m.Dropped == 0 {
		t.Errorf("malformed sent %d, dropped by the broker %d: want at least 30 sent and some dropped", m.Malformed, m.Dropped)
	}
}

// TestCheckerCatchesDyingBroker runs the shortened malformed scenario against a
// broker (via Exec) that dies at the first malformed input, 200 ms into the run:
// the live checker must report the broker's death, and the run must not agree with
// the sim.
func TestCheckerCatchesDyingBroker(t *testing.T) {
	opt := testOptions(t)
	opt.Exec = "env " + crashEnv + "=1 " + os.Args[0] + " --frontend {frontend} --backend {backend}"
	sc := short[2]
	res, err := Run(t.Context(), sc, 1, opt)
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range res.Violations {
		if v.Guarantee == sim.GNoPanic && strings.Contains(v.Detail, "broker process died by itself") {
			found = true
		}
	}
	if !found {
		t.Errorf("violations %+v: want the broker's death as %s", res.Violations, sim.GNoPanic)
	}
	if _, agree := Compare(res, sc); agree {
		t.Error("a run whose broker died agrees with the sim")
	}
}

// TestCheckerJudgesOutcomes feeds the checker outcomes that break G1, G2, G5 and
// G6, and one that breaks nothing.
func TestCheckerJudgesOutcomes(t *testing.T) {
	sc := short[2].WithDefaults()
	r := &run{sc: sc}
	body := [][]byte{[]byte("c1:1")}
	res := &Result{Outcomes: []Outcome{
		{Client: "c1", K: 1, Service: "echo", OK: true, Reply: body, Expect: body, Latency: 10 * ms},
		{Client: "c1", K: 2, Service: "echo", OK: true, Reply: [][]byte{[]byte("c2:1")}, Expect: body},
		{Client: "c1", K: 3, Service: "echo", Reason: core.TimedOut.String(), Attempts: 2, Latency: 2 * time.Second},
		{Client: "c1", K: 4, Service: "echo", OK: true, Reply: body, Expect: body, Latency: 4 * time.Second},
		{Client: "c1", K: 5, Service: "echo", Reason: "hung"},
		{Client: "c1", K: 6, Service: "echo", Reason: core.WorkerDied.String(), Latency: 10 * ms},
		{Client: "c1", K: 7, Service: "mmi.service", OK: true, MMIName: "nosuch", Reply: [][]byte{[]byte("200")}},
	}}
	r.check(res, nil, false)
	var got []string
	for _, v := range res.Violations {
		got = append(got, v.Guarantee)
	}
	want := []string{sim.GReply, sim.GEnds, sim.GEnds, sim.GEnds, sim.GHeld, sim.GMMI}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("violations %q, want %q", got, want)
	}
}

// TestCheckerJudgesEvents feeds the checker broker events that break G3 and G4: a
// dispatch to a removed worker, and a crash with no removal within the bound.
func TestCheckerJudgesEvents(t *testing.T) {
	sc := short[0].WithDefaults() // 250 ms heartbeats: G4's bound is 4 × 250 ms + 300 ms
	epoch := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) time.Time { return epoch.Add(d) }
	for _, tc := range []struct {
		name string
		evs  []brokerEvent
		want []string
	}{
		{"purged in time", []brokerEvent{
			{Time: at(0), Event: "worker-joined", Peer: "back:a"},
			{Time: at(1900 * ms), Event: "worker-removed", Peer: "back:a", Reason: "silent"},
			{Time: at(2 * time.Second), Event: "worker-joined", Peer: "back:a"},
			{Time: at(2100 * ms), Event: "dispatched", Peer: "back:a", Seq: 3},
		}, nil},
		{"purged late", []brokerEvent{
			{Time: at(0), Event: "worker-joined", Peer: "back:a"},
			{Time: at(2400 * ms), Event: "worker-removed", Peer: "back:a", Reason: "silent"},
		}, []string{sim.GPurge}},
		{"dispatched to a removed worker", []brokerEvent{
			{Time: at(0), Event: "worker-joined", Peer: "back:a"},
			{Time: at(1900 * ms), Event: "worker-removed", Peer: "back:a", Reason: "silent"},
			{Time: at(2100 * ms), Event: "dispatched", Peer: "back:a", Seq: 3},
		}, []string{sim.GDispatch}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{sc: sc, epoch: epoch, workers: []*workerSlot{{name: "w1"}}}
			res := &Result{Faults: []FaultNote{{At: time.Second, Kind: sim.FamCrash, Node: "w1"}},
				Metrics: Metrics{Elapsed: 5 * time.Second, Events: true}}
			r.check(res, [][]brokerEvent{tc.evs}, false)
			var got []string
			for _, v := range res.Violations {
				got = append(got, v.Guarantee)
			}
			if strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("violations %q, want %q", got, tc.want)
			}
		})
	}
}
