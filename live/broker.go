package live

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/sim"
)

// startBound is how long a broker process has to accept connections.
const startBound = 15 * time.Second

// brokerEvent is one line of ebbroker --events (cmd/ebbroker/events.go).
type brokerEvent struct {
	Time    time.Time `json:"t"`
	Event   string    `json:"event"`
	Peer    string    `json:"peer"`
	Service string    `json:"service"`
	Seq     uint64    `json:"seq"`
	Reason  string    `json:"reason"`
	Err     string    `json:"err"`
}

// brokerProc is the broker of a run: ebbroker (with --events) or the --exec
// command, started again on the same ports after a kill.
type brokerProc struct {
	exec              string // --exec command; empty: bin
	bin               string
	sc                sim.Scenario
	dir               string
	frontend, backend string

	mu     sync.Mutex
	p      *proc
	files  []string // the events file of each incarnation
	starts int
	deaths []string // how each incarnation that died by itself ended
}

// freeEndpoint returns tcp://127.0.0.1:PORT with a port free at the moment of asking.
func freeEndpoint() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("live: find a free port: %w", err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String(), nil
}

func newBrokerProc(exec, bin string, sc sim.Scenario, dir string) (*brokerProc, error) {
	b := &brokerProc{exec: exec, bin: bin, sc: sc, dir: dir}
	var err error
	if b.frontend, err = freeEndpoint(); err != nil {
		return nil, err
	}
	b.backend = b.frontend
	if exec == "" || strings.Contains(exec, "{backend}") {
		if b.backend, err = freeEndpoint(); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// events reports whether the broker writes its events (ebbroker, not --exec).
func (b *brokerProc) events() bool { return b.exec == "" }

// args are ebbroker's flags for the scenario.
func (b *brokerProc) args(events string) []string {
	bs := b.sc.Broker
	a := []string{"--frontend", b.frontend, "--backend", b.backend, "--log-level", "warn", "--linger", "0",
		"--events", events, "--on-worker-death", bs.OnWorkerDeath}
	if bs.Heartbeat > 0 {
		a = append(a, "--heartbeat", bs.Heartbeat.String())
	}
	if bs.Liveness > 0 {
		a = append(a, "--liveness", strconv.Itoa(bs.Liveness))
	}
	switch {
	case bs.QueueLimit < 0:
		a = append(a, "--queue-limit", "0")
	case bs.QueueLimit > 0:
		a = append(a, "--queue-limit", strconv.Itoa(bs.QueueLimit))
	}
	switch {
	case bs.QueueExpiry < 0:
		a = append(a, "--queue-expiry", "0")
	case bs.QueueExpiry > 0:
		a = append(a, "--queue-expiry", bs.QueueExpiry.String())
	}
	if bs.HoldLimit > 0 {
		a = append(a, "--hold-limit", bs.HoldLimit.String())
	}
	return a
}

// start starts a new incarnation and waits until it accepts connections.
func (b *brokerProc) start(ctx context.Context) error {
	b.mu.Lock()
	b.starts++
	n := b.starts
	b.mu.Unlock()
	var p *proc
	var err error
	if b.exec != "" {
		cmd := strings.NewReplacer("{frontend}", b.frontend, "{backend}", b.backend).Replace(b.exec)
		p, err = startProc("broker", "sh", []string{"-c", "exec " + cmd})
	} else {
		file := filepath.Join(b.dir, "events-"+strconv.Itoa(n)+".jsonl")
		b.mu.Lock()
		b.files = append(b.files, file)
		b.mu.Unlock()
		p, err = startProc("broker", b.bin, b.args(file))
	}
	if err != nil {
		return err
	}
	b.mu.Lock()
	b.p = p
	b.mu.Unlock()
	return b.waitUp(ctx, p)
}

// waitUp waits until both endpoints accept TCP connections.
func (b *brokerProc) waitUp(ctx context.Context, p *proc) error {
	end := time.Now().Add(startBound)
	for {
		up := true
		for _, ep := range []string{b.frontend, b.backend} {
			c, err := net.DialTimeout("tcp", strings.TrimPrefix(ep, "tcp://"), time.Second)
			if err != nil {
				up = false
				break
			}
			_ = c.Close()
		}
		if up {
			return nil
		}
		if !p.alive() {
			return fmt.Errorf("live: the broker exited before it listened: %s", p.died())
		}
		if time.Now().After(end) {
			return fmt.Errorf("live: the broker does not accept connections on %s after %v", b.frontend, startBound)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// kill ends the current incarnation with SIGKILL; an incarnation that had died by
// itself already is recorded as a death.
func (b *brokerProc) kill() {
	b.mu.Lock()
	p := b.p
	b.mu.Unlock()
	if p == nil {
		return
	}
	if d := p.died(); d != "" {
		b.mu.Lock()
		b.deaths = append(b.deaths, d)
		b.mu.Unlock()
	}
	p.kill()
}

// stop ends the current incarnation for good and returns every death by itself.
func (b *brokerProc) stop() []string {
	b.mu.Lock()
	p := b.p
	b.mu.Unlock()
	if p != nil {
		if d := p.died(); d != "" {
			b.mu.Lock()
			b.deaths = append(b.deaths, d)
			b.mu.Unlock()
		}
		p.end(2 * time.Second)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.deaths...)
}

// readEvents reads every incarnation's events file; a torn last line (the
// incarnation was killed) is ignored.
func (b *brokerProc) readEvents() ([][]brokerEvent, error) {
	b.mu.Lock()
	files := append([]string(nil), b.files...)
	b.mu.Unlock()
	var all [][]brokerEvent
	for _, f := range files {
		evs, err := readEventFile(f)
		if err != nil {
			return nil, err
		}
		all = append(all, evs)
	}
	return all, nil
}

func readEventFile(path string) ([]brokerEvent, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("live: events: %w", err)
	}
	defer f.Close()
	var evs []brokerEvent
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e brokerEvent
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			evs = append(evs, e)
		}
	}
	return evs, sc.Err()
}

// countJoined counts the worker-joined events of the current incarnation so far.
func (b *brokerProc) countJoined() int {
	b.mu.Lock()
	file := b.files[len(b.files)-1]
	b.mu.Unlock()
	evs, err := readEventFile(file)
	if err != nil {
		return 0
	}
	n := 0
	for _, e := range evs {
		if e.Event == core.WorkerJoined.String() {
			n++
		}
	}
	return n
}
