package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"syscall"
	"time"

	"github.com/ebwrk/ebwrk/internal/hdr"
)

// readyTimeout bounds how long client processes may take to connect and warm up.
const readyTimeout = 60 * time.Second

// clientProc is one client process of a load and what it said last.
type clientProc struct {
	c      *child
	ready  bool
	last   progress
	result *clientResult
	gone   bool // exited
}

type clientEvent struct {
	i      int
	r      report
	exited bool
}

// load is a set of client processes run together: each is started with args[i],
// and all get "go" together once all are ready.
type loadSet struct {
	s      *stage
	label  string
	procs  []*clientProc
	events chan clientEvent
	shown  func(label string, p progress) // the progress line; nil: none
}

// runLoadSet starts the client processes, runs them until each has reported (or
// died), and returns their merged account. The load stops early, with "stop" to
// every client, when stop fires, when ctx ends, or when no request has ended for
// timeout × attempts + 5 s (a stall: logged).
func (s *stage) runLoadSet(ctx context.Context, label string, args [][]string, stop <-chan time.Time,
	shown func(string, progress)) (*clientResult, error) {
	ls := &loadSet{s: s, label: label, events: make(chan clientEvent, 64), shown: shown}
	for i, a := range args {
		name := fmt.Sprintf("%s client %d", label, i+1)
		c, err := s.f.start(name, "client", s.self, a, func(c *child, line []byte) {
			var r report
			if err := json.Unmarshal(line, &r); err != nil {
				s.f.log.Warn("bad report", "client", name, "line", string(line), "err", err)
				return
			}
			if r.Result != nil {
				c.finished() // it exits once it has reported
			}
			ls.events <- clientEvent{i: i, r: r}
		})
		if err != nil {
			ls.endAll()
			return nil, err
		}
		p := &clientProc{c: c}
		ls.procs = append(ls.procs, p)
		go func() { <-c.done; ls.events <- clientEvent{i: i, exited: true} }()
	}
	defer ls.endAll()
	if err := ls.waitReady(ctx); err != nil {
		return nil, err
	}
	for _, p := range ls.procs {
		p.c.send(cmdGo)
	}
	return ls.collect(ctx, stop), nil
}

func (ls *loadSet) waitReady(ctx context.Context) error {
	timeout := time.After(readyTimeout)
	for n := 0; n < len(ls.procs); {
		select {
		case e := <-ls.events:
			p := ls.procs[e.i]
			switch {
			case e.exited:
				p.gone = true
				return fmt.Errorf("%s exited before it was ready (%s): %v", p.c.name, p.c.status, p.c.tail)
			case e.r.Ready && !p.ready:
				p.ready = true
				n++
			}
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return fmt.Errorf("%s: client processes not ready after %v", ls.label, readyTimeout)
		}
	}
	return nil
}

func (ls *loadSet) collect(ctx context.Context, stop <-chan time.Time) *clientResult {
	cfg := ls.s.cfg
	stallAfter := time.Duration(cfg.attempts)*cfg.timeout + 5*time.Second
	stall := time.NewTimer(stallAfter)
	defer stall.Stop()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	done := ctx.Done()
	stopped := false
	var kill <-chan time.Time // after "stop", the time the clients have to report
	stopAll := func(why string) {
		if !stopped {
			stopped = true
			ls.s.f.log.Info("stopping the load", "load", ls.label, "why", why)
			for _, p := range ls.procs {
				p.c.send(cmdStop)
			}
			kill = time.After(stallAfter + 5*time.Second)
		}
	}
	var ended uint64
	for left := len(ls.procs); left > 0; {
		select {
		case e := <-ls.events:
			p := ls.procs[e.i]
			switch {
			case e.exited:
				p.gone = true
				left--
			case e.r.Result != nil:
				p.result = e.r.Result
			case e.r.Progress != nil:
				p.last = *e.r.Progress
			}
		case <-tick.C:
			var sum progress
			for _, p := range ls.procs {
				sum.Issued += p.last.Issued
				sum.Ended += p.last.Ended
			}
			if sum.Ended != ended {
				ended = sum.Ended
				stall.Reset(stallAfter)
			}
			if ls.shown != nil {
				ls.shown(ls.label, sum)
			}
		case <-stall.C:
			ls.s.f.log.Warn("no request ended for a while: stopping the load", "load", ls.label, "after", stallAfter)
			stopAll("stall")
		case <-stop:
			stop = nil
			stopAll("time is up")
		case <-done:
			done = nil
			stopAll("interrupted")
		case <-kill:
			kill = nil
			for _, p := range ls.procs {
				if !p.gone && p.result == nil {
					ls.s.f.log.Error("client process did not report after stop: killed", "client", p.c.name)
					p.c.signal(syscall.SIGKILL)
				}
			}
		}
	}
	total := &clientResult{ID: ls.label, Latency: new(hdr.Histogram)}
	for _, p := range ls.procs {
		if p.result != nil {
			total.add(p.result)
			continue
		}
		// A client that ended without its account: what it had issued and not seen
		// end is lost (at least one, so that it fails the run); what had ended
		// cannot be told apart, so it is not counted.
		lost := max(1, p.last.Issued-min(p.last.Issued, p.last.Ended))
		total.add(&clientResult{Requests: p.last.Issued, Lost: lost,
			Errors: map[string]uint64{"client process ended without its report: " + p.c.status: lost}})
	}
	return total
}

// endAll ends every client process of the set.
func (ls *loadSet) endAll() {
	for _, p := range ls.procs {
		p.c.end(endGrace)
	}
}

// progressLine returns a function that rewrites one status line on w, or nil when
// show is false; clear erases it.
func progressLine(w io.Writer, show bool) (update func(string, progress), clear func()) {
	if !show {
		return nil, func() {}
	}
	update = func(label string, p progress) {
		fmt.Fprintf(w, "\r\033[K%s: %d requests issued, %d ended", label, p.Issued, p.Ended)
	}
	clear = func() { fmt.Fprint(w, "\r\033[K") }
	return update, clear
}
