package conformance

import (
	"os"
	"strings"
	"testing"
)

// TestCatalogue keeps the catalogue, doc.go and the wire cases in step: every check
// has a unique name, a statement and a source and is listed in doc.go; every wire
// case names only checks of the catalogue; every check is exercised by a wire case,
// a scenario or the model.
func TestCatalogue(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, c := range Catalogue {
		if seen[c.Name] {
			t.Errorf("check %s listed twice", c.Name)
		}
		seen[c.Name] = true
		if c.Statement == "" || c.Source == "" || c.Tests == "" {
			t.Errorf("check %s lacks a statement, a source or its tests", c.Name)
		}
		if !strings.Contains(string(doc), "//\t"+c.Name+"\n") {
			t.Errorf("check %s is not listed in doc.go", c.Name)
		}
		if _, ok := CheckByName(c.Name); !ok {
			t.Errorf("CheckByName(%s) finds nothing", c.Name)
		}
	}
	for _, wc := range WireCases {
		if len(wc.Checks) == 0 {
			t.Errorf("wire case %s names no check", wc.Name)
		}
		for _, name := range wc.Checks {
			if !seen[name] {
				t.Errorf("wire case %s names %s, not in the catalogue", wc.Name, name)
			}
		}
	}
}
