package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ebwrk/ebwrk/sim"
)

// call runs the command with args and returns its exit code, stdout and stderr.
func call(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

// deterministic drops the wall-clock line, which differs from run to run.
func deterministic(s string) string {
	var keep []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(l, "wall:") {
			keep = append(keep, l)
		}
	}
	return strings.Join(keep, "\n")
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"help"}, {"list", "-h"}, {"run", "-h"}, {"sweep", "-h"}, {"merge", "-h"}, {"report", "-h"}} {
		code, out, _ := call(args...)
		if code != exitOK || !strings.Contains(out, "Usage") {
			t.Errorf("ebsim %v: exit %d, output %q; want 0 and a usage text", args, code, out)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.toml")
	if err := os.WriteFile(bad, []byte("[clients]\ncuont = 3\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args   []string
		stderr string
	}{
		{[]string{"run"}, "want one scenario"},
		{[]string{"run", "nosuch"}, "no scenario"},
		{[]string{"run", "baseline", "--seed", "x"}, "invalid value"},
		{[]string{"run", bad}, "clients.cuont: unknown key"},
		{[]string{"bogus"}, "unknown command"},
		{[]string{"--nope"}, "flag provided but not defined"},
		{[]string{"sweep", "swarm", "--seeds", "0"}, "--seeds N"},
		{[]string{"report", "extra"}, "no arguments"},
	} {
		code, _, errs := call(tc.args...)
		if code != exitUsage || !strings.Contains(errs, tc.stderr) {
			t.Errorf("ebsim %v: exit %d, stderr %q; want %d and %q", tc.args, code, errs, exitUsage, tc.stderr)
		}
	}
}

func TestList(t *testing.T) {
	code, out, _ := call("list")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, sc := range sim.Catalogue() {
		if !strings.Contains(out, sc.Name) {
			t.Errorf("list lacks %s", sc.Name)
		}
	}
}

func TestListNames(t *testing.T) {
	code, out, _ := call("list", "--names")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	var want []string
	for _, sc := range sim.Catalogue() {
		want = append(want, sc.Name)
	}
	if got := strings.Fields(out); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("list --names = %q, want %q", got, want)
	}
}

func TestRunDeterministic(t *testing.T) {
	trace := filepath.Join(t.TempDir(), "trace.txt")
	code, out1, _ := call("run", "worker-crash", "--seed", "4", "--trace", trace)
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out1)
	}
	t1, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	_, out2, _ := call("run", "--seed", "4", "worker-crash", "--trace", trace)
	t2, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	if deterministic(out1) != deterministic(out2) || !bytes.Equal(t1, t2) {
		t.Error("two runs of worker-crash --seed 4 differ")
	}
	if !strings.Contains(out1, "fingerprint") || !strings.Contains(out1, "wall:") || !bytes.Contains(t1, []byte("fault crash")) {
		t.Errorf("output lacks the fingerprint, the wall line or the trace lacks the crash:\n%s", out1)
	}
	code, js1, errs := call("run", "message-loss", "--json")
	_, js2, _ := call("run", "message-loss", "--json")
	if code != exitOK || js1 != js2 {
		t.Errorf("--json: exit %d, outputs equal %v", code, js1 == js2)
	}
	var res sim.Result
	if err := json.Unmarshal([]byte(js1), &res); err != nil || res.Scenario != "message-loss" || res.Fingerprint == "" {
		t.Errorf("--json output does not decode to a result: %v", err)
	}
	if strings.Contains(js1, "wall") || !strings.Contains(errs, "wall:") {
		t.Errorf("wall figures belong on stderr only with --json")
	}
}

func TestRunViolationExit(t *testing.T) {
	defer func(f func(sim.Scenario, uint64, sim.Options) (*sim.Result, error)) { simRun = f }(simRun)
	simRun = func(sc sim.Scenario, seed uint64, opt sim.Options) (*sim.Result, error) {
		res, err := sim.Run(sc, seed, opt)
		if res != nil {
			res.Violations = append(res.Violations, sim.Violation{Guarantee: sim.GHeld, Detail: "injected", Line: "0.1 broker", Replay: res.Replay})
		}
		return res, err
	}
	code, out, _ := call("run", "baseline", "--seed", "9")
	if code != exitViolation {
		t.Errorf("exit %d, want %d", code, exitViolation)
	}
	if !strings.Contains(out, "VIOLATION G5") || !strings.Contains(out, "go run ./cmd/ebsim run baseline --seed 9") {
		t.Errorf("output lacks the violation and its replay command:\n%s", out)
	}
}

func TestSweepCommand(t *testing.T) {
	code, out, _ := call("sweep", "swarm", "--seeds", "4")
	if code != exitOK || !strings.Contains(out, "passed") {
		t.Errorf("exit %d:\n%s", code, out)
	}
	code, js, _ := call("sweep", "swarm", "--seeds", "3", "--first", "5", "--json")
	var res sim.SweepResult
	if err := json.Unmarshal([]byte(js), &res); err != nil || code != exitOK || res.Seeds != 3 {
		t.Errorf("sweep --json: exit %d, %v, %+v", code, err, res)
	}
}

// TestCatalogueAndReport runs the whole catalogue and the report twice: the report
// must come out byte-identical.
func TestCatalogueAndReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the catalogue three times")
	}
	code, out, _ := call()
	if code != exitOK || !strings.Contains(out, "summary") {
		t.Fatalf("ebsim: exit %d", code)
	}
	a, b := t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if code, out, errs := call("report", "--out", dir); code != exitOK {
			t.Fatalf("report: exit %d: %s %s", code, out, errs)
		}
	}
	files, err := os.ReadDir(a)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1+2*len(sim.Catalogue()) {
		t.Errorf("report wrote %d files, want README.md and 2 plots per scenario", len(files))
	}
	for _, f := range files {
		x, err1 := os.ReadFile(filepath.Join(a, f.Name()))
		y, err2 := os.ReadFile(filepath.Join(b, f.Name()))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s differs between two report runs", f.Name())
		}
	}
}

// TestBuildsWithoutCgo checks that ebsim builds with CGO_ENABLED=0.
func TestBuildsWithoutCgo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the command")
	}
	cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "ebsim"), ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("CGO_ENABLED=0 go build: %v\n%s", err, out)
	}
}
