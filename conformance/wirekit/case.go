package wirekit

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Level says how strongly a case's rule binds a broker.
type Level int

// The levels, from RFC 2119's words plus ebwrk's own extensions.
const (
	Must Level = iota
	Should
	May
	Extension
)

// String returns "MUST", "SHOULD", "MAY" or "ebwrk".
func (l Level) String() string {
	switch l {
	case Must:
		return "MUST"
	case Should:
		return "SHOULD"
	case May:
		return "MAY"
	}
	return "ebwrk"
}

// ParseLevel reads a level as String writes it (any case).
func ParseLevel(s string) (Level, error) {
	for l := Must; l <= Extension; l++ {
		if strings.EqualFold(s, l.String()) {
			return l, nil
		}
	}
	return 0, fmt.Errorf("wirekit: level %q: want MUST, SHOULD, MAY or ebwrk", s)
}

// Settings are what the kit must know of the broker under test.
type Settings struct {
	// Heartbeat is the broker's heartbeat interval; the kit's workers use it too.
	Heartbeat time.Duration
	// Liveness is how many intervals the broker lets a worker stay silent.
	Liveness int
	// QueueExpiry is how long the broker keeps a request for a service without
	// workers; zero means it never expires them (the expiry cases then fail, as the
	// SHOULD of RFC 7 asks a broker to expire).
	QueueExpiry time.Duration
	// Tolerance is how late a timed event may be on the wall clock (a heartbeat,
	// a purge); zero means half an interval, and at least 100 ms.
	Tolerance time.Duration
}

// Defaults are ebwrkapi's settings, which ebbroker uses unless told otherwise.
var Defaults = Settings{Heartbeat: time.Second, Liveness: 3, QueueExpiry: 3 * time.Second}

// Case is one conformance case: a small script of raw peers, the rule it checks and
// where the rule comes from.
type Case struct {
	// ID is the stable name, "group/name"; a prefix selects a group.
	ID string
	// RFC names the specification and section, e.g. "7 MDP/Worker rule 5".
	RFC string
	// Level is how strongly the rule binds.
	Level Level
	// Rule says in one line what the broker must do.
	Rule string
	// Mutant names a broken ebbroker (a mutant of conformance's tests) that fails
	// this case; Unreachable says instead why no mutant of core can break the rule.
	Mutant      string
	Unreachable string
	// Bound is the most the case may take, in heartbeat intervals, plus the queue
	// expiry and ten seconds (the waits for what must come at once last at least two
	// seconds each), plus twenty for a Solo case.
	Bound int
	// Solo cases run with nothing else at the same time: they load the broker or
	// measure time closely.
	Solo bool
	// Run is the script.
	Run func(t *T)
}

// Timeout returns the case's bound for the given settings.
func (c *Case) Timeout(s Settings) time.Duration {
	d := time.Duration(c.Bound)*s.Heartbeat + max(s.QueueExpiry, 0) + 10*time.Second
	if c.Solo {
		d += 20 * time.Second // the heavy cases, whose pace is the machine's
	}
	return d
}

// Catalogue returns every case, ordered by ID group as written.
func Catalogue() []*Case {
	var all []*Case
	for _, group := range [][]*Case{clientCases, workerCases, heartbeatCases, mmiCases, robustCases, ebwrkCases} {
		all = append(all, group...)
	}
	return all
}

// Select returns the cases whose ID equals or starts with one of patterns (a
// prefix ends at a "/" or is the whole ID) and whose level is in levels; no
// patterns select every case, no levels every level. An unknown pattern is an error.
func Select(all []*Case, patterns []string, levels []Level) ([]*Case, error) {
	match := func(c *Case, p string) bool {
		p = strings.TrimSuffix(p, "/")
		return c.ID == p || strings.HasPrefix(c.ID, p+"/")
	}
	for _, p := range patterns {
		if !slices.ContainsFunc(all, func(c *Case) bool { return match(c, p) }) {
			return nil, fmt.Errorf("wirekit: no case %q (see --list)", p)
		}
	}
	var out []*Case
	for _, c := range all {
		if len(levels) > 0 && !slices.Contains(levels, c.Level) {
			continue
		}
		if len(patterns) == 0 || slices.ContainsFunc(patterns, func(p string) bool { return match(c, p) }) {
			out = append(out, c)
		}
	}
	return out, nil
}
