package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// deployFile reads a file of deploy/.
func deployFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "deploy", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// manifestArgs returns the container args of a manifest: the one line
// `args: [...]`, a JSON array (JSON is YAML), so no YAML parser is needed.
func manifestArgs(t *testing.T, manifest string) []string {
	t.Helper()
	m := regexp.MustCompile(`(?m)^\s*args: (\[.*\])\s*$`).FindAllStringSubmatch(manifest, -1)
	if len(m) != 1 {
		t.Fatalf("want one `args: [...]` line, found %d", len(m))
	}
	var args []string
	if err := json.Unmarshal([]byte(m[0][1]), &args); err != nil {
		t.Fatalf("args %s: %v", m[0][1], err)
	}
	return args
}

// substitute replaces each key of vars in every arg.
func substitute(args []string, vars map[string]string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		for k, v := range vars {
			a = strings.ReplaceAll(a, k, v)
		}
		out[i] = a
	}
	return out
}

// runShardsAndMerge runs the shard command for every index and then the merge
// command, and checks that the merge prints what the unsharded sweep prints.
func runShardsAndMerge(t *testing.T, shards int, shard func(i int) []string, merge []string) {
	t.Helper()
	for i := range shards {
		args := shard(i)
		if code, _, errs := call(args...); code != exitOK {
			t.Fatalf("ebsim %s: exit %d: %s", strings.Join(args, " "), code, errs)
		}
	}
	code, got, errs := call(merge...)
	if code != exitOK {
		t.Fatalf("ebsim %s: exit %d: %s", strings.Join(merge, " "), code, errs)
	}
	_, want, _ := call("sweep", "swarm", "--seeds", shardSeeds)
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("merge differs from the unsharded sweep (-sweep +merge):\n%s", d)
	}
}

// TestDeployManifests runs the commands of deploy/'s Kubernetes Job and GitHub
// Actions matrix, as written there, with a small sweep: the shards and the merge
// must work and give the unsharded sweep's output.
func TestDeployManifests(t *testing.T) {
	t.Run("kubernetes", func(t *testing.T) {
		sweep, merge := deployFile(t, "k8s/sweep-job.yaml"), deployFile(t, "k8s/merge-job.yaml")
		args := manifestArgs(t, sweep)
		want := []string{"sweep", "swarm", "--seeds", "$(SEEDS)", "--shard", "$(JOB_COMPLETION_INDEX)/$(SHARDS)",
			"--out", "/results/shard-$(JOB_COMPLETION_INDEX).jsonl"}
		if d := cmp.Diff(want, args); d != "" {
			t.Errorf("sweep Job args (-want +got):\n%s", d)
		}
		completions := regexp.MustCompile(`(?m)^\s*completions: (\d+)$`).FindStringSubmatch(sweep)
		shards := regexp.MustCompile(`name: SHARDS\s+value: "(\d+)"`).FindStringSubmatch(sweep)
		if completions == nil || shards == nil || completions[1] != shards[1] {
			t.Errorf("completions %v and SHARDS %v must be equal", completions, shards)
		}
		for _, m := range []string{sweep, merge} {
			if !strings.Contains(m, "mountPath: /results") || !strings.Contains(m, "claimName: ebsim-results") {
				t.Errorf("a Job does not mount the shared volume ebsim-results at /results")
			}
		}
		dir := t.TempDir()
		vars := map[string]string{"$(SEEDS)": shardSeeds, "$(SHARDS)": "3", "/results": dir}
		runShardsAndMerge(t, 3, func(i int) []string {
			vars["$(JOB_COMPLETION_INDEX)"] = strconv.Itoa(i)
			return substitute(args, vars)
		}, substitute(manifestArgs(t, merge), vars))
	})
	t.Run("github actions", func(t *testing.T) {
		wf := deployFile(t, "ci/github-actions-sweep.yml")
		runs := regexp.MustCompile(`(?m)^\s*- run: \./ebsim (.*)$`).FindAllStringSubmatch(wf, -1)
		if len(runs) != 2 {
			t.Fatalf("want two `run: ./ebsim` steps (sweep and merge), found %d", len(runs))
		}
		if !strings.Contains(wf, "run: CGO_ENABLED=0 go build -o ebsim ./cmd/ebsim") {
			t.Errorf("the workflow does not build ebsim as TestBuildsWithoutCgo does")
		}
		// The shards write in their working directory; download-artifact puts every
		// shard's file in shards/, which the merge reads.
		dir := filepath.Join(t.TempDir(), "shards")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		vars := map[string]string{"${{ inputs.seeds }}": shardSeeds, "${{ strategy.job-total }}": "3"}
		cmd := func(line string) []string {
			args := strings.Fields(substitute([]string{line}, vars)[0])
			for i, a := range args {
				switch {
				case strings.HasSuffix(a, ".jsonl"):
					args[i] = filepath.Join(dir, a)
				case a == "shards":
					args[i] = dir
				}
			}
			return args
		}
		runShardsAndMerge(t, 3, func(i int) []string {
			vars["${{ matrix.shard }}"] = strconv.Itoa(i)
			return cmd(runs[0][1])
		}, cmd(runs[1][1]))
	})
}

// TestDockerfiles checks what can be checked without a Docker engine: ebsim is built
// as TestBuildsWithoutCgo builds it and runs on a static base; ebbroker builds against
// libzmq3-dev and runs with libzmq5.
func TestDockerfiles(t *testing.T) {
	for _, tc := range []struct {
		file string
		want []string
	}{
		{"ebsim.Dockerfile", []string{"RUN CGO_ENABLED=0 go build ", "./cmd/ebsim", "-X main.version=${VERSION}",
			"FROM gcr.io/distroless/static", `ENTRYPOINT ["/ebsim"]`}},
		{"ebbroker.Dockerfile", []string{"libzmq3-dev", "RUN CGO_ENABLED=1 go build ", "./cmd/ebbroker",
			"FROM debian:", "libzmq5", "EXPOSE 5555 5556"}},
	} {
		df := deployFile(t, tc.file)
		for _, w := range tc.want {
			if !strings.Contains(df, w) {
				t.Errorf("%s lacks %q", tc.file, w)
			}
		}
	}
}
