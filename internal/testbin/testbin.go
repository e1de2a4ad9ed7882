// Package testbin runs the tests of a package that start ebbroker as a process of its
// own: the broker is built once per test binary, into a temporary directory removed
// afterwards, and the test binary itself serves as the package's child processes.
package testbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BrokerPackage is the import path of the broker the tests run.
const BrokerPackage = "github.com/ebwrk/ebwrk/cmd/ebbroker"

// RunWithBroker builds ebbroker, stores its path in *broker, sets the environment
// variable childEnv to "1" (so that the children this test binary starts from its own
// executable take their child path in TestMain) and returns m.Run's exit code; 1 when
// the build fails, with go build's output on stderr.
func RunWithBroker(m *testing.M, childEnv string, broker *string) int {
	dir, err := os.MkdirTemp("", "ebwrk-testbin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	*broker = filepath.Join(dir, "ebbroker")
	out, err := exec.Command("go", "build", "-o", *broker, BrokerPackage).CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "go build ebbroker: %v\n%s", err, out)
		return 1
	}
	if err := os.Setenv(childEnv, "1"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}
