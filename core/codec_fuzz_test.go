package core

import (
	"bytes"
	"testing"
)

// joinFrames encodes frames as one byte string (a length byte, then the bytes, each),
// so the fuzzer can mutate whole messages.
func joinFrames(fs [][]byte) []byte {
	var b []byte
	for _, f := range fs {
		b = append(b, byte(len(f)))
		b = append(b, f...)
	}
	return b
}

// splitFrames is the inverse of joinFrames; a truncated last frame is cut short.
func splitFrames(data []byte) [][]byte {
	fs := [][]byte{}
	for len(data) > 0 {
		n := int(data[0])
		data = data[1:]
		n = min(n, len(data))
		fs = append(fs, data[:n])
		data = data[n:]
	}
	return fs
}

// FuzzParse checks that Parse never panics, that every error it returns is a
// *ParseError, and that Frames rebuilds every message Parse accepts byte for byte.
func FuzzParse(f *testing.F) {
	for _, seed := range [][][]byte{
		frames("", "MDPC01", "echo", "hello"),
		frames(seqFrame(7, StatusOK), "", "MDPC01", "echo", "x"),
		frames(seqFrame(7, StatusExpired), "", "MDPC01", "echo"),
		frames("", "MDPW01", "\x01", "echo"),
		frames("", "MDPW01", "\x02", "c1", "", "x"),
		frames("", "MDPW01", "\x03", "c1", "", "x", "y"),
		frames("", "MDPW01", "\x04"),
		frames("", "MDPW01", "\x05"),
		frames("", "MDPW01", "\x03", "c1", "c2", "", "x"),
	} {
		f.Add(joinFrames(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := splitFrames(data)
		m, err := Parse(in)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse() error %T %v, want *ParseError", err, err)
			}
			return
		}
		out := m.Frames()
		if len(out) != len(in) {
			t.Fatalf("Frames() gave %d frames, want %d: %q vs %q", len(out), len(in), out, in)
		}
		for i := range in {
			if !bytes.Equal(in[i], out[i]) {
				t.Fatalf("frame %d: got %q, want %q", i, out[i], in[i])
			}
		}
	})
}
