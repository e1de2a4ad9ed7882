package mem

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ebwrk/ebwrk/internal/puretest"
)

// TestStandardLibraryOnly fails when the package depends, directly or not, on anything
// but the standard library (so it builds with CGO_ENABLED=0 anywhere).
func TestStandardLibraryOnly(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f",
		`{{if not .Standard}}{{.ImportPath}}{{end}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list listed nothing; the check would pass vacuously")
	}
	for _, d := range deps {
		if d != "github.com/ebwrk/ebwrk/transport/mem" {
			t.Errorf("transport/mem depends on %q, outside the standard library", d)
		}
	}
}

// TestNoWallClock fails when a non-test file reads the wall clock, sleeps, arms a real
// timer or starts a goroutine: everything runs on the virtual Clock.
func TestNoWallClock(t *testing.T) {
	puretest.NoClockOrGoroutines(t, ".")
}
