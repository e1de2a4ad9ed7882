package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"

	"github.com/ebwrk/ebwrk/internal/findbin"
	"github.com/ebwrk/ebwrk/live"
	"github.com/ebwrk/ebwrk/sim"
)

const scenarioHelp = `Usage: ebconform scenario [flags] NAME|FILE

Runs a catalogue scenario (see 'ebsim list') or a scenario TOML file live: the
broker as a process of its own (ebbroker, or the --exec command with {frontend}
and {backend} placeholders; the clients then speak standard MDP/0.1), each worker
as a process of its own, the clients in this process, each peer behind a
ZMTP-aware proxy. Faults are real: crash = SIGKILL of a worker process, restart =
SIGKILL and a new process, pause = SIGSTOP/SIGCONT, slow handler = the worker
sleeps, heartbeat loss and partitions in the proxies, broker restart = SIGKILL
and a new broker on the same ports, malformed = a hostile raw peer. Message drop,
duplication, reordering, delay and clock skew stay sim-only and are named as
skipped. Live time is the scenario's time one for one.

It prints the live figures side by side with the sim's for the same scenario and
seed, and the live checker's verdict (the guarantees judged from the clients'
outcomes, the broker's events and the processes' lifetimes).
Exit status: 0 both verdicts hold and every row agrees within its band, 1
otherwise, 2 usage error or a run that could not be set up.

Flags:
`

// scenarioFlags are what the scenario command's flags say.
type scenarioFlags struct {
	source    string
	seed      uint64
	exec      string
	json      bool
	brokerBin string
	verbose   bool
}

func parseScenario(args []string, stdout, stderr io.Writer) (scenarioFlags, int) {
	var f scenarioFlags
	fs := flag.NewFlagSet("scenario", flag.ContinueOnError)
	fs.Uint64Var(&f.seed, "seed", 1, "seed of the sim run and of the live run's random draws")
	fs.StringVar(&f.exec, "exec", "", "shell `command` that starts the broker, with {frontend} and {backend} placeholders (default: ebbroker)")
	fs.BoolVar(&f.json, "json", false, "print sim and live figures, rows and violations as JSON")
	fs.StringVar(&f.brokerBin, "broker-bin", "", "ebbroker `path` (default: next to ebconform, else on PATH)")
	fs.BoolVar(&f.verbose, "v", false, "print each fault to stderr as it is applied")
	// Flags may follow the scenario name.
	var rest []string
	for {
		if code := parseFlags(fs, args, scenarioHelp, stdout, stderr); code >= 0 {
			return f, code
		}
		if fs.NArg() == 0 {
			break
		}
		rest = append(rest, fs.Arg(0))
		args = fs.Args()[1:]
	}
	usageErr := func(format string, a ...any) (scenarioFlags, int) {
		fmt.Fprintf(stderr, "ebconform scenario: "+format+" (see ebconform scenario -h)\n", a...)
		return f, 2
	}
	switch {
	case len(rest) == 0:
		return usageErr("give a scenario name or file")
	case len(rest) > 1:
		return usageErr("give one scenario, got %q", rest)
	case f.exec != "" && !strings.Contains(f.exec, "{frontend}"):
		return usageErr("--exec: the command has no {frontend} placeholder")
	}
	f.source = rest[0]
	return f, -1
}

// loadScenario returns the catalogue scenario called arg, or the scenario in file arg.
func loadScenario(arg string) (sim.Scenario, error) {
	if s, ok := sim.Lookup(arg); ok {
		return s, nil
	}
	if strings.HasSuffix(arg, ".toml") || strings.ContainsRune(arg, os.PathSeparator) {
		return sim.LoadScenario(arg)
	}
	if _, err := os.Stat(arg); err == nil {
		return sim.LoadScenario(arg)
	}
	var names []string
	for _, s := range sim.Catalogue() {
		names = append(names, s.Name)
	}
	return sim.Scenario{}, fmt.Errorf("no scenario %q in the catalogue (%s) and no such file", arg, strings.Join(names, ", "))
}

// liveOptions finds the programs a live run starts: ebbroker (unless --exec) and
// this executable again as the workers.
func liveOptions(exec, brokerBin string, log io.Writer) (live.Options, error) {
	self, err := os.Executable()
	if err != nil {
		return live.Options{}, fmt.Errorf("find ebconform's executable: %w", err)
	}
	opt := live.Options{Exec: exec, WorkerBin: self, WorkerArgs: []string{live.WorkerCommand}, Log: log}
	if exec == "" {
		if opt.BrokerBin, err = findBroker(brokerBin, self); err != nil {
			return opt, err
		}
	}
	return opt, nil
}

