package core

import (
	"fmt"
	"strconv"
	"testing"
	"time"
)

// clientMachine runs client scripts (testdata/client_*.txt). Its commands:
//
//	config timeout=1s attempts=3 standard=false   before any other command (optional)
//	request <service> <body words...>            Client.Request
//	receive <frame words...>                     Client.Receive (frame words: script_test.go)
//	sent <frame words...>                        checks the frames of the last send
//	outstanding <n>                              checks Client.Outstanding
//	advance                                      Advance at every deadline up to now
type clientMachine struct {
	cfg  ClientConfig
	c    *Client
	last [][]byte // frames of the last SendOutput
}

func (m *clientMachine) client() *Client {
	if m.c == nil {
		m.c = NewClient(m.cfg)
	}
	return m.c
}

func (m *clientMachine) exec(now time.Time, words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	args := words[1:]
	switch words[0] {
	case "config":
		if m.c != nil {
			return nil, fmt.Errorf("config after the client started")
		}
		kv, err := parseSettings(args, "timeout", "attempts", "standard")
		if err != nil {
			return nil, err
		}
		if v, ok := kv["timeout"]; ok {
			if m.cfg.Timeout, err = time.ParseDuration(v); err != nil {
				return nil, err
			}
		}
		if v, ok := kv["attempts"]; ok {
			if m.cfg.Attempts, err = strconv.Atoi(v); err != nil {
				return nil, err
			}
		}
		if v, ok := kv["standard"]; ok {
			if m.cfg.Standard, err = strconv.ParseBool(v); err != nil {
				return nil, err
			}
		}
		return nil, nil
	case "request":
		if len(args) < 1 {
			return nil, fmt.Errorf("usage: request <service> <body...>")
		}
		body, err := parseFrames(args[1:])
		if err != nil {
			return nil, err
		}
		m.client().Request(now, args[0], body)
	case "receive":
		frames, err := parseFrames(args)
		if err != nil {
			return nil, err
		}
		m.client().Receive(now, frames)
	case "advance":
		c := m.client()
		if err := advanceMachine(now, c.NextDeadline, c.Advance); err != nil {
			return nil, err
		}
	case "sent":
		return nil, checkSent(m.last, args)
	case "outstanding":
		if len(args) != 1 {
			return nil, fmt.Errorf("usage: outstanding <n>")
		}
		if got := strconv.Itoa(m.client().Outstanding()); got != args[0] {
			return nil, fmt.Errorf("outstanding = %s, want %s", got, args[0])
		}
		return nil, nil
	default:
		return nil, fmt.Errorf("unknown client command %q", words[0])
	}
	outs := m.c.Drain()
	m.last = lastSend(outs, m.last)
	return outputLines(outs), nil
}

func TestClientScripts(t *testing.T) {
	runScripts(t, "testdata/client_*.txt", newClientMachine)
}
