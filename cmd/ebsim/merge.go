package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/ebwrk/ebwrk/sim"
)

const mergeHelp = `Usage: ebsim merge [--json] FILE|DIR...

Merges the lines that the shards of one sweep wrote (ebsim sweep ... --shard I/N
--out FILE) and prints the summary of the whole sweep, byte for byte what an
unsharded "ebsim sweep" of the same seeds prints. A DIR stands for the *.jsonl files
in it. Every seed of the sweep must be present exactly once, and every line must come
from the same scenario definition, the same ebsim build and the same line format.
Exit status: 0 every seed passed, 1 some seed violated a guarantee, 2 usage error or
shard files that do not make up one sweep (the message says what is wrong).

`

// maxLine bounds one line of a shard file (a seed with many violations is long).
const maxLine = 64 << 20

// mergeError is a reason why shard files do not make up one sweep.
type mergeError struct{ msg string }

func (e *mergeError) Error() string { return "ebsim merge: " + e.msg }

func mergeErrorf(format string, args ...any) error {
	return &mergeError{fmt.Sprintf(format, args...)}
}

func cmdMerge(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("merge", mergeHelp, stdout, stderr)
	asJSON := fs.Bool("json", false, "print the summary as JSON, as sweep --json does")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return flagExit(err)
	}
	if len(pos) == 0 {
		fmt.Fprintln(stderr, "ebsim merge: want the shard files (or directories of *.jsonl) to merge")
		return exitUsage
	}
	files, err := expandDirs(pos)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	res, err := mergeFiles(files)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	if *asJSON {
		err = writeJSON(stdout, res)
	} else {
		err = writeSweep(stdout, res, "")
	}
	if err != nil {
		fmt.Fprintln(stderr, "ebsim:", err)
		return exitViolation
	}
	if len(res.Failed) > 0 {
		return exitViolation
	}
	return exitOK
}

// expandDirs replaces each directory in paths by the *.jsonl files in it, sorted.
func expandDirs(paths []string) ([]string, error) {
	var files []string
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return nil, mergeErrorf("%v", err)
		}
		if !st.IsDir() {
			files = append(files, p)
			continue
		}
		m, err := filepath.Glob(filepath.Join(p, "*.jsonl"))
		if err != nil {
			return nil, mergeErrorf("%s: %v", p, err)
		}
		if len(m) == 0 {
			return nil, mergeErrorf("%s: no *.jsonl files in the directory", p)
		}
		files = append(files, m...)
	}
	return files, nil
}

// merger gathers the lines of one sweep and checks that they make it up exactly.
type merger struct {
	id    sweepID
	idAt  string   // where id was read: "FILE:LINE"
	where []string // by seed offset: where that seed's line was read
	seeds []sim.SeedResult
}

// mergeFiles reads every line of files and returns the summary of the sweep they
// make up, or a *mergeError that says why they do not.
func mergeFiles(files []string) (*sim.SweepResult, error) {
	m := &merger{}
	for _, f := range files {
		if err := m.readFile(f); err != nil {
			return nil, err
		}
	}
	if m.idAt == "" {
		return nil, mergeErrorf("no seed results in %s", strings.Join(files, ", "))
	}
	var missing []uint64
	for i, at := range m.where {
		if at == "" {
			missing = append(missing, m.id.First+uint64(i))
		}
	}
	if len(missing) > 0 {
		return nil, mergeErrorf("%d of the %d seeds of the sweep (%s) are missing: %s (is a shard file missing?)",
			len(missing), m.id.Seeds, seedRange(m.id.First, m.id.Seeds), seedList(missing))
	}
	return sim.Summarize(m.id.Scenario, m.seeds), nil
}

