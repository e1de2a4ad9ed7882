package conformance

import (
	"flag"
	"os"
	"testing"
)

// TestMain sets rapid's defaults for this package unless the command line sets them:
// no fail files written into testdata (a failure prints the -rapid.seed that replays
// it), 1000 checks of about 50 actions each (a run of the property takes
// milliseconds of wall time).
func TestMain(m *testing.M) {
	flag.Parse()
	given := map[string]bool{}
	flag.Visit(func(f *flag.Flag) { given[f.Name] = true })
	for name, value := range map[string]string{"rapid.nofailfile": "true", "rapid.checks": "1000", "rapid.steps": "50"} {
		if given[name] || (name == "rapid.nofailfile" && given["rapid.failfile"]) {
			continue
		}
		if err := flag.Set(name, value); err != nil {
			panic(err)
		}
	}
	os.Exit(m.Run())
}
