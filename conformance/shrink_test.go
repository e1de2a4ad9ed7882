package conformance

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/sim"
)

// The failing run the shrink demonstration starts from: the swarm scenario, whose
// seed 3 draws hundreds of fault decisions, on an ebsim built with a broker that does
// not requeue a dead worker's request.
const (
	shrinkMutant   = "no-requeue-on-death"
	shrinkScenario = "swarm"
	shrinkSeed     = "3"
	shrinkMax      = 10 // fault events the shrunk scenario may keep
)

// TestShrinkMutant shows `ebsim shrink` at work: in a mutated copy of the module,
// `ebsim run swarm --seed 3` breaks guarantee 5; `ebsim shrink` reduces its fault
// schedule to at most 10 fault events and writes a scenario file; `ebsim run` of that
// file still fails in the mutated copy, and passes with the real broker.
func TestShrinkMutant(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inside a mutant run")
	}
	root, files := moduleSources(t)
	i := slices.IndexFunc(mutants, func(m mutant) bool { return m.Name == shrinkMutant })
	if i < 0 {
		t.Fatalf("no mutant %s", shrinkMutant)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	dir := t.TempDir()
	if err := copyFiles(root, dir, files); err != nil {
		t.Fatal(err)
	}
	if err := applyMutant(dir, &mutants[i]); err != nil {
		t.Fatal(err)
	}
	mutated := buildEbsim(ctx, t, dir)
	real := buildEbsim(ctx, t, root)

	out, code := ebsim(ctx, t, dir, mutated, "run", shrinkScenario, "--seed", shrinkSeed)
	if code != 1 || !strings.Contains(out, "G5") {
		t.Fatalf("mutated ebsim run %s --seed %s: exit %d, want 1 with a G5 violation:\n%s", shrinkScenario, shrinkSeed, code, tail(out, 30))
	}
	toml := filepath.Join(dir, "shrunk.toml")
	out, code = ebsim(ctx, t, dir, mutated, "shrink", shrinkScenario, "--seed", shrinkSeed, "--out", toml)
	if code != 0 {
		t.Fatalf("ebsim shrink: exit %d:\n%s", code, out)
	}
	t.Logf("ebsim shrink %s --seed %s:\n%s", shrinkScenario, shrinkSeed, out)
	sc, err := sim.LoadScenario(toml)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(sc.Faults.Events) + len(sc.Faults.Decisions); n < 1 || n > shrinkMax {
		t.Errorf("the shrunk scenario keeps %d fault events, want 1 to %d", n, shrinkMax)
	}
	out, code = ebsim(ctx, t, dir, mutated, "run", toml, "--seed", shrinkSeed)
	if code != 1 || !strings.Contains(out, "G5") {
		t.Errorf("mutated ebsim run shrunk.toml: exit %d, want 1 with a G5 violation:\n%s", code, tail(out, 30))
	}
	out, code = ebsim(ctx, t, dir, real, "run", toml, "--seed", shrinkSeed)
	if code != 0 {
		t.Errorf("real ebsim run shrunk.toml: exit %d, want 0:\n%s", code, tail(out, 30))
	}
}

// buildEbsim builds cmd/ebsim of the module at dir and returns the binary's path.
func buildEbsim(ctx context.Context, t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "ebsim")
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/ebsim")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOPROXY=off", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build ebsim in %s: %v\n%s", dir, err, out)
	}
	return bin
}

// ebsim runs the binary in dir and returns its output and exit code.
func ebsim(ctx context.Context, t *testing.T, dir, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return string(out), 0
	case errors.As(err, &exit):
		return string(out), exit.ExitCode()
	}
	t.Fatalf("ebsim %v: %v", args, err)
	return "", -1
}
