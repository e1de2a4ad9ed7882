package live

import (
	"bufio"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// tailLines is how many of its last output lines a process keeps for its report.
const tailLines = 8

// proc is one child process of a live run: a broker or a worker. It runs in a
// process group of its own (a ^C reaches the run, which ends it), dies with the run
// (Pdeathsig), and a worker stops at the end of its stdin.
type proc struct {
	name  string
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{} // closed when it has exited and its output is read

	mu     sync.Mutex
	ours   bool // we ended it: its exit is not a death
	tail   []string
	status string
}

// startProc starts path with args. Its stdout and stderr are kept as a tail.
func startProc(name, path string, args []string) (*proc, error) {
	cmd := exec.Command(path, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("live: %s: %w", name, err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("live: %s: %w", name, err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("live: start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.mu.Lock()
			p.tail = append(p.tail, sc.Text())
			if len(p.tail) > tailLines {
				p.tail = p.tail[1:]
			}
			p.mu.Unlock()
		}
		err := cmd.Wait()
		st := "exit status 0"
		if err != nil {
			st = err.Error()
		}
		p.mu.Lock()
		p.status = st
		p.mu.Unlock()
		close(p.done)
	}()
	return p, nil
}

// alive reports whether the process has not exited.
func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// died returns how the process ended when it ended by itself, else "".
func (p *proc) died() string {
	if p.alive() {
		return ""
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ours {
		return ""
	}
	s := p.status
	if len(p.tail) > 0 {
		s += ": " + strings.Join(p.tail, " | ")
	}
	return s
}

// signal sends sig to the process group. A process that has exited already
// (ESRCH) is not an error; kill(2) fails otherwise only for a bad signal or one we
// may not send, neither of which a run's own children give.
func (p *proc) signal(sig syscall.Signal) {
	if !p.alive() {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, sig)
}

// kill ends the process with SIGKILL and waits for it.
func (p *proc) kill() {
	p.mu.Lock()
	p.ours = true
	p.mu.Unlock()
	p.signal(syscall.SIGKILL)
	<-p.done
}

// end stops the process: SIGCONT in case it is stopped, the end of its stdin and
// SIGTERM, then SIGKILL when it has not exited within grace.
func (p *proc) end(grace time.Duration) {
	p.mu.Lock()
	p.ours = true
	p.mu.Unlock()
	p.signal(syscall.SIGCONT)
	_ = p.stdin.Close()
	p.signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.signal(syscall.SIGKILL)
		<-p.done
	}
}
