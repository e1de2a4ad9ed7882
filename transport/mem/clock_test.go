package mem

import (
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var epoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// ms returns the instant d milliseconds after epoch.
func ms(d int) time.Time { return epoch.Add(time.Duration(d) * time.Millisecond) }

// clockOp is one step of a clock script: schedule an event (name at atMS, or after
// afterMS when after is set), stop one, or run.
type clockOp struct {
	op    string // "at", "after", "stop", "reset", "step", "until"
	name  string
	msec  int
	want  bool // stop/reset/step: the result expected
	inner string
}

func TestClock(t *testing.T) {
	tests := []struct {
		name    string
		ops     []clockOp
		wantLog []string
		wantNow int // ms after epoch
		wantEv  uint64
	}{
		{
			name: "time order",
			ops: []clockOp{
				{op: "at", name: "c", msec: 30},
				{op: "at", name: "a", msec: 10},
				{op: "at", name: "b", msec: 20},
				{op: "until", msec: 100},
			},
			wantLog: []string{"a@10", "b@20", "c@30"},
			wantNow: 100,
			wantEv:  3,
		},
		{
			name: "same instant runs in scheduling order",
			ops: []clockOp{
				{op: "at", name: "x", msec: 5},
				{op: "at", name: "y", msec: 5},
				{op: "after", name: "z", msec: 5},
				{op: "at", name: "w", msec: 5},
				{op: "until", msec: 5},
			},
			wantLog: []string{"x@5", "y@5", "z@5", "w@5"},
			wantNow: 5,
			wantEv:  4,
		},
		{
			name: "stop before it runs",
			ops: []clockOp{
				{op: "at", name: "a", msec: 10},
				{op: "at", name: "b", msec: 20},
				{op: "stop", name: "a", want: true},
				{op: "stop", name: "a", want: false},
				{op: "until", msec: 50},
				{op: "stop", name: "b", want: false},
			},
			wantLog: []string{"b@20"},
			wantNow: 50,
			wantEv:  1,
		},
		{
			name: "until stops at its time and keeps later events",
			ops: []clockOp{
				{op: "at", name: "a", msec: 10},
				{op: "at", name: "b", msec: 11},
				{op: "until", msec: 10},
			},
			wantLog: []string{"a@10"},
			wantNow: 10,
			wantEv:  1,
		},
		{
			name: "at in the past runs at now after events due now",
			ops: []clockOp{
				{op: "until", msec: 40},
				{op: "at", name: "now", msec: 40},
				{op: "at", name: "past", msec: 5},
				{op: "step", want: true},
				{op: "step", want: true},
				{op: "step", want: false},
			},
			wantLog: []string{"now@40", "past@40"},
			wantNow: 40,
			wantEv:  2,
		},
		{
			name: "events scheduled by events",
			ops: []clockOp{
				{op: "at", name: "a", msec: 10, inner: "a2"},
				{op: "at", name: "b", msec: 10},
				{op: "until", msec: 10},
			},
			// a2 is scheduled after b at the same instant, so it runs after b.
			wantLog: []string{"a@10", "b@10", "a2@10"},
			wantNow: 10,
			wantEv:  3,
		},
		{
			name: "reset moves a timer",
			ops: []clockOp{
				{op: "at", name: "a", msec: 10},
				{op: "at", name: "b", msec: 20},
				{op: "reset", name: "a", msec: 30, want: true},
				{op: "until", msec: 100},
				{op: "reset", name: "a", msec: 110, want: false},
				{op: "until", msec: 200},
			},
			wantLog: []string{"b@20", "a@30", "a@110"},
			wantNow: 200,
			wantEv:  3,
		},
		{
			name: "until in the past does not move time back",
			ops: []clockOp{
				{op: "until", msec: 50},
				{op: "until", msec: 20},
			},
			wantNow: 50,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := NewClock(epoch)
			var log []string
			timers := map[string]*Timer{}
			rec := func(name, inner string) func() {
				return func() {
					log = append(log, name+"@"+strconv.Itoa(int(c.Since()/time.Millisecond)))
					if inner != "" {
						c.At(c.Now(), func() {
							log = append(log, inner+"@"+strconv.Itoa(int(c.Since()/time.Millisecond)))
						})
					}
				}
			}
			for i, op := range tt.ops {
				switch op.op {
				case "at":
					timers[op.name] = c.At(ms(op.msec), rec(op.name, op.inner))
				case "after":
					timers[op.name] = c.After(time.Duration(op.msec)*time.Millisecond, rec(op.name, op.inner))
				case "stop":
					if got := timers[op.name].Stop(); got != op.want {
						t.Errorf("op %d: Stop(%s) = %v, want %v", i, op.name, got, op.want)
					}
				case "reset":
					if got := timers[op.name].Reset(ms(op.msec)); got != op.want {
						t.Errorf("op %d: Reset(%s) = %v, want %v", i, op.name, got, op.want)
					}
				case "step":
					if got := c.Step(); got != op.want {
						t.Errorf("op %d: Step() = %v, want %v", i, got, op.want)
					}
				case "until":
					c.RunUntil(ms(op.msec))
				}
			}
			if d := cmp.Diff(tt.wantLog, log); d != "" {
				t.Errorf("event log mismatch (-want +got):\n%s", d)
			}
			if got := c.Now(); !got.Equal(ms(tt.wantNow)) {
				t.Errorf("Now() = %v, want %v", got, ms(tt.wantNow))
			}
			if got := c.Events(); got != tt.wantEv {
				t.Errorf("Events() = %d, want %d", got, tt.wantEv)
			}
		})
	}
}

