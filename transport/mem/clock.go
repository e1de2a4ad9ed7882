package mem

import "time"

// Clock is virtual time and the event scheduler of a simulation. Events run one at a
// time, in (time, sequence) order: two events at the same instant run in the order
// they were scheduled. Time only moves when an event runs or RunUntil is called.
//
// A Clock is not safe for concurrent use: one goroutine owns it, and event functions
// run on that goroutine, inside Step or RunUntil. Event functions may schedule and
// stop events, but must not call Step or RunUntil.
type Clock struct {
	start  time.Time
	now    int64 // nanoseconds since start
	seq    uint64
	heap   []item
	stale  int // heap items that will be skipped: stopped or rescheduled timers
	events uint64
}

// item is one scheduled event in the heap: a timer or a message delivery. Keys
// (at, seq) are unique, so the pop order does not depend on the heap's layout.
type item struct {
	at  int64
	seq uint64
	t   *Timer    // a timer event, live only while t.seq == seq
	d   *delivery // a message delivery (t == nil)
}

// Timer is one scheduled function. Stop cancels it; Reset schedules it again.
type Timer struct {
	c   *Clock
	fn  func()
	seq uint64 // the sequence of its live heap item; 0 when not scheduled
	at  int64
}

// NewClock returns a clock that reads start and has no events.
func NewClock(start time.Time) *Clock {
	return &Clock{start: start, heap: make([]item, 0, 64)}
}

// Now returns the virtual time.
func (c *Clock) Now() time.Time { return c.start.Add(time.Duration(c.now)) }

// Start returns the time the clock was created with.
func (c *Clock) Start() time.Time { return c.start }

// Since returns the virtual time elapsed since the clock's start.
func (c *Clock) Since() time.Duration { return time.Duration(c.now) }

// offset converts t to nanoseconds since start, clamped to now: the past is now.
func (c *Clock) offset(t time.Time) int64 {
	at := int64(t.Sub(c.start))
	if at < c.now {
		return c.now
	}
	return at
}

// At schedules fn to run at t; a t before Now runs at Now, after the events already
// scheduled for Now.
func (c *Clock) At(t time.Time, fn func()) *Timer {
	tm := &Timer{c: c, fn: fn}
	tm.schedule(c.offset(t))
	return tm
}

// After schedules fn to run d after Now; a negative d counts as zero.
func (c *Clock) After(d time.Duration, fn func()) *Timer {
	tm := &Timer{c: c, fn: fn}
	tm.schedule(c.now + max(int64(d), 0))
	return tm
}

// schedule pushes a live heap item for the timer at nanosecond offset at.
func (t *Timer) schedule(at int64) {
	c := t.c
	c.seq++
	t.seq = c.seq
	t.at = at
	c.push(item{at: at, seq: c.seq, t: t})
}

// Stop cancels the timer. It returns true if the timer was scheduled and had not run
// yet, false if it had already run or been stopped.
func (t *Timer) Stop() bool {
	if t.seq == 0 {
		return false
	}
	t.seq = 0
	t.c.stale++
	t.c.maybeCompact()
	return true
}

// Reset schedules the timer's function again at t (a t before Now runs at Now),
// cancelling the pending run if there is one. It returns what Stop would have. Reset
// reuses the Timer, so a driver that moves one deadline often allocates nothing.
func (t *Timer) Reset(at time.Time) bool {
	was := t.Stop()
	t.schedule(t.c.offset(at))
	return was
}

// When returns the time the timer is scheduled for, or last ran or was meant to run.
func (t *Timer) When() time.Time { return t.c.start.Add(time.Duration(t.at)) }

// Pending reports whether the timer is scheduled and has not run yet.
func (t *Timer) Pending() bool { return t.seq != 0 }

// Step runs the next event, moving Now to its time. It returns false, and does
// nothing, when no event is pending.
func (c *Clock) Step() bool {
	if !c.skipStale() {
		return false
	}
	it := c.pop()
	c.now = it.at
	c.events++
	if it.t != nil {
		it.t.seq = 0
		it.t.fn()
		return true
	}
	it.d.net.deliver(it.d)
	return true
}

// RunUntil runs every event scheduled at or before t, in order, including those
// that the events schedule, and then sets Now to t. A t before Now runs the events
// due at Now and leaves Now alone: virtual time never goes back.
func (c *Clock) RunUntil(t time.Time) {
	end := c.offset(t)
	for c.skipStale() && c.heap[0].at <= end {
		c.Step()
	}
	c.now = end
}

// Next returns the time of the next pending event, and false when there is none.
func (c *Clock) Next() (time.Time, bool) {
	if !c.skipStale() {
		return time.Time{}, false
	}
	return c.start.Add(time.Duration(c.heap[0].at)), true
}

// Pending returns how many events are scheduled and have not run: live timers and
// messages in flight.
func (c *Clock) Pending() int { return len(c.heap) - c.stale }

// Events returns how many events have run so far (timers fired and messages that
// reached their delivery time, whether delivered or then dropped).
func (c *Clock) Events() uint64 { return c.events }

// skipStale pops stale items off the top and reports whether a live event is left.
func (c *Clock) skipStale() bool {
	for len(c.heap) > 0 {
		it := &c.heap[0]
		if it.t == nil || it.t.seq == it.seq {
			return true
		}
		c.pop()
		c.stale--
	}
	return false
}

// maybeCompact rebuilds the heap without stale items once they are the majority, so
// drivers that reschedule timers often do not grow the heap without bound.
func (c *Clock) maybeCompact() {
	if c.stale < 64 || c.stale*2 < len(c.heap) {
		return
	}
	live := c.heap[:0]
	for _, it := range c.heap {
		if it.t == nil || it.t.seq == it.seq {
			live = append(live, it)
		}
	}
	clear(c.heap[len(live):])
	c.heap = live
	c.stale = 0
	for i := len(c.heap)/2 - 1; i >= 0; i-- {
		c.down(i)
	}
}

// less orders items by time, then by scheduling sequence.
func less(a, b *item) bool {
	return a.at < b.at || (a.at == b.at && a.seq < b.seq)
}

func (c *Clock) push(it item) {
	c.heap = append(c.heap, it)
	h := c.heap
	i := len(h) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !less(&h[i], &h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (c *Clock) pop() item {
	h := c.heap
	top := h[0]
	n := len(h) - 1
	h[0] = h[n]
	h[n] = item{}
	c.heap = h[:n]
	if n > 0 {
		c.down(0)
	}
	return top
}

func (c *Clock) down(i int) {
	h := c.heap
	n := len(h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && less(&h[r], &h[l]) {
			m = r
		}
		if !less(&h[m], &h[i]) {
			return
		}
		h[i], h[m] = h[m], h[i]
		i = m
	}
}
