package sim

import (
	"bufio"
	"io"
	"strconv"
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// tracer writes the trace, one line per record, and keeps the fingerprint: a hash
// over a compact binary encoding of the same records (the fields each line shows),
// so that fingerprinting costs no formatting when no trace file is asked for.
type tracer struct {
	h     uint64
	lines uint64
	w     *bufio.Writer // nil: fingerprint only
	names []string      // node names by index
	buf   []byte
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func newTracer(w io.Writer) tracer {
	t := tracer{h: fnvOffset}
	if w != nil {
		t.w = bufio.NewWriterSize(w, 64<<10)
	}
	return t
}

// word mixes one 64-bit word into the fingerprint.
func (t *tracer) word(v uint64) {
	t.h = (t.h ^ v) * fnvPrime
	t.h ^= t.h >> 29
}

// str mixes a short string into the fingerprint, 8 bytes per step.
func (t *tracer) str(s string) {
	t.word(uint64(len(s)))
	for len(s) >= 8 {
		t.word(uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
			uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56)
		s = s[8:]
	}
	var v uint64
	for i := 0; i < len(s); i++ {
		v |= uint64(s[i]) << (8 * i)
	}
	t.word(v)
}

// output records one output of node's state machine at virtual time at.
func (t *tracer) output(at time.Duration, node int, o *core.Output) {
	t.lines++
	t.word(uint64(at))
	t.word(uint64(node)<<40 | uint64(o.Kind)<<32 | uint64(o.Command)<<24 | uint64(o.Event)<<16 |
		uint64(o.Reason)<<8 | uint64(o.Protocol))
	t.word(o.Seq)
	t.word(uint64(o.Attempts))
	t.str(o.To.ID)
	t.str(o.Peer.ID)
	t.str(o.Service)
	if t.w != nil {
		t.begin(at, node)
		t.buf = append(t.buf, o.String()...)
		t.end()
	}
}

// note records a driver action (a fault, the application's reply) described by
// text; kind, a and b are its compact form for the fingerprint.
func (t *tracer) note(at time.Duration, node int, kind, a, b uint64, text func() string) {
	t.lines++
	t.word(uint64(at))
	t.word(uint64(node)<<40 | 0xff<<32 | kind)
	t.word(a)
	t.word(b)
	if t.w != nil {
		t.begin(at, node)
		t.buf = append(t.buf, text()...)
		t.end()
	}
}

func (t *tracer) begin(at time.Duration, node int) {
	t.buf = appendTime(t.buf[:0], at)
	t.buf = append(t.buf, ' ')
	t.buf = append(t.buf, t.names[node]...)
	t.buf = append(t.buf, ' ')
}

func (t *tracer) end() {
	t.buf = append(t.buf, '\n')
	t.w.Write(t.buf) //nolint:errcheck // bufio keeps the first error; flush reports it
}

// flush writes out the buffered lines.
func (t *tracer) flush() error {
	if t.w == nil {
		return nil
	}
	return t.w.Flush()
}

// fingerprint returns the hash as 16 hex digits.
func (t *tracer) fingerprint() string {
	b := strconv.AppendUint(nil, mix64(t.h^t.lines), 16)
	for len(b) < 16 {
		b = append([]byte{'0'}, b...)
	}
	return string(b)
}

// appendTime appends a virtual time as seconds with nine decimals, "12.000400000".
func appendTime(b []byte, d time.Duration) []byte {
	s, ns := int64(d/time.Second), int64(d%time.Second)
	b = strconv.AppendInt(b, s, 10)
	b = append(b, '.')
	frac := strconv.AppendInt(make([]byte, 0, 9), ns, 10)
	for i := len(frac); i < 9; i++ {
		b = append(b, '0')
	}
	return append(b, frac...)
}

// formatTime returns appendTime as a string with an "s" suffix.
func formatTime(d time.Duration) string { return string(appendTime(nil, d)) + "s" }
