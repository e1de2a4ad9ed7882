package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"github.com/ebwrk/ebwrk/sim"
)

// sweepFormat names the format of the lines that sweep --out writes; merge reads no
// other. A change to the lines that an older merge would misread gets a new number.
const sweepFormat = "ebsim-sweep/1"

// version, when set at build time (-ldflags "-X main.version=V"), is the build
// identifier of every line sweep --out writes; otherwise buildID asks the binary's
// build information.
var version string

// buildID names the build of ebsim: version when set, else the VCS revision the
// binary was built from ("-dirty" when the tree had changes), else the module
// version, else "devel". Shards of one sweep must come from one build: another
// build may simulate differently.
func buildID() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	switch {
	case rev != "":
		return rev + dirty
	case bi.Main.Version != "" && bi.Main.Version != "(devel)":
		return bi.Main.Version
	}
	return "devel"
}

// scenarioHash is a hash of the whole scenario definition, so that two scenario
// files of one name but different contents are not merged.
func scenarioHash(sc sim.Scenario) (string, error) {
	b, err := json.Marshal(sc)
	if err != nil {
		return "", fmt.Errorf("ebsim: hash scenario %s: %w", sc.Name, err)
	}
	h := fnv.New64a()
	h.Write(b)
	return fmt.Sprintf("%016x", h.Sum64()), nil
}

// shard is the I-th of N disjoint parts of a sweep's seeds, counted from 0.
type shard struct{ I, N int }

// parseShard parses "I/N" with 0 ≤ I < N.
func parseShard(s string) (shard, error) {
	a, b, ok := strings.Cut(s, "/")
	i, err1 := strconv.Atoi(a)
	n, err2 := strconv.Atoi(b)
	if !ok || err1 != nil || err2 != nil || n < 1 || i < 0 || i >= n {
		return shard{}, fmt.Errorf("ebsim sweep: --shard %q: want I/N with 0 ≤ I < N (0-based, as a Kubernetes completion index)", s)
	}
	return shard{i, n}, nil
}

// String returns "I/N".
func (s shard) String() string { return strconv.Itoa(s.I) + "/" + strconv.Itoa(s.N) }

// span returns the seeds of the shard as an offset into the sweep's seeds and a
// count: contiguous blocks whose sizes differ by at most one, in shard order, that
// together cover every seed once.
func (s shard) span(seeds int) (offset, count int) {
	lo := int(int64(s.I) * int64(seeds) / int64(s.N))
	hi := int(int64(s.I+1) * int64(seeds) / int64(s.N))
	return lo, hi - lo
}

// sweepID identifies a sweep: the lines of its shards agree on all of it.
type sweepID struct {
	Format       string `json:"format"`
	Build        string `json:"build"`
	Scenario     string `json:"scenario"`
	ScenarioHash string `json:"scenario_hash"`
	First        uint64 `json:"sweep_first"` // the sweep's first seed
	Seeds        int    `json:"sweep_seeds"` // the number of seeds in the whole sweep
}

// seedLine is one line of sweep --out: the sweep it belongs to and one seed's
// outcome (seed, fingerprint, the figures of the summary, violations with their
// replay commands).
type seedLine struct {
	sweepID
	sim.SeedResult
}

// writeLines writes one JSON line per seed result to path, through a temporary file
// renamed into place, so that a shard killed half-way leaves no partial file behind.
func writeLines(path string, id sweepID, results []sim.SeedResult) error {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	for _, r := range results {
		if err := enc.Encode(seedLine{id, r}); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	if _, err := tmp.WriteString(b.String()); err != nil {
		tmp.Close()
		os.Remove(tmp.Name())
		return err
	}
	if err := tmp.Close(); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		os.Remove(tmp.Name())
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("ebsim: write %s: %w", path, errors.Unwrap(err))
	}
	return nil
}
