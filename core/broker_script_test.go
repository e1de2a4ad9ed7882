package core

import (
	"encoding/binary"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"
)

// brokerMachine runs broker scripts (testdata/broker_*.txt). Commands:
//
//	config heartbeat=1s liveness=3 queue-limit=N queue-expiry=D on-death=requeue|fail hold-limit=D
//	       workers=SERVICE/KEY,... clients=KEY,...  (Access; "workers=" alone: none)
//	                                  (optional first line; the broker starts then)
//	worker W [key=K] ready SERVICE [CREDIT]          READY (CREDIT: the credit frame's text)
//	worker W [key=K] heartbeat|disconnect           a worker command from back:W
//	worker W [key=K] reply|request ADDR BODY...     REPLY (or REQUEST) with a client address;
//	                                                ADDR ID#N is ID and the 8-byte tag N
//	                                                (how a credit worker answers)
//	client C [key=K] [seq=N] request SERVICE BODY...
//	                                                a client request from front:C
//	                                                (seq=N: the ebwrk envelope; key=K:
//	                                                the connection's authenticated key)
//	raw SOCKET:ID FRAME...                          any frames; cmd:N is a one-byte frame,
//	                                                seq:N an envelope, seq:N/S one with status
//	unreachable SOCKET:ID                           the transport could not deliver to a peer
//	shutdown                                        Broker.Shutdown
//	show                                            the workers and services right now
//	next                                            NextDeadline, as a time of day
//	advance D                                       time passes (handled by the harness)
type brokerMachine struct {
	b *Broker
}

func newBrokerMachine() scriptMachine { return &brokerMachine{} }

func (m *brokerMachine) exec(now time.Time, words []string) ([]string, error) {
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	if words[0] == "config" {
		if m.b != nil {
			return nil, fmt.Errorf("config must come first")
		}
		cfg, err := parseBrokerConfig(words[1:])
		if err != nil {
			return nil, err
		}
		m.b = NewBroker(cfg, now)
		return nil, nil
	}
	if m.b == nil {
		m.b = NewBroker(BrokerConfig{}, now)
	}
	switch words[0] {
	case "advance":
		if err := advanceMachine(now, m.b.NextDeadline, m.b.Advance); err != nil {
			return nil, err
		}
	case "worker":
		key, rest := scriptKey(words[2:])
		if len(rest) < 1 {
			return nil, fmt.Errorf("usage: worker W [key=K] COMMAND ...")
		}
		frames, err := brokerWorkerFrames(rest[0], rest[1:])
		if err != nil {
			return nil, err
		}
		m.b.ReceiveKey(now, Peer{Backend, words[1]}, key, frames)
	case "client":
		if len(words) < 4 {
			return nil, fmt.Errorf("usage: client C [key=K] [seq=N] request SERVICE BODY...")
		}
		p := Peer{Frontend, words[1]}
		key, rest := scriptKey(words[2:])
		var frames [][]byte
		if s, ok := strings.CutPrefix(rest[0], "seq="); ok {
			env, err := parseFrame("seq:" + s)
			if err != nil {
				return nil, err
			}
			frames = append(frames, env)
			rest = rest[1:]
		}
		if len(rest) < 2 || rest[0] != "request" {
			return nil, fmt.Errorf("usage: client C [seq=N] request SERVICE BODY...")
		}
		frames = append(frames, []byte{}, []byte(ClientHeader), []byte(rest[1]))
		for _, w := range rest[2:] {
			frames = append(frames, []byte(w))
		}
		m.b.ReceiveKey(now, p, key, frames)
	case "raw", "unreachable":
		if len(words) < 2 {
			return nil, fmt.Errorf("usage: %s SOCKET:ID ...", words[0])
		}
		p, err := brokerParsePeer(words[1])
		if err != nil {
			return nil, err
		}
		if words[0] == "unreachable" {
			m.b.Unreachable(now, p)
			break
		}
		frames, err := parseFrames(words[2:])
		if err != nil {
			return nil, err
		}
		m.b.Receive(now, p, frames)
	case "shutdown":
		m.b.Shutdown(now)
	case "show":
		return m.show(), nil
	case "next":
		return []string{"next " + m.b.NextDeadline().Format("15:04:05.000")}, nil
	default:
		return nil, fmt.Errorf("unknown command %q", words[0])
	}
	return outputLines(m.b.Drain()), nil
}

