package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/ebwrk/ebwrk/internal/findbin"
)

// tailLines is how many of its last stderr lines a child's death report shows.
const tailLines = 8

// eintrText is what an EINTR from libzmq looks like in a log line.
const eintrText = "interrupted system call"

// child is one process that ebbench started.
type child struct {
	name  string // "broker", "worker 3", "client 2", ...
	role  string // broker, worker, client, rawecho
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when it has exited and its output is read
	f     *fleet

	mu      sync.Mutex
	ours    bool     // we ended it with a signal: its exit is not a death, whatever its status
	clean   bool     // it finished its work: its exit is not a death if its status is 0
	stopped bool     // SIGSTOPped by us
	tail    []string // its last stderr lines
	status  string   // how it exited; set before done closes
}

// death is a process of ours that exited without being told to.
type death struct {
	Name   string   `json:"name"`
	PID    int      `json:"pid"`
	Status string   `json:"status"`
	Tail   []string `json:"stderr_tail"`
}

func (d death) String() string {
	s := fmt.Sprintf("%s (pid %d) exited by itself: %s", d.Name, d.PID, d.Status)
	for _, l := range d.Tail {
		s += "\n    " + l
	}
	return s
}

// fleet is every process ebbench started, and what became of them.
type fleet struct {
	log *slog.Logger

	mu     sync.Mutex
	all    []*child
	deaths []death
	eintr  map[string]uint64 // stderr lines naming EINTR, by role
}

func newFleet(log *slog.Logger) *fleet {
	return &fleet{log: log, eintr: map[string]uint64{}}
}

// start runs path with args as a child named name. Each stdout line goes to onLine
// (nil: discarded), all of them before the child's exit is judged; stderr is kept as a tail and scanned for EINTR. The child is in a
// process group of its own, so a ^C at the terminal reaches ebbench alone, which then
// ends it; it is killed if ebbench dies (Pdeathsig), and ebbench's own children also
// stop at the end of their stdin.
func (f *fleet) start(name, role, path string, args []string, onLine func(*child, []byte)) (*child, error) {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	c := &child{name: name, role: role, cmd: cmd, stdin: stdin, done: make(chan struct{}), f: f}
	f.mu.Lock()
	f.all = append(f.all, c)
	f.mu.Unlock()
	var wg sync.WaitGroup
	wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 64<<10), 16<<20)
		for sc.Scan() {
			if onLine != nil {
				onLine(c, sc.Bytes())
			}
		}
		// A child that wrote too long a line gets its stdout drained all the same.
		if _, err := io.Copy(io.Discard, stdout); err != nil {
			f.log.Debug("stdout", "child", name, "err", err)
		}
	})
	wg.Go(func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			c.stderrLine(sc.Text())
		}
	})
	go func() {
		wg.Wait()
		err := cmd.Wait()
		c.exited(err)
	}()
	return c, nil
}

func (c *child) stderrLine(l string) {
	if strings.Contains(l, eintrText) {
		c.f.mu.Lock()
		c.f.eintr[c.role]++
		c.f.mu.Unlock()
	}
	c.mu.Lock()
	c.tail = append(c.tail, l)
	if len(c.tail) > tailLines {
		c.tail = c.tail[1:]
	}
	c.mu.Unlock()
}

func (c *child) exited(err error) {
	status := "exit status 0"
	if err != nil {
		status = err.Error()
	}
	c.mu.Lock()
	c.status = status
	died := !c.ours && !(c.clean && err == nil)
	tail := append([]string(nil), c.tail...)
	c.mu.Unlock()
	if died {
		d := death{Name: c.name, PID: c.cmd.Process.Pid, Status: status, Tail: tail}
		c.f.mu.Lock()
		c.f.deaths = append(c.f.deaths, d)
		c.f.mu.Unlock()
		c.f.log.Error("process died by itself", "name", c.name, "pid", d.PID, "status", status,
			"stderr", strings.Join(tail, " | "))
	}
	close(c.done)
}

