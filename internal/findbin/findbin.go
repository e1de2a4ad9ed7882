// Package findbin finds the ebbroker binary that ebbench and ebconform start. It
// builds nothing: a tool that compiled on the fly would depend on the working
// directory and a Go toolchain.
package findbin

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// Broker returns the ebbroker to run: flagValue when given (a path, or a name looked
// up on PATH), else an executable ebbroker in the directory of self (the running
// program), else one on PATH, else the error none.
func Broker(flagValue, self string, none error) (string, error) {
	if flagValue != "" {
		p, err := exec.LookPath(flagValue)
		if err != nil {
			return "", fmt.Errorf("--broker-bin %s: %w", flagValue, err)
		}
		return p, nil
	}
	next := filepath.Join(filepath.Dir(self), "ebbroker")
	if st, err := os.Stat(next); err == nil && !st.IsDir() && st.Mode()&0o111 != 0 {
		return next, nil
	}
	if p, err := exec.LookPath("ebbroker"); err == nil {
		return p, nil
	}
	return "", none
}
