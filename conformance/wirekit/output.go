package wirekit

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// Totals counts results.
type Totals struct {
	Pass  int `json:"pass"`
	Fail  int `json:"fail"`
	Skip  int `json:"skip"`
	Total int `json:"total"`
}

// Count returns the totals of results.
func Count(results []Result) Totals {
	var t Totals
	for _, r := range results {
		switch r.Result {
		case Pass:
			t.Pass++
		case Fail:
			t.Fail++
		default:
			t.Skip++
		}
	}
	t.Total = len(results)
	return t
}

// WriteTable prints one line per case: id, RFC and section, level, result, what
// was seen; then the totals.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRFC\tLEVEL\tRESULT\tSEEN")
	for _, r := range results {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Case.ID, r.Case.RFC, r.Case.Level, r.Result, oneLine(r.Detail))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	t := Count(results)
	_, err := fmt.Fprintf(w, "\n%d cases: %d passed, %d failed, %d skipped\n", t.Total, t.Pass, t.Fail, t.Skip)
	return err
}

// WriteList prints the catalogue: id, RFC and section, level, rule.
func WriteList(w io.Writer, cases []*Case) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CASE\tRFC\tLEVEL\tRULE")
	for _, c := range cases {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", c.ID, c.RFC, c.Level, c.Rule)
	}
	return tw.Flush()
}

func oneLine(s string) string { return strings.ReplaceAll(s, "\n", " ") }

// jsonCase is one case in the JSON output.
type jsonCase struct {
	ID        string `json:"id"`
	RFC       string `json:"rfc"`
	Level     string `json:"level"`
	Rule      string `json:"rule"`
	Result    string `json:"result"`
	Detail    string `json:"detail"`
	ElapsedMS int64  `json:"elapsed_ms"`
}

// Report is the JSON output of a run.
type Report struct {
	Target   string     `json:"target"`
	Settings jsonSet    `json:"settings"`
	Cases    []jsonCase `json:"cases"`
	Totals   Totals     `json:"totals"`
	Restarts int        `json:"restarts"`
}

type jsonSet struct {
	Heartbeat   string `json:"heartbeat"`
	Liveness    int    `json:"liveness"`
	QueueExpiry string `json:"queue_expiry"`
	Tolerance   string `json:"tolerance"`
}

// WriteJSON prints the run as one JSON object: target, settings, cases, totals and
// how many times the broker was restarted.
func WriteJSON(w io.Writer, target string, s Settings, restarts int, results []Result) error {
	rep := Report{Target: target, Restarts: restarts, Totals: Count(results),
		Settings: jsonSet{s.Heartbeat.String(), s.Liveness, s.QueueExpiry.String(), s.Tolerance.String()}}
	for _, r := range results {
		rep.Cases = append(rep.Cases, jsonCase{ID: r.Case.ID, RFC: r.Case.RFC, Level: r.Case.Level.String(),
			Rule: r.Case.Rule, Result: r.Result, Detail: r.Detail, ElapsedMS: r.Elapsed.Milliseconds()})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

// junitSuite and junitCase are the JUnit XML CI systems read.
type junitSuite struct {
	XMLName  xml.Name    `xml:"testsuite"`
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Skipped  int         `xml:"skipped,attr"`
	Time     string      `xml:"time,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string     `xml:"name,attr"`
	Classname string     `xml:"classname,attr"`
	Time      string     `xml:"time,attr"`
	Failure   *junitText `xml:"failure,omitempty"`
	Skipped   *junitText `xml:"skipped,omitempty"`
	Output    string     `xml:"system-out,omitempty"`
}

type junitText struct {
	Message string `xml:"message,attr"`
}

// WriteJUnit prints the results as a JUnit XML test suite.
func WriteJUnit(w io.Writer, results []Result) error {
	t := Count(results)
	s := junitSuite{Name: "ebconform wire", Tests: t.Total, Failures: t.Fail, Skipped: t.Skip}
	var total time.Duration
	for _, r := range results {
		total += r.Elapsed
		c := junitCase{Name: r.Case.ID, Classname: "RFC " + r.Case.RFC + " " + r.Case.Level.String(),
			Time: seconds(r.Elapsed)}
		switch r.Result {
		case Fail:
			c.Failure = &junitText{Message: r.Detail}
		case Skip:
			c.Skipped = &junitText{Message: r.Detail}
		default:
			c.Output = r.Detail
		}
		s.Cases = append(s.Cases, c)
	}
	s.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(s); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

// WriteMarkdown prints the catalogue with a run's results as a Markdown report:
// every case with its rule, the mutant that breaks it (or why none can), and the
// result against the target. what names the target and the command that wrote it.
func WriteMarkdown(w io.Writer, what, command string, s Settings, results []Result) error {
	t := Count(results)
	var b strings.Builder
	b.WriteString("# Conformance: ebconform wire\n\n")
	fmt.Fprintf(&b, "Written by:\n\n```\n%s\n```\n\n", command)
	fmt.Fprintf(&b, "Target: %s. Settings: heartbeat %v, liveness %d, queue expiry %v.\n\n", what, s.Heartbeat, s.Liveness, s.QueueExpiry)
	fmt.Fprintf(&b, "%d cases: %d passed, %d failed, %d skipped. The timings in \"seen\" come from the wall\n", t.Total, t.Pass, t.Fail, t.Skip)
	b.WriteString("clock, so this file is not byte-for-byte reproducible; the verdicts are.\n\n")
	b.WriteString("\"Killed by\" names the broken ebbroker (a mutant of core, see conformance/wire_mutants_test.go\n")
	b.WriteString("and conformance/mutants_test.go) that fails the case; `go test ./conformance -run TestWireKitMutants\n")
	b.WriteString("-args -wirekit.mutants=all` checks every claim.\n\n")
	b.WriteString("| Case | RFC | Level | Rule | Killed by | Result | Seen |\n|---|---|---|---|---|---|---|\n")
	for _, r := range results {
		killer := "`" + r.Case.Mutant + "`"
		if r.Case.Mutant == "" {
			killer = "none can: " + r.Case.Unreachable
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s | %s | %s | %s |\n", r.Case.ID, md(r.Case.RFC), r.Case.Level,
			md(r.Case.Rule), md(killer), r.Result, md(oneLine(r.Detail)))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func md(s string) string { return strings.ReplaceAll(s, "|", "\\|") }
