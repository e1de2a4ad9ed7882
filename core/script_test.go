package core

// Interaction scripts: core/testdata/<machine>_<name>.txt files that read like traces.
//
// A script is a list of lines:
//
//	# a comment            kept as it is (so are blank lines)
//	advance 2.5s           the script clock moves on by a time.ParseDuration; then the
//	                       machine's exec gets the words ["advance"]
//	request echo hello     any other line: split into words and passed to exec
//	> →broker REQUEST ...  the expected outputs of the command just above, one per line:
//	                       exactly the String() lines of the machine's outputs, in order
//
// A command without "> " lines must cause no output. Words are separated by spaces; a
// word in double quotes or backquotes is a Go string literal ("hello world", "" for an
// empty frame, "\x00"). The script clock starts at 2000-01-01T00:00:00Z. Run
// `go test ./core -run Script -update` to rewrite the expected outputs from what the
// machines do (commands and comments are kept).
//
// Frame words (parseFrame), shared by the machines that take raw frames:
//
//	seq:7      the 8-byte ebwrk envelope with sequence number 7
//	seq:7/1    the envelope with status byte 1 (StatusQueueFull)
//	cmd:2      a one-byte frame 0x02 (here REQUEST)
//	hex:0a0b   the bytes given in hex
//	anything   the word's bytes, as they are

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the expected outputs of core/testdata scripts")

// scriptStart is the script clock at the first line.
var scriptStart = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// scriptMachine runs the commands of one script; a new one is made per file.
type scriptMachine interface {
	// exec runs one command at script time now and returns the output lines it caused.
	exec(now time.Time, words []string) ([]string, error)
}

// runScripts runs every file matching glob, each with a fresh machine from newMachine.
func runScripts(t *testing.T, glob string, newMachine func() scriptMachine) {
	t.Helper()
	files, err := filepath.Glob(glob)
	if err != nil {
		t.Fatalf("scripts %s: %v", glob, err)
	}
	if len(files) == 0 {
		t.Fatalf("no scripts match %s", glob)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			runScript(t, file, newMachine())
		})
	}
}

// runScript runs one script file and, with -update, rewrites it.
func runScript(t *testing.T, file string, m scriptMachine) {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	rewritten, mismatches, err := checkScript(file, data, m)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if len(mismatches) > 0 {
			if err := os.WriteFile(file, []byte(rewritten), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: rewritten", file)
		}
		return
	}
	for _, msg := range mismatches {
		t.Error(msg)
	}
}

// checkScript runs a script on m. It returns the script rewritten with the actual
// outputs, a message for every command whose outputs differ from the expected ones,
// and an error for a script that cannot run (bad syntax, or an exec error), naming
// file:line.
func checkScript(file string, data []byte, m scriptMachine) (string, []string, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		return "", nil, fmt.Errorf("%s: %v", file, err)
	}
	var (
		now        = scriptStart
		rewrite    strings.Builder
		mismatches []string
	)
	for i := 0; i < len(lines); {
		line, n := lines[i], i+1
		i++
		text := strings.TrimSpace(line)
		if text == "" || strings.HasPrefix(text, "#") {
			rewrite.WriteString(line + "\n")
			continue
		}
		if isExpectLine(line) {
			return "", nil, fmt.Errorf("%s:%d: expected output without a command above it", file, n)
		}
		var want []string
		for i < len(lines) && isExpectLine(lines[i]) {
			want = append(want, strings.TrimPrefix(strings.TrimPrefix(lines[i], ">"), " "))
			i++
		}
		words, err := splitWords(text)
		if err != nil {
			return "", nil, fmt.Errorf("%s:%d: %v", file, n, err)
		}
		if words[0] == "advance" {
			if len(words) != 2 {
				return "", nil, fmt.Errorf("%s:%d: usage: advance <duration>", file, n)
			}
			d, err := time.ParseDuration(words[1])
			if err != nil || d < 0 {
				return "", nil, fmt.Errorf("%s:%d: advance: bad duration %q", file, n, words[1])
			}
			now = now.Add(d)
			words = words[:1]
		}
		got, err := m.exec(now, words)
		if err != nil {
			return "", nil, fmt.Errorf("%s:%d: %s: %v", file, n, text, err)
		}
		rewrite.WriteString(line + "\n")
		for _, g := range got {
			rewrite.WriteString("> " + g + "\n")
		}
		if !equalLines(want, got) {
			mismatches = append(mismatches, fmt.Sprintf("%s:%d: %s\nwant:\n%s\ngot:\n%s",
				file, n, text, indent(want), indent(got)))
		}
	}
	return rewrite.String(), mismatches, nil
}

// isExpectLine reports whether a line holds an expected output.
func isExpectLine(s string) bool { return s == ">" || strings.HasPrefix(s, "> ") }

