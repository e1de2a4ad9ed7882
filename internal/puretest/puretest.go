// Package puretest holds the checks that keep ebwrk's pure packages (core,
// transport/mem) pure: no wall clock, no sleeps, no real timers, no goroutines.
// Tests of those packages call it on their own directory.
package puretest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// forbiddenTime lists the functions of package time that read the wall clock, sleep
// or arm a real timer.
var forbiddenTime = map[string]bool{"Now": true, "Since": true, "Until": true, "Sleep": true,
	"After": true, "AfterFunc": true, "Tick": true, "NewTimer": true, "NewTicker": true}

// NoClockOrGoroutines fails t when a non-test Go file in dir calls one of the
// forbidden time functions or starts a goroutine. It also fails when it finds no file
// to check, so that it never passes vacuously.
func NoClockOrGoroutines(t testing.TB, dir string) {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
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
				t.Errorf("%s: starts a goroutine", fset.Position(n.Pos()))
			case *ast.SelectorExpr:
				if id, ok := n.X.(*ast.Ident); ok && id.Name == "time" && forbiddenTime[n.Sel.Name] {
					t.Errorf("%s: calls time.%s", fset.Position(n.Pos()), n.Sel.Name)
				}
			}
			return true
		})
	}
	if checked == 0 {
		t.Fatalf("no source files checked in %s", dir)
	}
}
