package core

import (
	"testing"
	"time"
)

// TestMachineErrors checks that the script machines refuse bad commands, so that a
// mistyped script fails instead of passing by doing nothing.
func TestMachineErrors(t *testing.T) {
	tests := []struct {
		name    string
		machine func() scriptMachine
		lines   [][]string // all but the last must succeed
	}{
		{"client: unknown command", newClientMachine, [][]string{{"bogus"}}},
		{"client: empty command", newClientMachine, [][]string{{}}},
		{"client: setting without =", newClientMachine, [][]string{{"config", "timeout"}}},
		{"client: unknown setting", newClientMachine, [][]string{{"config", "speed=1"}}},
		{"client: bad timeout", newClientMachine, [][]string{{"config", "timeout=soon"}}},
		{"client: bad attempts", newClientMachine, [][]string{{"config", "attempts=x"}}},
		{"client: bad standard", newClientMachine, [][]string{{"config", "standard=maybe"}}},
		{"client: config after start", newClientMachine, [][]string{{"request", "echo"}, {"config", "attempts=1"}}},
		{"client: request without service", newClientMachine, [][]string{{"request"}}},
		{"client: bad body frame", newClientMachine, [][]string{{"request", "echo", "seq:x"}}},
		{"client: bad received frame", newClientMachine, [][]string{{"receive", "cmd:x"}}},
		{"client: wrong outstanding", newClientMachine, [][]string{{"request", "echo"}, {"outstanding", "2"}}},
		{"client: outstanding usage", newClientMachine, [][]string{{"outstanding"}}},
		{"client: sent mismatch", newClientMachine, [][]string{{"request", "echo"}, {"sent", "seq:2", "", "MDPC01", "echo"}}},
		{"worker: unknown command", newWorkerMachine, [][]string{{"bogus"}}},
		{"worker: empty command", newWorkerMachine, [][]string{{}}},
		{"worker: unknown setting", newWorkerMachine, [][]string{{"config", "speed=1"}}},
		{"worker: bad heartbeat", newWorkerMachine, [][]string{{"config", "heartbeat=x"}}},
		{"worker: bad liveness", newWorkerMachine, [][]string{{"config", "liveness=x"}}},
		{"worker: config after start", newWorkerMachine, [][]string{{"start"}, {"config", "liveness=1"}}},
		{"worker: bad received frame", newWorkerMachine, [][]string{{"receive", "hex:x"}}},
		{"worker: bad reply frame", newWorkerMachine, [][]string{{"reply", "hex:x"}}},
		{"worker: wrong busy", newWorkerMachine, [][]string{{"start"}, {"busy", "true"}}},
		{"worker: busy usage", newWorkerMachine, [][]string{{"busy"}}},
		{"worker: nothing sent", newWorkerMachine, [][]string{{"sent", ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := tt.machine()
			last := len(tt.lines) - 1
			for _, words := range tt.lines[:last] {
				if _, err := m.exec(t0, words); err != nil {
					t.Fatalf("exec(%q) = %v", words, err)
				}
			}
			if _, err := m.exec(t0, tt.lines[last]); err == nil {
				t.Errorf("exec(%q) succeeded, want an error", tt.lines[last])
			}
		})
	}
}

// TestAdvanceMachineStuck checks that the script machines notice a deadline that
// Advance does not move on.
func TestAdvanceMachineStuck(t *testing.T) {
	stuck := t0.Add(time.Second)
	err := advanceMachine(t0.Add(time.Hour), func() time.Time { return stuck }, func(time.Time) {})
	if err == nil {
		t.Error("advanceMachine with a stuck deadline succeeded, want an error")
	}
}

func newClientMachine() scriptMachine { return &clientMachine{} }
func newWorkerMachine() scriptMachine { return &workerMachine{} }
