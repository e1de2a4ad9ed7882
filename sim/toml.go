package sim

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

var lastKey = regexp.MustCompile(`^toml: (line \d+)? ?\(last key "([^"]*)"\): (.*)$`)

// ParseScenario reads a scenario in the TOML format of SCENARIOS.md. Unknown keys
// and invalid values are errors that name the field; a file without a name gets
// defaultName.
func ParseScenario(data []byte, defaultName string) (Scenario, error) {
	var s Scenario
	md, err := toml.Decode(string(data), &s)
	if err != nil {
		var pe toml.ParseError
		if pp := (*toml.ParseError)(nil); errors.As(err, &pp) {
			pe = *pp
		}
		if errors.As(err, &pe) || pe.Message != "" {
			if pe.LastKey != "" {
				return Scenario{}, &FieldError{Field: pe.LastKey, Reason: fmt.Sprintf("line %d: %s", pe.Position.Line, pe.Message)}
			}
			return Scenario{}, fmt.Errorf("sim: scenario: line %d: %s", pe.Position.Line, pe.Message)
		}
		// Type mismatches come as plain errors: toml: line 3 (last key "k"): why.
		if m := lastKey.FindStringSubmatch(err.Error()); m != nil {
			return Scenario{}, &FieldError{Field: m[2], Reason: strings.TrimSpace(m[1] + " " + m[3])}
		}
		return Scenario{}, fmt.Errorf("sim: scenario: %w", err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		keys := make([]string, len(und))
		for i, k := range und {
			keys[i] = k.String()
		}
		return Scenario{}, &FieldError{Field: keys[0], Reason: "unknown key (known keys: see SCENARIOS.md)"}
	}
	if s.Name == "" {
		s.Name = defaultName
	}
	if err := s.Validate(); err != nil {
		return Scenario{}, err
	}
	return s, nil
}

// LoadScenario reads a scenario file (see ParseScenario); its base name without
// extension is the default name.
func LoadScenario(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("sim: %w", err)
	}
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	s, err := ParseScenario(data, name)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

// EncodeScenario writes s in the TOML format ParseScenario reads, so that a scenario
// built in Go (a shrunk replay, for instance) can be saved and run by ebsim.
func EncodeScenario(w io.Writer, s Scenario) error {
	if err := toml.NewEncoder(w).Encode(s); err != nil {
		return fmt.Errorf("sim: encode scenario: %w", err)
	}
	return nil
}
