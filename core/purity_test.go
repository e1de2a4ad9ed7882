package core

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/ebwrk/ebwrk/internal/puretest"
)

// allowedImports lists the packages core may depend on, directly or not: the standard
// library minus clock, I/O, logging, networking and randomness.
var allowedImports = map[string]bool{
	"bytes": true, "encoding/binary": true, "encoding/hex": true, "errors": true,
	"fmt": true, "slices": true, "strconv": true, "strings": true, "time": true,
	"unicode/utf8": true, "math": true, "cmp": true, "iter": true,
}

// TestCoreImports fails when core imports anything beyond allowedImports (directly):
// the core stays pure.
func TestCoreImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	imports := strings.Fields(string(out))
	if len(imports) == 0 {
		t.Fatal("go list found no imports; the check would pass vacuously")
	}
	for _, imp := range imports {
		if !allowedImports[imp] {
			t.Errorf("core imports %q, which is not allowed (clock, I/O, logging, network, randomness stay out)", imp)
		}
	}
}

// TestCoreHasNoClockOrGoroutines fails when a non-test file of core reads the clock,
// sleeps, arms a timer or starts a goroutine.
func TestCoreHasNoClockOrGoroutines(t *testing.T) {
	puretest.NoClockOrGoroutines(t, ".")
}