func (m *merger) readFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return mergeErrorf("%v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), maxLine)
	n := 0
	for sc.Scan() {
		n++
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := m.add(sc.Bytes(), path+":"+strconv.Itoa(n)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return mergeErrorf("%s: %v", path, err)
	}
	return nil
}

// add checks one line, read at at, against the sweep and keeps its seed.
func (m *merger) add(line []byte, at string) error {
	var head struct {
		Format string `json:"format"`
	}
	if err := json.Unmarshal(line, &head); err != nil || head.Format == "" {
		return mergeErrorf("%s: not a line of ebsim sweep --out (want JSON with \"format\": %q)", at, sweepFormat)
	}
	if head.Format != sweepFormat {
		return mergeErrorf("%s: line format %q, but this ebsim reads %q: merge with the ebsim that wrote it", at, head.Format, sweepFormat)
	}
	var l seedLine
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&l); err != nil {
		return mergeErrorf("%s: malformed %s line: %v", at, sweepFormat, err)
	}
	if m.idAt == "" {
		if l.Seeds < 1 || l.First+uint64(l.Seeds)-1 < l.First {
			return mergeErrorf("%s: a sweep of %d seeds from %d is not a valid sweep", at, l.Seeds, l.First)
		}
		m.id, m.idAt = l.sweepID, at
		m.where = make([]string, l.Seeds)
		m.seeds = make([]sim.SeedResult, l.Seeds)
	}
	if err := m.sameSweep(l.sweepID, at); err != nil {
		return err
	}
	if l.Seed < m.id.First || l.Seed-m.id.First >= uint64(m.id.Seeds) {
		return mergeErrorf("%s: seed %d is outside the sweep's seeds %s", at, l.Seed, seedRange(m.id.First, m.id.Seeds))
	}
	i := l.Seed - m.id.First
	if m.where[i] != "" {
		return mergeErrorf("seed %d appears twice, at %s and at %s (was a shard merged twice?)", l.Seed, m.where[i], at)
	}
	m.where[i] = at
	m.seeds[i] = l.SeedResult
	return nil
}

// sameSweep checks that a line read at at belongs to the sweep of the first line.
func (m *merger) sameSweep(id sweepID, at string) error {
	a, ref := id, m.id
	switch {
	case a.Scenario != ref.Scenario:
		return mergeErrorf("mixed scenarios: %s is from a sweep of %q, %s of %q", at, a.Scenario, m.idAt, ref.Scenario)
	case a.ScenarioHash != ref.ScenarioHash:
		return mergeErrorf("mixed scenario definitions: %s and %s both sweep %q, but its definitions differ (scenario hash %s, %s)",
			at, m.idAt, a.Scenario, a.ScenarioHash, ref.ScenarioHash)
	case a.Build != ref.Build:
		return mergeErrorf("mixed ebsim versions: %s was written by build %s, %s by build %s: rerun the shards with one build",
			at, a.Build, m.idAt, ref.Build)
	case a.First != ref.First || a.Seeds != ref.Seeds:
		return mergeErrorf("mixed sweeps: %s is from a sweep of seeds %s, %s of seeds %s",
			at, seedRange(a.First, a.Seeds), m.idAt, seedRange(ref.First, ref.Seeds))
	}
	return nil
}

// seedRange returns "FIRST-LAST".
func seedRange(first uint64, n int) string {
	return strconv.FormatUint(first, 10) + "-" + strconv.FormatUint(first+uint64(n)-1, 10)
}

// seedList returns sorted seeds as runs, "3, 7-9, 12", at most ten runs.
func seedList(seeds []uint64) string {
	seeds = slices.Clone(seeds)
	slices.Sort(seeds)
	var parts []string
	for i := 0; i < len(seeds); {
		j := i
		for j+1 < len(seeds) && seeds[j+1] == seeds[j]+1 {
			j++
		}
		if len(parts) == 10 {
			parts = append(parts, "...")
			break
		}
		p := strconv.FormatUint(seeds[i], 10)
		if j > i {
			p += "-" + strconv.FormatUint(seeds[j], 10)
		}
		parts = append(parts, p)
		i = j + 1
	}
	return strings.Join(parts, ", ")
}
