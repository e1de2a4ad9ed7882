package conformance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestMutantsApply checks, without building anything, that every mutant still
// applies: its Old text occurs exactly once in its File. TestMutants and
// TestWireKitMutants would find a stale mutant too, but only after minutes of
// builds; this says so at once, and names it.
func TestMutantsApply(t *testing.T) {
	root, err := moduleRoot()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, list := range [][]mutant{mutants, wireMutants} {
		for _, m := range list {
			if names[m.Name] {
				t.Errorf("mutant name %s is used twice", m.Name)
			}
			names[m.Name] = true
			src, err := os.ReadFile(filepath.Join(root, m.File))
			if err != nil {
				t.Errorf("mutant %s: %v", m.Name, err)
				continue
			}
			if n := strings.Count(string(src), m.Old); n != 1 {
				t.Errorf("mutant %s: its text occurs %d times in %s, want exactly once", m.Name, n, m.File)
			}
		}
	}
}