func TestClockNextAndPending(t *testing.T) {
	c := NewClock(epoch)
	if _, ok := c.Next(); ok {
		t.Fatal("Next() on an empty clock reported an event")
	}
	if c.Step() {
		t.Fatal("Step() on an empty clock ran something")
	}
	a := c.At(ms(10), func() {})
	c.At(ms(20), func() {})
	if got := c.Pending(); got != 2 {
		t.Errorf("Pending() = %d, want 2", got)
	}
	if !a.Pending() {
		t.Error("timer a not pending")
	}
	a.Stop()
	if got := c.Pending(); got != 1 {
		t.Errorf("Pending() after Stop = %d, want 1", got)
	}
	next, ok := c.Next()
	if !ok || !next.Equal(ms(20)) {
		t.Errorf("Next() = %v, %v; want %v, true (the stopped timer is skipped)", next, ok, ms(20))
	}
	if !c.Step() || !c.Now().Equal(ms(20)) {
		t.Errorf("Step() did not run the 20ms event; Now() = %v", c.Now())
	}
	if got := c.Pending(); got != 0 {
		t.Errorf("Pending() at the end = %d, want 0", got)
	}
}

// TestClockCompaction reschedules one timer many times: the heap must not keep every
// stale entry, and the timer still fires once, at its last time.
func TestClockCompaction(t *testing.T) {
	c := NewClock(epoch)
	fired := 0
	tm := c.At(ms(1), func() { fired++ })
	for i := range 10000 {
		tm.Reset(ms(2 + i))
	}
	if n := len(c.heap); n > 200 {
		t.Errorf("heap holds %d items after 10000 resets, want compaction", n)
	}
	if got := c.Pending(); got != 1 {
		t.Errorf("Pending() = %d, want 1", got)
	}
	c.RunUntil(ms(20000))
	if fired != 1 || !tm.When().Equal(ms(10001)) {
		t.Errorf("fired %d times at %v, want once at %v", fired, tm.When(), ms(10001))
	}
}

// TestClockHeapOrder schedules many events in a scrambled order and checks they run
// sorted by time, then by scheduling order.
func TestClockHeapOrder(t *testing.T) {
	c := NewClock(epoch)
	type key struct{ at, seq int }
	var got []key
	for i := range 1000 {
		at := (i * 7919) % 97
		c.At(ms(at), func() { got = append(got, key{at, i}) })
	}
	for c.Step() {
	}
	if len(got) != 1000 {
		t.Fatalf("ran %d events, want 1000", len(got))
	}
	for i := 1; i < len(got); i++ {
		a, b := got[i-1], got[i]
		if a.at > b.at || (a.at == b.at && a.seq > b.seq) {
			t.Fatalf("event %d %v ran before %v", i, a, b)
		}
	}
}