func equalLines(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// indent formats lines for a failure message.
func indent(lines []string) string {
	if len(lines) == 0 {
		return "\t(nothing)"
	}
	return "\t" + strings.Join(lines, "\n\t")
}

// splitWords splits a command line into words; quoted words are Go string literals.
func splitWords(s string) ([]string, error) {
	var words []string
	for {
		s = strings.TrimLeft(s, " \t")
		if s == "" {
			return words, nil
		}
		switch s[0] {
		case '"', '`':
			end := quotedEnd(s)
			if end < 0 {
				return nil, fmt.Errorf("unterminated quoted word %s", s)
			}
			w, err := strconv.Unquote(s[:end])
			if err != nil {
				return nil, fmt.Errorf("bad quoted word %s: %v", s[:end], err)
			}
			words = append(words, w)
			s = s[end:]
			if s != "" && s[0] != ' ' && s[0] != '\t' {
				return nil, fmt.Errorf("no space after quoted word %q", w)
			}
		default:
			end := strings.IndexAny(s, " \t")
			if end < 0 {
				end = len(s)
			}
			words = append(words, s[:end])
			s = s[end:]
		}
	}
}

// quotedEnd returns the index just past the closing quote of the literal s starts with,
// or -1.
func quotedEnd(s string) int {
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case s[i] == '\\' && q == '"':
			i++
		case s[i] == q:
			return i + 1
		}
	}
	return -1
}

// parseFrames turns frame words (see the top of this file) into frames.
func parseFrames(words []string) ([][]byte, error) {
	frames := make([][]byte, 0, len(words))
	for _, w := range words {
		f, err := parseFrame(w)
		if err != nil {
			return nil, err
		}
		frames = append(frames, f)
	}
	return frames, nil
}

// parseFrame turns one frame word into a frame.
func parseFrame(w string) ([]byte, error) {
	switch {
	case strings.HasPrefix(w, "seq:"):
		num, status, hasStatus := strings.Cut(w[len("seq:"):], "/")
		seq, err := strconv.ParseUint(num, 10, 64)
		if err != nil {
			return nil, fmt.Errorf("frame %s: bad sequence number", w)
		}
		f := binary.BigEndian.AppendUint64(nil, seq)
		if hasStatus {
			s, err := strconv.ParseUint(status, 10, 8)
			if err != nil {
				return nil, fmt.Errorf("frame %s: bad status", w)
			}
			f = append(f, byte(s))
		}
		return f, nil
	case strings.HasPrefix(w, "cmd:"):
		c, err := strconv.ParseUint(w[len("cmd:"):], 0, 8)
		if err != nil {
			return nil, fmt.Errorf("frame %s: bad command byte", w)
		}
		return []byte{byte(c)}, nil
	case strings.HasPrefix(w, "hex:"):
		f, err := hex.DecodeString(w[len("hex:"):])
		if err != nil {
			return nil, fmt.Errorf("frame %s: %v", w, err)
		}
		return f, nil
	}
	return []byte(w), nil
}

// outputLines returns the String() of each output.
func outputLines(outs []Output) []string {
	lines := make([]string, 0, len(outs))
	for _, o := range outs {
		lines = append(lines, o.String())
	}
	return lines
}

// checkSent compares the frames of the last SendOutput among outs with frame words: the
// "sent" command of the client and worker machines.
func checkSent(last [][]byte, words []string) error {
	want, err := parseFrames(words)
	if err != nil {
		return err
	}
	if last == nil {
		return fmt.Errorf("nothing was sent")
	}
	if len(want) != len(last) {
		return fmt.Errorf("last send had %d frames %q, want %d %q", len(last), last, len(want), want)
	}
	for i := range want {
		if !bytes.Equal(want[i], last[i]) {
			return fmt.Errorf("last send frame %d is %q, want %q (all: %q)", i, last[i], want[i], last)
		}
	}
	return nil
}

// lastSend returns the frames of the last SendOutput in outs, or prev when there is none.
func lastSend(outs []Output, prev [][]byte) [][]byte {
	for i := len(outs) - 1; i >= 0; i-- {
		if outs[i].Kind == SendOutput {
			return outs[i].Frames
		}
	}
	return prev
}

// advanceMachine steps a machine through every deadline up to now, as a driver would,
// then calls advance(now). It fails when the deadlines do not move on.
func advanceMachine(now time.Time, next func() time.Time, advance func(time.Time)) error {
	for steps := 0; ; steps++ {
		d := next()
		if d.IsZero() || d.After(now) {
			break
		}
		if steps == 10000 {
			return fmt.Errorf("advance: deadline stuck at %v", d)
		}
		advance(d)
	}
	advance(now)
	return nil
}

// parseSettings reads key=value words into a map, rejecting keys not in allowed.
func parseSettings(words []string, allowed ...string) (map[string]string, error) {
	kv := make(map[string]string, len(words))
	for _, w := range words {
		k, v, ok := strings.Cut(w, "=")
		if !ok {
			return nil, fmt.Errorf("setting %q is not key=value", w)
		}
		found := false
		for _, a := range allowed {
			found = found || a == k
		}
		if !found {
			return nil, fmt.Errorf("unknown setting %q (known: %s)", k, strings.Join(allowed, " "))
		}
		kv[k] = v
	}
	return kv, nil
}

