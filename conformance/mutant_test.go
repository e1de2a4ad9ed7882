package conformance

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"
	"time"
)

// mutantFilter keeps only the mutants whose names match it, to run a few alone.
var mutantFilter = flag.String("mutants", "", "run only the mutants whose names match this regexp")

// innerEnv is set in the environment of the conformance run inside a mutated copy,
// so that it does not test mutants itself.
const innerEnv = "EBWRK_CONFORMANCE_INNER"

// innerTests are the fast, deterministic conformance tests a mutant must fail: the
// wire cases on transport/mem, the scripted scenarios, and the state-machine property
// with a fixed seed.
var innerArgs = []string{"test", "./conformance", "-count=1",
	"-run", "^(TestWireMem|TestScenarios|TestProperties|FuzzBroker)$",
	"-rapid.seed=1", "-rapid.checks=300", "-rapid.shrinktime=2s"}

var (
	checkRE = regexp.MustCompile(`CHECK ([A-Z][0-9]-[a-z0-9-]+)`)
	failRE  = regexp.MustCompile(`(?m)^--- FAIL: ((?:Test|Fuzz)\w+)`)
)

// mutantResult is what the inner run of one mutant showed.
type mutantResult struct {
	applied bool
	failed  bool
	checks  []string // the checks named in the failure output
	tests   []string // the top-level tests that failed
	out     string
	wall    time.Duration
}

// TestMutants applies each mutant to a temporary copy of the module and runs the
// fast conformance tests there: each must fail, and name the check that caught it.
// The unmutated copy must pass the same run, or the kills would mean nothing. Two
// mutants run at a time and share the build cache.
func TestMutants(t *testing.T) {
	if os.Getenv(innerEnv) != "" {
		t.Skip("inside a mutant run")
	}
	root, files := moduleSources(t)
	// A bound on the whole matrix, not a speed target: about 3 minutes on this 2-core
	// VM with 19 mutants, two at a time; a loaded machine took past 4.
	ctx, cancel := context.WithTimeout(t.Context(), 8*time.Minute)
	defer cancel()

	base := runMutant(ctx, t, root, files, nil)
	if !base.applied || base.failed {
		t.Fatalf("the unmutated copy does not pass the inner run (%s):\n%s", strings.Join(innerArgs, " "), base.out)
	}
	t.Logf("unmutated copy passes the inner run in %v", base.wall.Round(time.Millisecond))

	mutants := mutants
	if *mutantFilter != "" {
		re, err := regexp.Compile(*mutantFilter)
		if err != nil {
			t.Fatalf("-mutants: %v", err)
		}
		mutants = slices.DeleteFunc(slices.Clone(mutants), func(m mutant) bool { return !re.MatchString(m.Name) })
	}
	results := make([]mutantResult, len(mutants))
	sem := make(chan struct{}, 2)
	var wg sync.WaitGroup
	for i := range mutants {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			results[i] = runMutant(ctx, t, root, files, &mutants[i])
		}()
	}
	wg.Wait()

	var table bytes.Buffer
	tw := tabwriter.NewWriter(&table, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "MUTANT\tKILLED BY\tFAILING TESTS\tWALL")
	killed := 0
	for i, m := range mutants {
		r := results[i]
		verdict := strings.Join(r.checks, ", ")
		switch {
		case !r.applied:
			verdict = "NO LONGER APPLIES"
		case !r.failed:
			verdict = "SURVIVED"
		case len(r.checks) == 0:
			verdict = "FAILED WITHOUT A CHECK"
		default:
			killed++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%v\n", m.Name, verdict, strings.Join(r.tests, " "), r.wall.Round(100*time.Millisecond))
	}
	tw.Flush()
	t.Logf("mutants killed: %d of %d\n%s", killed, len(mutants), table.String())
	for i, m := range mutants {
		r := results[i]
		switch {
		case !r.applied:
			t.Errorf("mutant %s no longer applies: %s", m.Name, r.out)
		case !r.failed:
			t.Errorf("mutant %s (%s) survived the conformance run", m.Name, m.Note)
		case len(r.checks) == 0:
			t.Errorf("mutant %s failed the run without naming a check:\n%s", m.Name, tail(r.out, 40))
		}
	}
}

