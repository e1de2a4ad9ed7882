package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/sim"
)

func TestStatusLine(t *testing.T) {
	for _, tc := range []struct {
		p       sim.SweepProgress
		elapsed time.Duration
		want    string
	}{
		{sim.SweepProgress{Done: 0, Total: 100}, 0, "0/100 seeds (0.0%), 0 failed"},
		{sim.SweepProgress{Done: 1200, Failed: 2, Total: 100000}, 3 * time.Second, "1200/100000 seeds (1.2%), 400 seeds/s, 4m7s left, 2 failed"},
		{sim.SweepProgress{Done: 10, Total: 10}, 2 * time.Second, "10/10 seeds (100.0%), 5 seeds/s, 0s left, 0 failed"},
	} {
		if got := statusLine(tc.p, tc.elapsed); got != tc.want {
			t.Errorf("statusLine(%+v, %v) = %q, want %q", tc.p, tc.elapsed, got, tc.want)
		}
	}
}

// TestProgressRedraws: the line is redrawn in place at most every progressEvery,
// always for the last seed, and clear erases it.
func TestProgressRedraws(t *testing.T) {
	var buf bytes.Buffer
	clock := time.Unix(0, 0)
	pr := newProgressAt(&buf, func() time.Time { return clock })
	for _, step := range []struct {
		at   time.Duration
		done int
	}{{10 * time.Millisecond, 1}, {100 * time.Millisecond, 2}, {250 * time.Millisecond, 3}, {260 * time.Millisecond, 4}} {
		clock = time.Unix(0, 0).Add(step.at)
		pr.update(sim.SweepProgress{Done: step.done, Total: 4})
	}
	pr.clear()
	got := strings.Split(buf.String(), "\r\033[K")
	want := []string{"", "1/4 seeds (25.0%), 100 seeds/s, 0s left, 0 failed",
		"3/4 seeds (75.0%), 12 seeds/s, 0s left, 0 failed",
		"4/4 seeds (100.0%), 15 seeds/s, 0s left, 0 failed", ""}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("status lines (-want +got):\n%s", d)
	}
	var nothing *progress
	nothing.update(sim.SweepProgress{Done: 1, Total: 1})
	nothing.clear()
}

// TestSweepProgressOnlyOnTerminal: a sweep draws its status line on stderr when
// stderr is a terminal, and nothing but the wall line otherwise.
func TestSweepProgressOnlyOnTerminal(t *testing.T) {
	orig := isTerminal
	t.Cleanup(func() { isTerminal = orig })
	for _, term := range []bool{true, false} {
		isTerminal = func(io.Writer) bool { return term }
		code, out, errs := call("sweep", "swarm", "--seeds", "3", "--json")
		if code != exitOK || !strings.HasPrefix(out, "{") {
			t.Fatalf("terminal=%v: exit %d, stdout %q", term, code, out)
		}
		drawn := strings.Contains(errs, "\r\033[K3/3 seeds (100.0%)") && strings.Contains(errs, "seeds/s") &&
			strings.Contains(errs, "0 failed")
		wall := "wall: "
		if term {
			wall = "\r\033[Kwall: "
		}
		_, last, _ := strings.Cut(errs, wall)
		if term != drawn || last == "" || strings.Count(last, "\n") != 1 {
			t.Errorf("terminal=%v: stderr %q; want the status line only on a terminal, erased before the wall line", term, errs)
		}
		if !term && !strings.HasPrefix(errs, "wall: ") {
			t.Errorf("not a terminal: stderr %q, want the wall line alone", errs)
		}
	}
}

// TestIsTerminal: files, pipes and /dev/null are not terminals.
func TestIsTerminal(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "f"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer null.Close()
	for name, w := range map[string]io.Writer{"file": f, "pipe": w, "/dev/null": null, "buffer": &bytes.Buffer{}} {
		if isTerminal(w) {
			t.Errorf("isTerminal(%s) = true", name)
		}
	}
}