// echoMachine is a scriptMachine for testing the harness: it outputs its words, one
// per line, with the script time after "advance", and fails on "error".
type echoMachine struct{}

func (echoMachine) exec(now time.Time, words []string) ([]string, error) {
	switch words[0] {
	case "error":
		return nil, fmt.Errorf("boom")
	case "advance":
		return []string{now.Format(time.TimeOnly)}, nil
	case "quiet":
		return nil, nil
	}
	return words, nil
}

func TestCheckScript(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		rewritten  string
		mismatches []string
		err        string
	}{
		{
			name:      "match",
			script:    "# c\n\nsay \"a b\" \"\" `c`\n> say\n> a b\n> \n> c\nadvance 1.5s\n> 00:00:01\nquiet\n",
			rewritten: "# c\n\nsay \"a b\" \"\" `c`\n> say\n> a b\n> \n> c\nadvance 1.5s\n> 00:00:01\nquiet\n",
		},
		{
			name:       "missing output",
			script:     "# c\nquiet\nsay x\n> say\n",
			rewritten:  "# c\nquiet\nsay x\n> say\n> x\n",
			mismatches: []string{"f.txt:3: say x\nwant:\n\tsay\ngot:\n\tsay\n\tx"},
		},
		{
			name:       "unexpected output",
			script:     "say\nquiet\n> say\n",
			rewritten:  "say\n> say\nquiet\n",
			mismatches: []string{"f.txt:1: say\nwant:\n\t(nothing)\ngot:\n\tsay", "f.txt:2: quiet\nwant:\n\tsay\ngot:\n\t(nothing)"},
		},
		{name: "exec error", script: "quiet\nerror now\n", err: "f.txt:2: error now: boom"},
		{name: "orphan output", script: "# c\n> x\n", err: "f.txt:2: expected output without a command above it"},
		{name: "bad quote", script: "say \"x\n", err: "f.txt:1: unterminated quoted word \"x"},
		{name: "bad escape", script: "say \"\\q\"\n", err: "f.txt:1: bad quoted word"},
		{name: "glued quote", script: "say \"x\"y\n", err: "f.txt:1: no space after quoted word \"x\""},
		{name: "bad duration", script: "advance soon\n", err: "f.txt:1: advance: bad duration \"soon\""},
		{name: "negative duration", script: "advance -1s\n", err: "f.txt:1: advance: bad duration \"-1s\""},
		{name: "advance without duration", script: "advance\n", err: "f.txt:1: usage: advance <duration>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rewritten, mismatches, err := checkScript("f.txt", []byte(tt.script), echoMachine{})
			if tt.err != "" {
				if err == nil || !strings.HasPrefix(err.Error(), tt.err) {
					t.Fatalf("checkScript() error = %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("checkScript() error = %v", err)
			}
			if d := cmp.Diff(tt.rewritten, rewritten); d != "" {
				t.Errorf("rewritten script mismatch (-want +got):\n%s", d)
			}
			if d := cmp.Diff(tt.mismatches, mismatches); d != "" {
				t.Errorf("mismatches (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseFrames(t *testing.T) {
	tests := []struct {
		words []string
		want  [][]byte
		err   bool
	}{
		{[]string{"seq:7", "", "MDPC01"}, [][]byte{{0, 0, 0, 0, 0, 0, 0, 7}, {}, []byte("MDPC01")}, false},
		{[]string{"seq:258/1"}, [][]byte{{0, 0, 0, 0, 0, 0, 1, 2, 1}}, false},
		{[]string{"cmd:2", "cmd:0x05", "hex:00ff"}, [][]byte{{2}, {5}, {0, 0xff}}, false},
		{[]string{"seq:x"}, nil, true},
		{[]string{"seq:1/300"}, nil, true},
		{[]string{"cmd:256"}, nil, true},
		{[]string{"hex:0"}, nil, true},
	}
	for _, tt := range tests {
		got, err := parseFrames(tt.words)
		if (err != nil) != tt.err {
			t.Errorf("parseFrames(%q) error = %v, want error %v", tt.words, err, tt.err)
			continue
		}
		if d := cmp.Diff(tt.want, got); !tt.err && d != "" {
			t.Errorf("parseFrames(%q) mismatch (-want +got):\n%s", tt.words, d)
		}
	}
}

func TestCheckSent(t *testing.T) {
	last := [][]byte{{}, []byte("MDPW01"), {4}}
	tests := []struct {
		last  [][]byte
		words []string
		err   bool
	}{
		{last, []string{"", "MDPW01", "cmd:4"}, false},
		{last, []string{"", "MDPW01", "cmd:5"}, true},
		{last, []string{"", "MDPW01"}, true},
		{nil, []string{""}, true},
		{last, []string{"hex:x"}, true},
	}
	for _, tt := range tests {
		if err := checkSent(tt.last, tt.words); (err != nil) != tt.err {
			t.Errorf("checkSent(%q, %q) = %v, want error %v", tt.last, tt.words, err, tt.err)
		}
	}
}