// expect marks the child's coming exit as ours: not a death.
func (c *child) expect() {
	c.mu.Lock()
	c.ours = true
	c.mu.Unlock()
}

// finished says the child has done its work: it is to exit with status 0 (any other
// status, e.g. the race detector's 66, is a death).
func (c *child) finished() {
	c.mu.Lock()
	c.clean = true
	c.mu.Unlock()
}

// isOurs reports whether its exit was (or will be) ours.
func (c *child) isOurs() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ours
}

// alive reports whether the child has not exited yet.
func (c *child) alive() bool {
	select {
	case <-c.done:
		return false
	default:
		return true
	}
}

// signal sends sig; SIGKILL and SIGTERM mark the exit as ours first, SIGSTOP and
// SIGCONT are remembered so that the end of the run can wake the child.
func (c *child) signal(sig syscall.Signal) {
	c.mu.Lock()
	switch sig {
	case syscall.SIGKILL, syscall.SIGTERM, syscall.SIGINT:
		c.ours = true
	case syscall.SIGSTOP:
		c.stopped = true
	case syscall.SIGCONT:
		c.stopped = false
	}
	c.mu.Unlock()
	if !c.alive() {
		return
	}
	if err := c.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		c.f.log.Warn("signal", "child", c.name, "signal", sig, "err", err)
	}
}

// send writes one control word to the child's stdin.
func (c *child) send(word string) {
	if _, err := io.WriteString(c.stdin, word+"\n"); err != nil {
		c.f.log.Debug("control", "child", c.name, "word", word, "err", err)
	}
}

// end stops the child for good: SIGCONT if stopped, SIGTERM, and SIGKILL when it has
// not exited within grace. It returns when it has exited.
func (c *child) end(grace time.Duration) {
	c.expect()
	if !c.alive() {
		return
	}
	c.signal(syscall.SIGCONT)
	c.signal(syscall.SIGTERM)
	select {
	case <-c.done:
	case <-time.After(grace):
		c.signal(syscall.SIGKILL)
		<-c.done
	}
}

// endAll ends every child still running, all at once.
func (f *fleet) endAll(grace time.Duration) {
	f.mu.Lock()
	all := append([]*child(nil), f.all...)
	f.mu.Unlock()
	var wg sync.WaitGroup
	for _, c := range all {
		wg.Go(func() { c.end(grace) })
	}
	wg.Wait()
}

// died returns the deaths so far.
func (f *fleet) died() []death {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]death(nil), f.deaths...)
}

// eintrLines returns the count of stderr lines naming EINTR, by role.
func (f *fleet) eintrLines() map[string]uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := map[string]uint64{}
	for k, v := range f.eintr {
		m[k] = v
	}
	return m
}

// freeAddr returns a 127.0.0.1 address with a port free at the moment of asking.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	addr := l.Addr().String()
	return addr, l.Close()
}

// waitListening waits until addr accepts TCP connections, c exits, or timeout.
func waitListening(addr string, c *child, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			return conn.Close()
		}
		if !c.alive() {
			return fmt.Errorf("%s exited (%s) before it listened on %s: %s", c.name, c.status, addr,
				strings.Join(c.tail, " | "))
		}
		if time.Now().After(end) {
			return fmt.Errorf("%s: nothing listens on %s after %v", c.name, addr, timeout)
		}
		select {
		case <-c.done:
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// findBroker returns the ebbroker to start (findbin.Broker): --broker-bin, else one
// next to self, else one on PATH.
func findBroker(flagValue, self string) (string, error) {
	return findbin.Broker(flagValue, self, errors.New("no ebbroker next to ebbench nor on PATH: build both "+
		"(go build -o bin/ ./cmd/ebbroker ./cmd/ebbench), or pass --broker-bin, "+
		"or --frontend/--backend to use a running broker"))
}