// findBroker returns the ebbroker to start (findbin.Broker): --broker-bin, else one
// next to self, else one on PATH.
func findBroker(flagValue, self string) (string, error) {
	return findbin.Broker(flagValue, self, errors.New("no ebbroker next to ebconform nor on PATH: build both "+
		"(go build -o bin/ ./cmd/ebbroker ./cmd/ebconform), or pass --broker-bin or --exec"))
}

// runScenario is the scenario command.
func runScenario(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	f, code := parseScenario(args, stdout, stderr)
	if code >= 0 {
		return code
	}
	sc, err := loadScenario(f.source)
	if err != nil {
		fmt.Fprintf(stderr, "ebconform scenario: %v\n", err)
		return 2
	}
	var log io.Writer
	if f.verbose {
		log = stderr
	}
	opt, err := liveOptions(f.exec, f.brokerBin, log)
	if err != nil {
		fmt.Fprintf(stderr, "ebconform scenario: %v\n", err)
		return 2
	}
	res, err := live.Run(ctx, sc, f.seed, opt)
	if err != nil {
		fmt.Fprintf(stderr, "ebconform scenario: %v\n", err)
		return 2
	}
	rows, agree := live.Compare(res, sc)
	if f.json {
		err = writeScenarioJSON(stdout, res, rows, agree)
	} else {
		err = writeScenarioText(stdout, res, rows, agree, f)
	}
	if err != nil {
		fmt.Fprintf(stderr, "ebconform scenario: %v\n", err)
		return 1
	}
	if !agree {
		return 1
	}
	return 0
}

// scenarioJSON is the --json output.
type scenarioJSON struct {
	Agree    bool         `json:"agree"`
	Scenario string       `json:"scenario"`
	Seed     uint64       `json:"seed"`
	Rows     []live.Row   `json:"rows"`
	Sim      *sim.Result  `json:"sim"`
	Live     *live.Result `json:"live"`
}

func writeScenarioJSON(w io.Writer, res *live.Result, rows []live.Row, agree bool) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(scenarioJSON{Agree: agree, Scenario: res.Scenario, Seed: res.Seed, Rows: rows, Sim: res.Sim, Live: res})
}

// newTable returns a table writing to w, as a terminal box or as Markdown.
func newTable(w io.Writer, markdown bool) *tablewriter.Table {
	opts := []tablewriter.Option{
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	}
	if markdown {
		opts = append(opts, tablewriter.WithRenderer(renderer.NewMarkdown()))
	}
	return tablewriter.NewTable(w, opts...)
}

// writeRows writes the side-by-side table.
func writeRows(w io.Writer, rows []live.Row, markdown bool) error {
	t := newTable(w, markdown)
	t.Header("", "sim", "live", "agreement")
	for _, r := range rows {
		a := "agree"
		switch {
		case !r.Agree && r.Gate:
			a = "DIFFERS"
		case !r.Agree:
			a = "differs, not gating"
		}
		if err := t.Append([]string{r.Name, r.Sim, r.Live, a + " (" + r.Note + ")"}); err != nil {
			return err
		}
	}
	return t.Render()
}

func writeScenarioText(w io.Writer, res *live.Result, rows []live.Row, agree bool, f scenarioFlags) error {
	fmt.Fprintf(w, "scenario %s, seed %d, live for %v\n", res.Scenario, res.Seed, res.Metrics.Elapsed.Round(time.Millisecond))
	if err := writeRows(w, rows, false); err != nil {
		return err
	}
	writeNotes(w, res)
	verdict := "sim and live agree"
	if !agree {
		verdict = "sim and live DO NOT agree"
	}
	_, err := fmt.Fprintln(w, verdict)
	return err
}

// writeNotes prints what was skipped, not judged, and every violation.
func writeNotes(w io.Writer, res *live.Result) {
	if len(res.Skipped) > 0 {
		fmt.Fprintf(w, "skipped (sim-only): %s\n", strings.Join(res.Skipped, ", "))
	}
	for _, n := range res.NotJudged {
		fmt.Fprintf(w, "not judged live: %s\n", n)
	}
	for _, v := range res.Sim.Violations {
		fmt.Fprintf(w, "sim violation: %s\n", v.String())
	}
	for _, v := range res.Violations {
		fmt.Fprintf(w, "live violation: %s at %v: %s\n", v.Guarantee, v.At.Round(time.Millisecond), v.Detail)
	}
}

// runLiveWorker is the hidden worker subcommand of live runs.
func runLiveWorker(ctx context.Context, args []string, _, stderr io.Writer) int {
	return live.WorkerMain(ctx, args, os.Stdin, stderr)
}
