//go:build cgo

package conformance

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ebwrk/ebwrk/conformance/wirekit"
)

// The flags that point the wire kit's tests at another broker:
//
//	go test ./conformance -run TestWireKit -args -broker-exec 'mdbroker --bind {frontend}' -broker-heartbeat 2.5s
var (
	brokerExec      = flag.String("broker-exec", "", "wire kit: shell `command` that starts the broker under test ({frontend}, {backend}); default: ebbroker built from this module")
	brokerFrontend  = flag.String("frontend", "", "wire kit: `endpoint` of a running broker under test")
	brokerBackend   = flag.String("backend", "", "wire kit: `endpoint` of its backend (default: the frontend serves both)")
	brokerHeartbeat = flag.Duration("broker-heartbeat", 0, "wire kit: the broker's heartbeat `interval` (default 100ms for the built ebbroker, 1s otherwise)")
	brokerLiveness  = flag.Int("broker-liveness", 0, "wire kit: the broker's liveness (default 10 for the built ebbroker, 3 otherwise)")
	brokerExpiry    = flag.Duration("broker-queue-expiry", wirekit.Defaults.QueueExpiry, "wire kit: the broker's queue expiry (0: never)")
	brokerTolerance = flag.Duration("broker-tolerance", 0, "wire kit: how late a timed event may be (default 300ms for the built ebbroker, else the kit's)")
	brokerLevels    = flag.String("broker-levels", "", "wire kit: comma-separated levels to run (MUST, SHOULD, MAY, ebwrk); default all")
	kitMutants      = flag.String("wirekit.mutants", "", "TestWireKitMutants: \"all\" (every mutant a case names) or comma-separated mutant names; default a fast few")
)

// ebbrokerCommand is the --exec command for an ebbroker binary at bin.
func ebbrokerCommand(bin string, s wirekit.Settings) string {
	return fmt.Sprintf("%s --frontend {frontend} --backend {backend} --heartbeat %v --liveness %d --queue-expiry %v --log-level error",
		bin, s.Heartbeat, s.Liveness, s.QueueExpiry)
}

// buildEbbroker builds cmd/ebbroker from the module at root into dir.
func buildEbbroker(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "ebbroker")
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-trimpath", "-o", bin, "./cmd/ebbroker")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=1", "GOPROXY=off", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/ebbroker: %v\n%s", err, out)
	}
	return bin, nil
}

// kitDefaults fills the zero heartbeat and liveness of s from d.
func kitDefaults(s, d wirekit.Settings) wirekit.Settings {
	if s.Heartbeat == 0 {
		s.Heartbeat = d.Heartbeat
	}
	if s.Liveness == 0 {
		s.Liveness = d.Liveness
	}
	return s
}

// runKit runs cases against target and returns the results.
func runKit(t *testing.T, target *wirekit.Target, s wirekit.Settings, cases []*wirekit.Case, jobs int) ([]wirekit.Result, int) {
	t.Helper()
	r := &wirekit.Runner{Target: target, Settings: s, Jobs: jobs}
	results, err := r.Run(t.Context(), cases)
	if err != nil {
		t.Fatalf("the run ended early: %v", err)
	}
	return results, r.Restarts
}

// TestWireKit runs the wire kit's whole catalogue against a broker: ebbroker built
// from this module with 100 ms heartbeats and liveness 10 (every case must pass), or the broker the
// flags name (-broker-exec or -frontend/-backend, with its settings). Each case is
// a subtest that reports its verdict.
func TestWireKit(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inside a mutant run")
	}
	s := wirekit.Settings{Heartbeat: *brokerHeartbeat, Liveness: *brokerLiveness, QueueExpiry: *brokerExpiry, Tolerance: *brokerTolerance}
	var target *wirekit.Target
	switch {
	case *brokerFrontend != "":
		s = kitDefaults(s, wirekit.Defaults)
		target = wirekit.Fixed(*brokerFrontend, *brokerBackend)
		if err := target.WaitUp(t.Context(), 10*time.Second); err != nil {
			t.Fatal(err)
		}
	default:
		command := *brokerExec
		if command == "" {
			// Short heartbeats keep the run short; a liveness of 10 keeps a
			// loaded machine (the whole suite at once) from purging workers
			// that are only slow. The purge cases scale with it.
			s = kitDefaults(s, wirekit.Settings{Heartbeat: 100 * time.Millisecond, Liveness: 10})
			if s.Tolerance == 0 {
				// The whole suite loads the machine: 100 ms heartbeats come
				// late by more than the kit's default tolerance of 100 ms.
				s.Tolerance = 300 * time.Millisecond
			}
			root, err := moduleRoot()
			if err != nil {
				t.Fatal(err)
			}
			bin, err := buildEbbroker(t.Context(), root, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			command = ebbrokerCommand(bin, s)
		} else {
			s = kitDefaults(s, wirekit.Defaults)
		}
		var err error
		target, err = wirekit.Exec(t.Context(), command, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer target.Stop()
	}
	var levels []wirekit.Level
	if *brokerLevels != "" {
		for _, l := range strings.Split(*brokerLevels, ",") {
			lv, err := wirekit.ParseLevel(l)
			if err != nil {
				t.Fatal(err)
			}
			levels = append(levels, lv)
		}
	}
	cases, err := wirekit.Select(wirekit.Catalogue(), nil, levels)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	results, restarts := runKit(t, target, s, cases, 4)
	t.Logf("%d cases in %v, %d restarts", len(results), time.Since(start).Round(time.Millisecond), restarts)
	for _, r := range results {
		t.Run(r.Case.ID, func(t *testing.T) {
			switch r.Result {
			case wirekit.Fail:
				t.Errorf("%s (RFC %s, %s): %s", r.Case.Rule, r.Case.RFC, r.Case.Level, r.Detail)
			case wirekit.Skip:
				t.Skip(r.Detail)
			default:
				t.Log(r.Detail)
			}
		})
	}
}

// TestWireKitCatalogue checks the catalogue itself: at least 40 cases, unique IDs,
// and each case either names a mutant that exists or says why none can break it.
func TestWireKitCatalogue(t *testing.T) {
	all := wirekit.Catalogue()
	if len(all) < 40 {
		t.Errorf("%d cases; want at least 40", len(all))
	}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.ID] {
			t.Errorf("case %s twice", c.ID)
		}
		seen[c.ID] = true
		switch {
		case c.Mutant == "" && c.Unreachable == "":
			t.Errorf("case %s names no mutant and no reason why none can break it", c.ID)
		case c.Mutant != "" && c.Unreachable != "":
			t.Errorf("case %s names a mutant and says none can break it", c.ID)
		case c.Mutant != "" && findMutant(c.Mutant) == nil:
			t.Errorf("case %s names mutant %q, which is neither in mutants nor in wireMutants", c.ID, c.Mutant)
		}
	}
}

// findMutant returns the mutant named name, or nil.
func findMutant(name string) *mutant {
	for _, list := range [][]mutant{mutants, wireMutants} {
		if i := slices.IndexFunc(list, func(m mutant) bool { return m.Name == name }); i >= 0 {
			return &list[i]
		}
	}
	return nil
}