// runMutant copies the module, applies m (nil: none) and runs the inner tests.
func runMutant(ctx context.Context, t *testing.T, root string, files []string, m *mutant) mutantResult {
	dir := t.TempDir()
	if err := copyFiles(root, dir, files); err != nil {
		return mutantResult{out: err.Error()}
	}
	if m != nil {
		if err := applyMutant(dir, m); err != nil {
			return mutantResult{out: err.Error()}
		}
	}
	start := time.Now()
	cmd := exec.CommandContext(ctx, filepath.Join(runtime.GOROOT(), "bin", "go"), innerArgs...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), innerEnv+"=1", "CGO_ENABLED=0", "GOPROXY=off", "GOWORK=off", "GOFLAGS=-buildvcs=false")
	out, err := cmd.CombinedOutput()
	r := mutantResult{applied: true, out: string(out), wall: time.Since(start)}
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit):
		r.failed = true
	default:
		r.failed = true
		r.out += "\n" + err.Error()
	}
	for _, sm := range checkRE.FindAllStringSubmatch(r.out, -1) {
		if !slices.Contains(r.checks, sm[1]) {
			r.checks = append(r.checks, sm[1])
		}
	}
	slices.Sort(r.checks)
	for _, sm := range failRE.FindAllStringSubmatch(r.out, -1) {
		if !slices.Contains(r.tests, sm[1]) {
			r.tests = append(r.tests, sm[1])
		}
	}
	slices.Sort(r.tests)
	return r
}

// applyMutant makes m's replacement in the copy at dir.
func applyMutant(dir string, m *mutant) error {
	path := filepath.Join(dir, filepath.FromSlash(m.File))
	src, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("%s: %w", m.File, err)
	}
	if n := bytes.Count(src, []byte(m.Old)); n != 1 {
		return fmt.Errorf("%s: the text to replace occurs %d times, want exactly once:\n%s", m.File, n, m.Old)
	}
	return os.WriteFile(path, bytes.Replace(src, []byte(m.Old), []byte(m.New), 1), 0o644)
}

// moduleSources returns the module root and the source files a mutated copy needs.
func moduleSources(t *testing.T) (string, []string) {
	t.Helper()
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	files, err := sourceFiles(root)
	if err != nil {
		t.Fatal(err)
	}
	return root, files
}

// moduleRoot finds the directory of go.mod above the test's working directory.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("conformance: no go.mod above the working directory")
		}
		dir = parent
	}
}

// maxCopy bounds the size of a file copied into a mutant's module: build artifacts
// (an ebsim binary left in cmd/ebsim) are not sources.
const maxCopy = 1 << 20

// sourceFiles lists the module's files: those git tracks or would track (untracked
// but not ignored), or, without git, every file outside .git; files over maxCopy
// bytes are left out.
func sourceFiles(root string) ([]string, error) {
	cmd := exec.Command("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard")
	cmd.Dir = root
	if out, err := cmd.Output(); err == nil {
		var files []string
		for _, f := range strings.Split(string(out), "\x00") {
			if f == "" {
				continue
			}
			if st, err := os.Lstat(filepath.Join(root, f)); err == nil && st.Mode().IsRegular() && st.Size() <= maxCopy {
				files = append(files, f)
			}
		}
		return files, nil
	}
	var files []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && d.Name() == ".git" {
			return filepath.SkipDir
		}
		if st, err := d.Info(); err == nil && st.Mode().IsRegular() && st.Size() <= maxCopy {
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	return files, err
}

// copyFiles copies files from root to dir, keeping their relative paths.
func copyFiles(root, dir string, files []string) error {
	for _, f := range files {
		src := filepath.Join(root, filepath.FromSlash(f))
		dst := filepath.Join(dir, filepath.FromSlash(f))
		data, err := os.ReadFile(src)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(dst, data, 0o644); err != nil {
			return err
		}
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
