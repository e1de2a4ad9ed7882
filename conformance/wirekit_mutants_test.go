//go:build cgo

package conformance

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/ebwrk/ebwrk/conformance/wirekit"
)

// fastKitMutants are the mutants TestWireKitMutants builds by default: one broker
// that crashes on an input, and three that break a frame rule, a timing rule and a
// registration rule.
var fastKitMutants = []string{"mmi-empty-body-crash", "purge-stops-at-first-live", "second-ready-accepted", "header-unchecked"}

// kitMutantResult is what the cases that name one mutant showed against it.
type kitMutantResult struct {
	name     string
	err      error
	results  []wirekit.Result
	restarts int
	wall     time.Duration
}

// TestWireKitMutants shows that the wire kit's cases cannot pass by accident: it
// builds ebbroker from a copy of the module with a mutant applied, runs the cases
// that name that mutant against it, and requires each to fail. By default it builds
// the few of fastKitMutants; -args -wirekit.mutants=all builds every mutant a case
// names (35 builds, 18 minutes on a loaded 2-core machine) and logs the table case → mutant → verdict.
func TestWireKitMutants(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inside a mutant run")
	}
	names := fastKitMutants
	switch *kitMutants {
	case "":
	case "all":
		names = nil
		for _, c := range wirekit.Catalogue() {
			if c.Mutant != "" && !slices.Contains(names, c.Mutant) {
				names = append(names, c.Mutant)
			}
		}
	default:
		names = strings.Split(*kitMutants, ",")
	}
	root, files := moduleSources(t)
	s := wirekit.Settings{Heartbeat: 100 * time.Millisecond, Liveness: 10, QueueExpiry: time.Second, Tolerance: 300 * time.Millisecond}
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Minute)
	defer cancel()

	out := make([]kitMutantResult, len(names))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i, name := range names {
		m := findMutant(name)
		if m == nil {
			t.Fatalf("no mutant %q", name)
		}
		var cases []*wirekit.Case
		for _, c := range wirekit.Catalogue() {
			if c.Mutant == name {
				cases = append(cases, c)
			}
		}
		if len(cases) == 0 {
			t.Fatalf("no case names mutant %q", name)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			out[i] = runKitMutant(ctx, t, root, files, m, s, cases)
		}()
	}
	wg.Wait()

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tMUTANT\tVERDICT\tSEEN")
	for _, r := range out {
		if r.err != nil {
			t.Errorf("mutant %s: %v", r.name, r.err)
			continue
		}
		for _, res := range r.results {
			verdict := "killed"
			if res.Result != wirekit.Fail {
				verdict = "SURVIVED"
				t.Errorf("case %s passed against mutant %s (%s), which breaks its rule", res.Case.ID, r.name, findMutant(r.name).Note)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", res.Case.ID, r.name, verdict, res.Detail)
		}
	}
	tw.Flush()
	t.Logf("wire kit cases against their mutants:\n%s", table.String())
}

// runKitMutant builds ebbroker with m applied and runs cases against it.
func runKitMutant(ctx context.Context, t *testing.T, root string, files []string, m *mutant, s wirekit.Settings, cases []*wirekit.Case) kitMutantResult {
	r := kitMutantResult{name: m.Name}
	start := time.Now()
	defer func() { r.wall = time.Since(start) }()
	dir := t.TempDir()
	if err := copyFiles(root, dir, files); err != nil {
		r.err = err
		return r
	}
	if err := applyMutant(dir, m); err != nil {
		r.err = err
		return r
	}
	bin, err := buildEbbroker(ctx, dir, dir)
	if err != nil {
		r.err = err
		return r
	}
	target, err := wirekit.Exec(ctx, ebbrokerCommand(bin, s), nil)
	if err != nil {
		r.err = err
		return r
	}
	defer target.Stop()
	runner := &wirekit.Runner{Target: target, Settings: s, Jobs: 2}
	r.results, r.err = runner.Run(ctx, cases)
	r.restarts = runner.Restarts
	return r
}
