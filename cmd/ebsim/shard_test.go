package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/ebwrk/ebwrk/sim"
)

// shardSeeds is the size of the sweeps of these tests: small, as the race detector
// makes every seed slow, but enough for three uneven shards.
const shardSeeds = "11"

// withViolations makes every seed divisible by 4 break a guarantee, so that failing
// seeds, their replay commands and exit status 1 go through shards and merge too.
func withViolations(t *testing.T) {
	t.Helper()
	orig := simSweep
	t.Cleanup(func() { simSweep = orig })
	simSweep = func(ctx context.Context, sc sim.Scenario, opt sim.SweepOptions) (*sim.SweepResult, error) {
		res, err := orig(ctx, sc, opt)
		if err != nil {
			return nil, err
		}
		for i, r := range res.Results {
			if r.Seed%4 == 0 {
				res.Results[i].Violations = []sim.Violation{{Guarantee: sim.GHeld, At: 1500, Line: "0.000001500 broker x",
					Detail: "injected \"quoted\"", Replay: sim.ReplayCommand("swarm", r.Seed, false)}}
			}
		}
		sum := sim.Summarize(res.Scenario, res.Results)
		sum.Wall = res.Wall
		return sum, nil
	}
}

// shardFiles runs the three shards of a sweep of shardSeeds seeds into dir and
// returns their files.
func shardFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	for i := range 3 {
		f := filepath.Join(dir, fmt.Sprintf("shard-%d.jsonl", i))
		code, _, errs := call("sweep", "swarm", "--seeds", shardSeeds, "--shard", fmt.Sprintf("%d/3", i), "--out", f)
		if code == exitUsage {
			t.Fatalf("shard %d/3: exit %d: %s", i, code, errs)
		}
		files = append(files, f)
	}
	return files
}

// TestShardsMergeEqualUnsharded is the contract of sharding: the shards 0/3, 1/3 and
// 2/3 merged print byte for byte what the unsharded sweep prints, as a table and as
// JSON, with the same exit status.
func TestShardsMergeEqualUnsharded(t *testing.T) {
	withViolations(t)
	dir := t.TempDir()
	files := shardFiles(t, dir)
	for _, asJSON := range []bool{false, true} {
		t.Run(fmt.Sprintf("json=%v", asJSON), func(t *testing.T) {
			sweepArgs := []string{"sweep", "swarm", "--seeds", shardSeeds}
			mergeArgs := append([]string{"merge"}, files...)
			if asJSON {
				sweepArgs = append(sweepArgs, "--json")
				mergeArgs = append(mergeArgs, "--json")
			}
			wantCode, want, _ := call(sweepArgs...)
			gotCode, got, errs := call(mergeArgs...)
			if d := cmp.Diff(want, got); d != "" {
				t.Errorf("merge of 3 shards differs from the unsharded sweep (-sweep +merge):\n%s\nstderr: %s", d, errs)
			}
			if gotCode != exitViolation || wantCode != exitViolation {
				t.Errorf("exit: sweep %d, merge %d, want %d for both (seeds 4 and 8 fail)", wantCode, gotCode, exitViolation)
			}
			if !strings.Contains(got, "go run ./cmd/ebsim run swarm --seed 8") {
				t.Errorf("merged output lacks the replay command of seed 8:\n%s", got)
			}
		})
	}
	t.Run("directory", func(t *testing.T) {
		_, want, _ := call("sweep", "swarm", "--seeds", shardSeeds)
		_, got, errs := call("merge", dir)
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("merge DIR differs from the unsharded sweep (-sweep +merge):\n%s\nstderr: %s", d, errs)
		}
	})
}