func (m *brokerMachine) show() []string {
	var lines []string
	for _, w := range m.b.Workers() {
		state := "idle"
		if w.Busy {
			state = "busy"
		}
		line := fmt.Sprintf("worker %s %s %s expires %s", w.Peer, w.Service, state, w.Expiry.Format("15:04:05.000"))
		if w.Credit > 1 {
			line += fmt.Sprintf(" credit %d held %d", w.Credit, w.Held)
		}
		if !w.HeldUntil.IsZero() {
			line += " held-until " + w.HeldUntil.Format("15:04:05.000")
		}
		lines = append(lines, line)
	}
	for _, s := range m.b.Services() {
		lines = append(lines, fmt.Sprintf("service %s workers=%d idle=%d queued=%d", s.Name, s.Workers, s.Idle, s.Queued))
	}
	return lines
}

func parseBrokerConfig(words []string) (BrokerConfig, error) {
	var cfg BrokerConfig
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return cfg, fmt.Errorf("config: %q is not key=value", w)
		}
		var err error
		switch k {
		case "heartbeat":
			cfg.HeartbeatInterval, err = time.ParseDuration(v)
		case "liveness":
			cfg.Liveness, err = strconv.Atoi(v)
		case "queue-limit":
			cfg.QueueLimit, err = strconv.Atoi(v)
		case "queue-expiry":
			cfg.QueueExpiry, err = time.ParseDuration(v)
		case "hold-limit":
			cfg.HoldLimit, err = time.ParseDuration(v)
		case "on-death":
			switch v {
			case "requeue":
				cfg.OnWorkerDeath = Requeue
			case "fail":
				cfg.OnWorkerDeath = FailRequest
			default:
				err = fmt.Errorf("want requeue or fail")
			}
		case "workers":
			cfg.Access.Workers = []Grant{}
			for g := range strings.SplitSeq(v, ",") {
				svc, key, ok := strings.Cut(g, "/")
				if g == "" {
					continue
				}
				if !ok {
					err = fmt.Errorf("%q: want SERVICE/KEY", g)
				}
				cfg.Access.Workers = append(cfg.Access.Workers, Grant{Service: svc, Key: key})
			}
		case "clients":
			cfg.Access.Clients = []string{}
			for k := range strings.SplitSeq(v, ",") {
				if k != "" {
					cfg.Access.Clients = append(cfg.Access.Clients, k)
				}
			}
		default:
			err = fmt.Errorf("unknown key")
		}
		if err != nil {
			return cfg, fmt.Errorf("config %s: %v", k, err)
		}
	}
	return cfg, nil
}

// brokerWorkerFrames builds a worker command from a script's words.
func brokerWorkerFrames(cmd string, args []string) ([][]byte, error) {
	m := Message{Protocol: WorkerProtocol}
	switch cmd {
	case "ready":
		if len(args) != 1 && len(args) != 2 {
			return nil, fmt.Errorf("usage: worker W ready SERVICE [CREDIT]")
		}
		m.Command, m.Service = Ready, []byte(args[0])
		if len(args) == 2 {
			// The credit frame as written, so that scripts can send malformed ones.
			return append(m.Frames(), []byte(args[1])), nil
		}
	case "heartbeat":
		m.Command = Heartbeat
	case "disconnect":
		m.Command = Disconnect
	case "reply", "request":
		if len(args) < 1 {
			return nil, fmt.Errorf("usage: worker W %s ADDR BODY...", cmd)
		}
		m.Command, m.Address = Reply, []byte(args[0])
		if id, tag, ok := strings.Cut(args[0], "#"); ok {
			n, err := strconv.ParseUint(tag, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("address %q: %v", args[0], err)
			}
			m.Address = binary.BigEndian.AppendUint64([]byte(id), n)
		}
		if cmd == "request" {
			m.Command = Request
		}
		for _, a := range args[1:] {
			m.Body = append(m.Body, []byte(a))
		}
	default:
		return nil, fmt.Errorf("unknown worker command %q", cmd)
	}
	return m.Frames(), nil
}

// scriptKey takes an optional key=K word off the front of words.
func scriptKey(words []string) (string, []string) {
	if len(words) > 0 {
		if k, ok := strings.CutPrefix(words[0], "key="); ok {
			return k, words[1:]
		}
	}
	return "", words
}

func brokerParsePeer(s string) (Peer, error) {
	sock, id, ok := strings.Cut(s, ":")
	if !ok {
		return Peer{}, fmt.Errorf("peer %q: want front:ID or back:ID", s)
	}
	switch sock {
	case "front":
		return Peer{Frontend, id}, nil
	case "back":
		return Peer{Backend, id}, nil
	}
	return Peer{}, fmt.Errorf("peer %q: want front:ID or back:ID", s)
}

func TestBrokerScripts(t *testing.T) {
	runScripts(t, "testdata/broker_*.txt", newBrokerMachine)
}
