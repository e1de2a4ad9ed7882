package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/zmq"
)

func TestEventsHook(t *testing.T) {
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	hook := eventsHook(&buf)
	hook(zmq.Event{Time: at, Output: core.Output{Kind: core.EventOutput, Event: core.WorkerRemoved,
		Peer: core.Peer{Socket: core.Backend, ID: "w1"}, Service: "echo", Reason: core.Silent}})
	hook(zmq.Event{Time: at, Output: core.Output{Kind: core.EventOutput, Event: core.RequestDispatched,
		Peer: core.Peer{Socket: core.Backend, ID: "w2"}, Service: "echo", Seq: 7}})
	hook(zmq.Event{Time: at, Output: core.Output{Kind: core.SendOutput, To: core.Peer{Socket: core.Backend, ID: "w3"}},
		Undeliverable: errors.New("host unreachable")})
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var got []EventLine
	for _, l := range lines {
		var e EventLine
		if err := json.Unmarshal([]byte(l), &e); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, e)
	}
	want := []EventLine{
		{Time: at, Event: "worker-removed", Peer: "back:w1", Service: "echo", Reason: "silent"},
		{Time: at, Event: "dispatched", Peer: "back:w2", Service: "echo", Seq: 7},
		{Time: at, Event: "undeliverable", Peer: "back:w3", Err: "host unreachable"},
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("events (-want +got):\n%s", d)
	}
}
