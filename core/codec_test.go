package core

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func frames(words ...string) [][]byte {
	f := make([][]byte, len(words))
	for i, w := range words {
		f[i] = []byte(w)
	}
	return f
}

func seqFrame(seq uint64, st Status) string { return string(envelope(seq, st)) }

func TestParseValid(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
		want   Message
	}{
		{"client request", frames("", "MDPC01", "echo", "a", "b"),
			Message{Protocol: ClientProtocol, Service: []byte("echo"), Body: frames("a", "b")}},
		{"client request without body", frames("", "MDPC01", "mmi.echo"),
			Message{Protocol: ClientProtocol, Service: []byte("mmi.echo"), Body: [][]byte{}}},
		{"ebwrk request", frames(seqFrame(7, StatusOK), "", "MDPC01", "echo", "x"),
			Message{Protocol: ClientProtocol, Envelope: true, Seq: 7, Service: []byte("echo"), Body: frames("x")}},
		{"ebwrk failure", frames(seqFrame(9, StatusQueueFull), "", "MDPC01", "echo"),
			Message{Protocol: ClientProtocol, Envelope: true, Seq: 9, Status: StatusQueueFull, Service: []byte("echo"), Body: [][]byte{}}},
		{"ready", frames("", "MDPW01", "\x01", "echo"),
			Message{Protocol: WorkerProtocol, Command: Ready, Service: []byte("echo")}},
		{"ready with credit", frames("", "MDPW01", "\x01", "echo", "16"),
			Message{Protocol: WorkerProtocol, Command: Ready, Service: []byte("echo"), Credit: 16}},
		{"ready with credit 1", frames("", "MDPW01", "\x01", "echo", "1"),
			Message{Protocol: WorkerProtocol, Command: Ready, Service: []byte("echo"), Credit: 1}},
		{"ready with max credit", frames("", "MDPW01", "\x01", "echo", "65535"),
			Message{Protocol: WorkerProtocol, Command: Ready, Service: []byte("echo"), Credit: 65535}},
		{"request", frames("", "MDPW01", "\x02", "c1", "", "x"),
			Message{Protocol: WorkerProtocol, Command: Request, Address: []byte("c1"), Body: frames("x")}},
		{"reply with empty body", frames("", "MDPW01", "\x03", "c1", ""),
			Message{Protocol: WorkerProtocol, Command: Reply, Address: []byte("c1"), Body: [][]byte{}}},
		{"heartbeat", frames("", "MDPW01", "\x04"), Message{Protocol: WorkerProtocol, Command: Heartbeat}},
		{"disconnect", frames("", "MDPW01", "\x05"), Message{Protocol: WorkerProtocol, Command: Disconnect}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.frames)
			if err != nil {
				t.Fatalf("Parse() error = %v", err)
			}
			if d := cmp.Diff(tt.want, got); d != "" {
				t.Errorf("Parse() mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.frames, got.Frames()); d != "" {
				t.Errorf("Frames() does not rebuild the input (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseInvalid(t *testing.T) {
	tests := []struct {
		name   string
		frames [][]byte
		want   ParseError
	}{
		{"nothing", nil, ParseError{TooFewFrames, 0, -1}},
		{"one frame", frames(""), ParseError{TooFewFrames, 1, -1}},
		{"wrong header", frames("", "MDPX01", "echo"), ParseError{WrongHeader, 3, 1}},
		{"client without service", frames("", "MDPC01"), ParseError{TooFewFrames, 2, -1}},
		{"envelope without delimiter", frames(seqFrame(1, StatusOK), "MDPC01", "echo", "x"), ParseError{MissingDelimiter, 4, 1}},
		{"short envelope", frames("abc", "", "MDPC01", "echo"), ParseError{BadEnvelope, 4, 0}},
		{"envelope with status zero", frames(seqFrame(1, StatusOK)+"\x00", "", "MDPC01", "echo"), ParseError{BadEnvelope, 4, 0}},
		{"envelope before worker header", frames(seqFrame(1, StatusOK), "", "MDPW01", "\x04"), ParseError{WrongHeader, 4, 2}},
		{"envelope too short", frames(seqFrame(1, StatusOK), "", "MDPC01"), ParseError{TooFewFrames, 3, -1}},
		{"no command", frames("", "MDPW01"), ParseError{TooFewFrames, 2, -1}},
		{"empty command", frames("", "MDPW01", ""), ParseError{BadCommandFrame, 3, 2}},
		{"long command", frames("", "MDPW01", "\x01\x01", "echo"), ParseError{BadCommandFrame, 4, 2}},
		{"unknown command", frames("", "MDPW01", "\x09"), ParseError{UnknownCommand, 3, 2}},
		{"ready without service", frames("", "MDPW01", "\x01"), ParseError{TooFewFrames, 3, -1}},
		{"ready with two extra", frames("", "MDPW01", "\x01", "echo", "2", "x"), ParseError{TooManyFrames, 6, 5}},
		{"ready with a word for credit", frames("", "MDPW01", "\x01", "echo", "x"), ParseError{BadCredit, 5, 4}},
		{"ready with empty credit", frames("", "MDPW01", "\x01", "echo", ""), ParseError{BadCredit, 5, 4}},
		{"ready with zero credit", frames("", "MDPW01", "\x01", "echo", "0"), ParseError{BadCredit, 5, 4}},
		{"ready with leading zero", frames("", "MDPW01", "\x01", "echo", "07"), ParseError{BadCredit, 5, 4}},
		{"ready with signed credit", frames("", "MDPW01", "\x01", "echo", "+7"), ParseError{BadCredit, 5, 4}},
		{"ready with credit past max", frames("", "MDPW01", "\x01", "echo", "65536"), ParseError{BadCredit, 5, 4}},
		{"reply too short", frames("", "MDPW01", "\x03", "c1"), ParseError{TooFewFrames, 4, -1}},
		{"reply without delimiter", frames("", "MDPW01", "\x03", "c1", "body"), ParseError{MissingDelimiter, 5, 4}},
		{"reply with two addresses", frames("", "MDPW01", "\x03", "c1", "c2", "", "body"), ParseError{MultipleAddresses, 7, 4}},
		{"heartbeat with extra", frames("", "MDPW01", "\x04", "x"), ParseError{TooManyFrames, 4, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse(tt.frames)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse() error = %v, want a *ParseError", err)
			}
			if d := cmp.Diff(tt.want, *pe); d != "" {
				t.Errorf("Parse() error mismatch (-want +got):\n%s", d)
			}
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("errors.Is(%v, ErrMalformed) = false", err)
			}
			if err.Error() == "" {
				t.Errorf("empty error text")
			}
		})
	}
}

func TestStringsAreStable(t *testing.T) {
	tests := []struct {
		got, want string
	}{
		{Command(9).String(), "COMMAND(0x09)"},
		{Status(9).String(), "status(9)"},
		{Socket(7).String(), "socket7"},
		{Peer{Backend, "\x00\x01"}.String(), "back:0x0001"},
		{Peer{Frontend, ""}.String(), `front:""`},
		{Protocol(0).String(), "protocol?"},
		{ParseProblem(0).String(), "problem(0)"},
		{EventKind(200).String(), "event(200)"},
		{Reason(200).String(), "reason(200)"},
		{(&ParseError{UnknownCommand, 3, 2}).Error(), "core: malformed message: unknown command at frame 2 of 3"},
		{(&ParseError{TooFewFrames, 1, -1}).Error(), "core: malformed message: too few frames (1 frames)"},
		{Output{Kind: ConnectOutput}.String(), "connect"},
		{Output{}.String(), "output?"},
		{Requeue.String() + "/" + FailRequest.String(), "requeue/fail"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
	for s := StatusOK; s <= StatusShutdown; s++ {
		if r := statusReason(s); s != StatusOK && reasonStatus(r) != s {
			t.Errorf("status %v → reason %v → status %v", s, r, reasonStatus(r))
		}
	}
}
