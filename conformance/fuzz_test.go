package conformance

import (
	"strconv"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// fuzzDict is what a frame byte with the high bit set stands for, so that the fuzzer
// reaches valid messages often: headers, commands, service names, envelopes and the
// identities of the fuzz peers (for REPLY address frames).
var fuzzDict = [][]byte{
	{}, []byte(core.ClientHeader), []byte(core.WorkerHeader),
	{byte(core.Ready)}, {byte(core.Request)}, {byte(core.Reply)}, {byte(core.Heartbeat)}, {byte(core.Disconnect)},
	[]byte("echo"), []byte("slow"), []byte("mmi.service"), []byte("mmi.echo"), []byte("mmi.x"),
	[]byte(Seq(1, core.StatusOK)), []byte(Seq(2, core.StatusOK)), []byte(Seq(1, core.StatusExpired)),
	[]byte("p0"), []byte("p1"), []byte("p2"), []byte("p3"), []byte("body"),
}

// fuzzInput reads the fuzzer's bytes as a sequence of broker inputs.
type fuzzInput struct {
	data []byte
}

func (f *fuzzInput) byte() (byte, bool) {
	if len(f.data) == 0 {
		return 0, false
	}
	b := f.data[0]
	f.data = f.data[1:]
	return b, true
}

// frames reads a message: a count, then per frame either a dictionary entry (high bit
// set) or a length (low 4 bits) followed by that many raw bytes.
func (f *fuzzInput) frames() [][]byte {
	n, _ := f.byte()
	n %= 9
	out := make([][]byte, 0, n)
	for range n {
		b, ok := f.byte()
		if !ok {
			break
		}
		if b&0x80 != 0 {
			out = append(out, fuzzDict[int(b&0x7f)%len(fuzzDict)])
			continue
		}
		l := min(int(b&0x0f), len(f.data))
		out = append(out, append([]byte(nil), f.data[:l]...))
		f.data = f.data[l:]
	}
	return out
}

// FuzzBroker feeds a core.Broker arbitrary messages from up to eight peers on both
// sockets, interleaved with time passing (every deadline honoured) and delivery
// failures. The broker must not panic; every check of the catalogue must hold after
// every step; and its memory must stay bounded by what the inputs justify: no more
// workers than peers that sent READY and were not removed, no more services than
// names the inputs mentioned, no more queued requests than requests accepted.
func FuzzBroker(f *testing.F) {
	for _, seed := range [][]byte{
		// p0 READY echo; p4 (front) request echo "body"; p0 REPLY to p4; advance.
		{0, 0x08 | 0, 4, 0x80, 0x82, 0x83, 0x88, 0, 4, 4, 0x80, 0x81, 0x88, 0x94, 2, 50},
		{0, 0, 4, 0x80, 0x82, 0x83, 0x88, 0, 4, 4, 0x80, 0x81, 0x88, 0x94, 2, 5, 0, 0, 6, 0x80, 0x82, 0x85, 2, 'p', '4', 0x80, 0x94},
		{0, 0, 3, 0x80, 0x82, 0x86, 0, 0, 4, 0x80, 0x82, 0x83, 0x8b},
		{0, 1, 4, 0x8d, 0x80, 0x81, 0x88, 2, 255, 2, 255},
		{0, 2, 4, 0x80, 0x81, 0x8a, 0x88, 0, 2, 3, 0x80, 0x81, 0x8c},
		{0, 0, 4, 0x80, 0x82, 0x83, 0x88, 0, 0, 4, 0x80, 0x82, 0x83, 0x88, 3, 0},
		// Hold limit on (config byte 2): back p0 READY echo; front p4 requests echo;
		// p0 heartbeats every 100 ms but never replies, and is removed at 250 ms.
		{2, 0, 8, 4, 0x80, 0x82, 0x83, 0x88, 0, 4, 4, 0x80, 0x81, 0x88, 0x94,
			2, 10, 0, 8, 3, 0x80, 0x82, 0x86, 2, 10, 0, 8, 3, 0x80, 0x82, 0x86, 2, 10, 0, 8, 3, 0x80, 0x82, 0x86, 2, 10},
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzInput{data: data}
		cfgByte, _ := in.byte()
		cfg := core.BrokerConfig{
			HeartbeatInterval: 100 * time.Millisecond,
			Liveness:          2,
			QueueLimit:        3,
			QueueExpiry:       500 * time.Millisecond,
			OnWorkerDeath:     core.DeathPolicy(cfgByte & 1),
		}
		if cfgByte&2 != 0 {
			cfg.HoldLimit = 250 * time.Millisecond
		}
		now := Epoch
		b := core.NewBroker(cfg, now)
		k := NewChecker(cfg, now)
		readied := map[core.Peer]bool{}
		names := map[string]bool{}
		var accepted int
		step := func(input Input, run func()) {
			defer func() {
				if p := recover(); p != nil {
					t.Fatalf("CHECK %s: the broker panicked on %s: %v", G7Malformed, inputString(input), p)
				}
			}()
			run()
			k.BrokerStep(now, input, b.Drain(), b.Workers(), b.Services())
			if k.Failed() {
				t.Fatalf("%s", k.Report())
			}
			ws, ss := b.Workers(), b.Services()
			queued := 0
			for _, s := range ss {
				queued += s.Queued
				if !names[s.Name] {
					t.Fatalf("CHECK %s: service %q exists, but no input named it", L2Services, s.Name)
				}
			}
			for _, w := range ws {
				if !readied[w.Peer] {
					t.Fatalf("CHECK %s: worker %v registered without a READY", L1Ledger, w.Peer)
				}
			}
			if queued > accepted {
				t.Fatalf("CHECK %s: %d requests queued, %d accepted", L1Ledger, queued, accepted)
			}
		}
		for {
			op, ok := in.byte()
			if !ok {
				break
			}
			switch op % 4 {
			case 0, 1:
				pb, _ := in.byte()
				p := core.Peer{Socket: core.Socket(pb >> 3 & 1), ID: "p" + strconv.Itoa(int(pb&7))}
				frames := in.frames()
				if m, err := core.Parse(frames); err == nil {
					names[string(m.Service)] = true
					if m.Protocol == core.WorkerProtocol && m.Command == core.Ready {
						readied[p] = true
					}
					if m.Protocol == core.ClientProtocol {
						accepted++
					}
				}
				step(Input{Kind: InputMessage, Peer: p, Frames: frames}, func() { b.Receive(now, p, frames) })
			case 2:
				d, _ := in.byte()
				end := now.Add(time.Duration(d) * 10 * time.Millisecond)
				for dl := b.NextDeadline(); !dl.After(end); dl = b.NextDeadline() {
					now = dl
					step(Input{Kind: InputAdvance}, func() { b.Advance(now) })
				}
				now = end
				k.Tick(now)
			case 3:
				pb, _ := in.byte()
				p := core.Peer{Socket: core.Socket(pb >> 3 & 1), ID: "p" + strconv.Itoa(int(pb&7))}
				step(Input{Kind: InputUnreachable, Peer: p}, func() { b.Unreachable(now, p) })
			}
		}
		if k.Failed() {
			t.Fatalf("%s", k.Report())
		}
	})
}