// TestMergeErrors: shard files that do not make up one sweep give one clear line on
// stderr, nothing on stdout, and exit 2.
func TestMergeErrors(t *testing.T) {
	dir := t.TempDir()
	files := shardFiles(t, dir)
	// edit writes a copy of shard 1 with old replaced by new in its first line.
	edit := func(old, new string) string {
		t.Helper()
		b, err := os.ReadFile(files[1])
		if err != nil {
			t.Fatal(err)
		}
		first, rest, _ := strings.Cut(string(b), "\n")
		if !strings.Contains(first, old) {
			t.Fatalf("shard 1 lacks %q: %s", old, first)
		}
		p := filepath.Join(t.TempDir(), "edited.jsonl")
		if err := os.WriteFile(p, []byte(strings.Replace(first, old, new, 1)+"\n"+rest), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	empty := filepath.Join(t.TempDir(), "empty.jsonl")
	if err := os.WriteFile(empty, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		files []string
		want  string
	}{
		{"missing shard", []string{files[0], files[2]}, "4 of the 11 seeds of the sweep (1-11) are missing: 4-7 (is a shard file missing?)"},
		{"duplicated shard", []string{files[0], files[1], files[1], files[2]},
			"seed 4 appears twice, at " + files[1] + ":1 and at " + files[1] + ":1 (was a shard merged twice?)"},
		{"mixed scenarios", []string{files[0], edit(`"scenario":"swarm"`, `"scenario":"baseline"`), files[2]}, "mixed scenarios"},
		{"mixed scenario definitions", []string{files[0], edit(`"scenario_hash":"`, `"scenario_hash":"0`), files[2]}, "mixed scenario definitions"},
		{"mixed versions", []string{files[0], edit(`"build":"`, `"build":"v0.0.1-`), files[2]}, "mixed ebsim versions"},
		{"mixed sweeps", []string{files[0], edit(`"sweep_seeds":11`, `"sweep_seeds":12`), files[2]}, "mixed sweeps"},
		{"line format", []string{files[0], edit(`"format":"ebsim-sweep/1"`, `"format":"ebsim-sweep/2"`), files[2]},
			`line format "ebsim-sweep/2", but this ebsim reads "ebsim-sweep/1"`},
		{"not a line", []string{files[0], edit(`{"format"`, `[{"format"`), files[2]}, "not a line of ebsim sweep --out"},
		{"unknown field", []string{files[0], edit(`"seed":`, `"seeed":1,"seed":`), files[2]}, `unknown field "seeed"`},
		{"seed outside", []string{files[0], edit(`"seed":4,`, `"seed":40,`), files[2]}, "seed 40 is outside the sweep's seeds 1-11"},
		{"no results", []string{empty}, "no seed results in " + empty},
		{"no such file", []string{filepath.Join(dir, "nosuch.jsonl")}, "no such file"},
		{"no arguments", nil, "want the shard files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := call(append([]string{"merge"}, tc.files...)...)
			if code != exitUsage || out != "" || strings.Count(errs, "\n") != 1 || !strings.Contains(errs, tc.want) {
				t.Errorf("merge: exit %d, stdout %q, stderr %q; want exit 2, no stdout and one line with %q", code, out, errs, tc.want)
			}
		})
	}
}

func TestShardUsageErrors(t *testing.T) {
	for _, arg := range []string{"3/3", "-1/3", "1/0", "x", "1", "1/2/3", ""} {
		code, _, errs := call("sweep", "swarm", "--seeds", "3", "--shard", arg)
		if code != exitUsage || !strings.Contains(errs, "want I/N with 0 ≤ I < N") {
			t.Errorf("--shard %q: exit %d, stderr %q; want 2 and the shard syntax", arg, code, errs)
		}
	}
}

// TestShardSpan checks that the shards of any sweep cover every seed exactly once,
// in contiguous blocks whose sizes differ by at most one.
func TestShardSpan(t *testing.T) {
	got := [][2]int{}
	for i := range 3 {
		off, n := shard{i, 3}.span(10)
		got = append(got, [2]int{off, n})
	}
	if d := cmp.Diff([][2]int{{0, 3}, {3, 3}, {6, 4}}, got); d != "" {
		t.Errorf("span of 10 seeds in 3 shards (-want +got):\n%s", d)
	}
	for seeds := 1; seeds <= 40; seeds++ {
		for n := 1; n <= 12; n++ {
			next, lo, hi := 0, seeds, 0
			for i := range n {
				off, c := shard{i, n}.span(seeds)
				if off != next {
					t.Fatalf("%d seeds, shard %d/%d starts at %d, want %d", seeds, i, n, off, next)
				}
				next += c
				lo, hi = min(lo, c), max(hi, c)
			}
			if next != seeds || hi-lo > 1 {
				t.Fatalf("%d seeds in %d shards: cover %d, sizes %d..%d", seeds, n, next, lo, hi)
			}
		}
	}
}

func TestSeedList(t *testing.T) {
	for _, tc := range []struct {
		seeds []uint64
		want  string
	}{
		{[]uint64{7}, "7"},
		{[]uint64{9, 3, 4, 5, 12}, "3-5, 9, 12"},
		{[]uint64{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}, "1, 3, 5, 7, 9, 11, 13, 15, 17, 19, ..."},
	} {
		if got := seedList(tc.seeds); got != tc.want {
			t.Errorf("seedList(%v) = %q, want %q", tc.seeds, got, tc.want)
		}
	}
}
