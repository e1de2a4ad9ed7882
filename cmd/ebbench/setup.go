package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

// startTimeout bounds how long a broker or raw echo may take to listen.
const startTimeout = 10 * time.Second

// endGrace is how long a process told to stop (SIGTERM) may take before SIGKILL.
const endGrace = 3 * time.Second

// stage is the processes a run stands on: the broker (ours or a running one), the
// raw echo and the workers.
type stage struct {
	f         *fleet
	self      string // ebbench's executable, for the hidden subcommands
	cfg       common
	brokerBin string
	frontend  string // endpoints as clients and workers connect to them
	backend   string
	broker    *child // nil when --frontend names a running broker
	restarts  int    // broker processes started after the first
	rawEP     string
}

// newStage finds the executables; it starts nothing.
func newStage(f *fleet, cfg common) (*stage, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("find ebbench's executable: %w", err)
	}
	s := &stage{f: f, self: self, cfg: cfg, frontend: cfg.frontend, backend: cfg.backend}
	if cfg.frontend == "" {
		if s.brokerBin, err = findBroker(cfg.brokerBin, self); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// startBroker starts our broker on two free 127.0.0.1 ports, or on the same ports
// again after a kill; it retries a bind that fails (the port still held, or taken
// meanwhile) a few times.
func (s *stage) startBroker() error {
	if s.frontend == "" {
		front, err := freeAddr()
		if err != nil {
			return err
		}
		back, err := freeAddr()
		if err != nil {
			return err
		}
		s.frontend, s.backend = "tcp://"+front, "tcp://"+back
	}
	name := "broker"
	if s.broker != nil {
		s.restarts++
		name = "broker#" + strconv.Itoa(s.restarts+1)
	}
	args := []string{"--frontend", s.frontend, "--backend", s.backend,
		"--heartbeat", s.cfg.heartbeat.String(), "--log-level", "warn", "--linger", "100ms"}
	var last error
	for end := time.Now().Add(startTimeout); time.Now().Before(end); {
		c, err := s.f.start(name, "broker", s.brokerBin, args, nil)
		if err != nil {
			return err
		}
		if err := waitListening(s.frontend[len("tcp://"):], c, time.Until(end)); err != nil {
			c.end(endGrace)
			last = err
			time.Sleep(100 * time.Millisecond)
			continue
		}
		s.broker = c
		s.f.log.Info("broker listening", "name", name, "pid", c.cmd.Process.Pid, "frontend", s.frontend, "backend", s.backend)
		return nil
	}
	return fmt.Errorf("start the broker: %w", last)
}

// startRawEcho starts the raw ROUTER echo process on a free port.
func (s *stage) startRawEcho() error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	c, err := s.f.start("rawecho", "rawecho", s.self, []string{"rawecho", "--bind", "tcp://" + addr}, nil)
	if err != nil {
		return err
	}
	if err := waitListening(addr, c, startTimeout); err != nil {
		return err
	}
	s.rawEP = "tcp://" + addr
	return nil
}

// startWorker starts one echo worker process.
func (s *stage) startWorker(name string, extra ...string) (*child, error) {
	args := append([]string{"worker", "--backend", s.backend, "--service", s.cfg.service,
		"--heartbeat", s.cfg.heartbeat.String()}, extra...)
	if s.cfg.plain {
		args = append(args, "--plain")
	}
	return s.f.start(name, "worker", s.self, args, nil)
}

// clientArgs are the arguments of a client process.
func (s *stage) clientArgs(id string, raw bool, service string, requests uint64, callers, warmup int) []string {
	ep := s.frontend
	if raw {
		ep = s.rawEP
	}
	args := []string{"client", "--id", id, "--frontend", ep, "--service", service,
		"--requests", strconv.FormatUint(requests, 10), "--callers", strconv.Itoa(callers),
		"--timeout", s.cfg.timeout.String(), "--attempts", strconv.Itoa(s.cfg.attempts),
		"--warmup", strconv.Itoa(warmup)}
	if raw {
		args = append(args, "--raw")
	}
	if s.cfg.standard {
		args = append(args, "--standard")
	}
	return args
}
