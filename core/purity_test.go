package core

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	forbidden := map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true,
		"After": true, "AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true}
	fset := token.NewFileSet()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		checked++
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.GoStmt:
				t.Errorf("%s: core starts a goroutine", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && forbidden[n.Sel.Name] {
					t.Errorf("%s: core calls time.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}
