package core

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// workerMachine runs worker scripts (testdata/worker_*.txt). Its commands:
//
//	config service=echo heartbeat=1s liveness=3 reconnect=1s reconnect-max=32s credit=1
//	                              before any other command (optional; service defaults to echo)
//	start                         Worker.Start
//	receive <frame words...>      Worker.Receive (frame words: script_test.go)
//	reply <body words...>         Worker.Reply
//	reply-to N <body words...>    Worker.ReplyTo request N
//	stop                          Worker.Stop
//	sent <frame words...>         checks the frames of the last send
//	busy <true|false>             checks Worker.Busy
//	held N                        checks Worker.Held
//	advance                       Advance at every deadline up to now
type workerMachine struct {
	cfg  WorkerConfig
	w    *Worker
	last [][]byte // frames of the last SendOutput
}

func (m *workerMachine) worker() *Worker {
	if m.w == nil {
		if m.cfg.Service == "" {
			m.cfg.Service = "echo"
		}
		m.w = NewWorker(m.cfg)
	}
	return m.w
}

func (m *workerMachine) exec(now time.Time, words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	args := words[1:]
	switch words[0] {
	case "config":
		return nil, m.configure(args)
	case "start":
		m.worker().Start(now)
	case "stop":
		m.worker().Stop(now)
	case "receive":
		frames, err := parseFrames(args)
		if err != nil {
			return nil, err
		}
		m.worker().Receive(now, frames)
	case "reply":
		body, err := parseFrames(args)
		if err != nil {
			return nil, err
		}
		m.worker().Reply(now, body)
	case "reply-to":
		if len(args) < 1 {
			return nil, fmt.Errorf("usage: reply-to N BODY...")
		}
		n, err := strconv.ParseUint(args[0], 10, 64)
		if err != nil {
			return nil, err
		}
		body, err := parseFrames(args[1:])
		if err != nil {
			return nil, err
		}
		m.worker().ReplyTo(now, n, body)
	case "held":
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: held N")
		}
		if got := strconv.Itoa(m.worker().Held()); got != args[0] {
			return nil, fmt.Errorf("held = %s, want %s", got, args[0])
		}
		return nil, nil
	case "advance":
		w := m.worker()
		if err := advanceMachine(now, w.NextDeadline, w.Advance); err != nil {
			return nil, err
		}
	case "sent":
		return nil, checkSent(m.last, args)
	case "busy":
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: busy <true|false>")
		}
		if got := strconv.FormatBool(m.worker().Busy()); got != args[0] {
			return nil, fmt.Errorf("busy = %s, want %s", got, args[0])
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("unknown worker command %q", words[0])
	}
	outs := m.w.Drain()
	m.last = lastSend(outs, m.last)
	return outputLines(outs), nil
}

// configure applies a config command.
func (m *workerMachine) configure(args []string) error {
	if m.w != nil {
		return fmt.Errorf("config after the worker started")
	}
	kv, err := parseSettings(args, "service", "heartbeat", "liveness", "reconnect", "reconnect-max", "credit")
	if err != nil {
		return err
	}
	m.cfg.Service = kv["service"]
	durations := []struct {
		key string
		dst *time.Duration
	}{{"heartbeat", &m.cfg.HeartbeatInterval}, {"reconnect", &m.cfg.ReconnectInitial}, {"reconnect-max", &m.cfg.ReconnectMax}}
	for _, d := range durations {
		if v, ok := kv[d.key]; ok {
			if *d.dst, err = time.ParseDuration(v); err != nil {
				return err
			}
		}
	}
	if v, ok := kv["credit"]; ok {
		if m.cfg.Credit, err = strconv.Atoi(v); err != nil {
			return err
		}
	}
	if v, ok := kv["liveness"]; ok {
		if m.cfg.Liveness, err = strconv.Atoi(v); err != nil {
			return err
		}
	}
	return nil
}

func TestWorkerScripts(t *testing.T) {
	runScripts(t, "testdata/worker_*.txt", newWorkerMachine)
}
