package sim

// WithDefaults returns the scenario with every zero field at its default, as Run
// sees it: the live driver (package live) runs the same scenario.
func (s Scenario) WithDefaults() Scenario { return s.withDefaults() }
