package live

import (
	"testing"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// TestCompareFailedShare checks the failed row where the two worlds send different
// numbers of requests (open-loop overload): it compares the failed share, so the
// figures of reports/fidelity.md's overload run (sim 1952 of 3030, live 1865 of
// 2836) agree, and a live run that fails a clearly larger share does not.
func TestCompareFailedShare(t *testing.T) {
	sc := sim.Scenario{Name: "open", Clients: sim.ClientSpec{Mode: sim.Open, Duration: 5e9}}
	simRes := &sim.Result{Metrics: sim.Metrics{Requests: 3030, Successes: 1078,
		Failures: map[string]uint64{core.Expired.String(): 1952}}}
	for _, tc := range []struct {
		ok, failed uint64
		agree      bool
	}{
		{971, 1865, true},  // 65.8 % against 64.4 %
		{736, 2100, false}, // 74.0 %
	} {
		res := &Result{Sim: simRes, Metrics: Metrics{Requests: tc.ok + tc.failed, OK: tc.ok,
			Failed: map[string]uint64{core.Expired.String(): tc.failed}, Events: true}}
		rows, _ := Compare(res, sc)
		for _, r := range rows {
			if r.Name == "failed" && r.Agree != tc.agree {
				t.Errorf("live %d failed of %d: agree %v, want %v (%s)", tc.failed, tc.ok+tc.failed, r.Agree, tc.agree, r.Note)
			}
		}
	}
}
