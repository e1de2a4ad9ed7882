package wirekit

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNeverUp is returned when the broker does not accept connections in time.
var ErrNeverUp = errors.New("wirekit: the broker never came up")

// Target is the broker under test: one that runs already at fixed endpoints, or
// one the kit starts with a shell command and restarts whenever it dies.
type Target struct {
	// Frontend and Backend are the endpoints the kit connects to; they are equal
	// when one endpoint serves both sub-protocols.
	Frontend, Backend string
	command           string // as given, with {frontend} and {backend}
	log               io.Writer
	mu                sync.Mutex
	cmd               *exec.Cmd
	exited            chan struct{} // closed when the current process ends
	status            error         // how it ended
	Starts            int           // how many times the command was started
}

// StartBound is how long a started broker has to accept connections (a command
// such as "go run" may compile first).
const StartBound = 60 * time.Second

// Fixed is a broker already running at frontend (and backend; empty: the frontend
// serves both).
func Fixed(frontend, backend string) *Target {
	if backend == "" {
		backend = frontend
	}
	return &Target{Frontend: frontend, Backend: backend}
}

// Exec starts command through sh -c with {frontend} and {backend} replaced by free
// endpoints on 127.0.0.1 (no {backend}: one endpoint serves both) and waits until it
// accepts connections. The broker's output goes to log.
func Exec(ctx context.Context, command string, log io.Writer) (*Target, error) {
	if !strings.Contains(command, "{frontend}") {
		return nil, errors.New("wirekit: the command has no {frontend} placeholder")
	}
	if log == nil {
		log = io.Discard
	}
	t := &Target{command: command, log: log}
	var err error
	if t.Frontend, err = freeEndpoint(); err != nil {
		return nil, err
	}
	t.Backend = t.Frontend
	if strings.Contains(command, "{backend}") {
		if t.Backend, err = freeEndpoint(); err != nil {
			return nil, err
		}
	}
	return t, t.start(ctx)
}

// freeEndpoint returns a TCP endpoint on 127.0.0.1 at a port the system just
// handed out and took back.
func freeEndpoint() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("wirekit: find a free port: %w", err)
	}
	defer l.Close()
	return "tcp://" + l.Addr().String(), nil
}

// Managed reports whether the kit starts (and restarts) the broker.
func (t *Target) Managed() bool { return t.command != "" }

// Command returns the command as run, placeholders replaced.
func (t *Target) Command() string {
	r := strings.NewReplacer("{frontend}", t.Frontend, "{backend}", t.Backend)
	return r.Replace(t.command)
}

// start runs the command and waits until the broker accepts connections.
func (t *Target) start(ctx context.Context) error {
	cmd := exec.Command("sh", "-c", "exec "+t.Command())
	cmd.Stdout, cmd.Stderr = t.log, t.log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("wirekit: start %q: %w", t.Command(), err)
	}
	exited := make(chan struct{})
	t.mu.Lock()
	t.cmd, t.exited, t.status = cmd, exited, nil
	t.Starts++
	t.mu.Unlock()
	go func() {
		err := cmd.Wait()
		if err == nil {
			err = errors.New("exit status 0")
		}
		t.mu.Lock()
		t.status = err
		t.mu.Unlock()
		close(exited)
	}()
	return t.WaitUp(ctx, StartBound)
}

// WaitUp waits at most d until every endpoint accepts TCP connections (endpoints
// of other transports are taken as up).
func (t *Target) WaitUp(ctx context.Context, d time.Duration) error {
	end := time.Now().Add(d)
	for {
		if t.Up() {
			return nil
		}
		if died, why := t.Died(); died {
			return fmt.Errorf("%w: %s", ErrNeverUp, why)
		}
		if time.Now().After(end) {
			return fmt.Errorf("%w: %s does not accept connections after %v", ErrNeverUp, t.Frontend, d)
		}
		timer := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			timer.Stop()
			return ctx.Err()
		case <-timer.C:
		}
	}
}

// Up reports whether every endpoint accepts a TCP connection now.
func (t *Target) Up() bool {
	for _, ep := range []string{t.Frontend, t.Backend} {
		u, err := url.Parse(ep)
		if err != nil || u.Scheme != "tcp" {
			continue
		}
		host := u.Host
		if strings.HasPrefix(host, "*:") {
			host = "127.0.0.1" + host[1:]
		}
		c, err := net.DialTimeout("tcp", host, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
	}
	return true
}

// Exited returns a channel closed when the broker process ends; nil (never ready)
// for a broker the kit did not start.
func (t *Target) Exited() <-chan struct{} {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.exited
}

// Died reports whether the broker process has ended, and how.
func (t *Target) Died() (bool, string) {
	ch := t.Exited()
	if ch == nil {
		return false, ""
	}
	select {
	case <-ch:
		t.mu.Lock()
		defer t.mu.Unlock()
		return true, t.status.Error()
	default:
		return false, ""
	}
}

// Restart kills the broker if it still runs and starts it again at the same
// endpoints; a broker the kit did not start can only be waited for.
func (t *Target) Restart(ctx context.Context) error {
	if !t.Managed() {
		return t.WaitUp(ctx, 5*time.Second)
	}
	t.Kill()
	return t.start(ctx)
}

// Kill ends the broker process (and its process group) with SIGKILL and waits for
// it; it does nothing for a broker the kit did not start.
func (t *Target) Kill() {
	t.mu.Lock()
	cmd, exited := t.cmd, t.exited
	t.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	<-exited
}

// KillIf kills the broker only if it is still the process whose Exited channel is
// exited: a late verdict on a process already replaced must not kill its successor.
func (t *Target) KillIf(exited <-chan struct{}) {
	t.mu.Lock()
	same := exited != nil && (<-chan struct{})(t.exited) == exited
	t.mu.Unlock()
	if same {
		t.Kill()
	}
}

// Stop ends the broker with SIGTERM, then SIGKILL after two seconds.
func (t *Target) Stop() {
	t.mu.Lock()
	cmd, exited := t.cmd, t.exited
	t.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(2 * time.Second):
		t.Kill()
	}
}
