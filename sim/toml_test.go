package sim

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

const minimal = `
[[service]]
name = "echo"
workers = 2
[clients]
requests = 5
`

func TestParseScenario(t *testing.T) {
	sc, err := ParseScenario([]byte(minimal+`
[network]
latency = "250µs"
[[faults.event]]
at = "1.5s"
kind = "pause"
node = "w2"
for = "2s"
`), "mini")
	if err != nil {
		t.Fatal(err)
	}
	want := Scenario{
		Name:     "mini",
		Network:  NetworkSpec{Latency: 250 * time.Microsecond},
		Services: []ServiceSpec{{Name: "echo", Workers: 2}},
		Clients:  ClientSpec{Requests: 5},
		Faults:   Faults{Events: []FaultEvent{{At: 1500 * time.Millisecond, Kind: FamPause, Node: "w2", For: 2 * time.Second}}},
	}
	if d := cmp.Diff(want, sc); d != "" {
		t.Errorf("ParseScenario() mismatch (-want +got):\n%s", d)
	}
}

// TestScenarioErrors checks that each invalid file gets an error naming the field.
func TestScenarioErrors(t *testing.T) {
	for _, tc := range []struct {
		name, toml, field, reason string
	}{
		{"unknown key", minimal + "[clients2]\nx = 1\n", "clients2", "unknown key"},
		{"unknown nested key", "[clients]\ncuont = 3\n" + strings.Replace(minimal, "[clients]\n", "", 1), "clients.cuont", "unknown key"},
		{"wrong type", strings.Replace(minimal, "workers = 2", `workers = "2"`, 1), "service.workers", "incompatible types"},
		{"bad duration", minimal + "timeout = \"fast\"\n", "clients.timeout", "invalid duration"},
		{"no service", "[clients]\nrequests = 1\n", "service", "at least one"},
		{"mmi service", strings.Replace(minimal, `"echo"`, `"mmi.x"`, 1), "service[0].name", "reserved"},
		{"bad mode", minimal + "mode = \"pipelined\"\n", "clients.mode", `"sync" or "open"`},
		{"open without rate", minimal + "mode = \"open\"\n", "clients.rate", "need a rate"},
		{"endless", strings.Replace(minimal, "requests = 5", "count = 2", 1), "clients.requests", "never ends"},
		{"mmi fraction", minimal + "mmi = 1.5\n", "clients.mmi", "[0, 1]"},
		{"unknown target", minimal + "services = [\"nope\"]\n", "clients.services[0]", "nope"},
		{"bad dist", strings.Replace(minimal, "workers = 2", "workers = 2\ntime = { kind = \"gauss\" }", 1), "service[0].time.kind", "one of"},
		{"uniform bounds", strings.Replace(minimal, "workers = 2", "workers = 2\ntime = { kind = \"uniform\", min = \"5ms\", max = \"1ms\" }", 1), "service[0].time.max", "min ≤ max"},
		{"negative credit", strings.Replace(minimal, "workers = 2", "workers = 2\ncredit = -1", 1), "service[0].credit", "[0, 65535]"},
		{"credit past max", strings.Replace(minimal, "workers = 2", "workers = 2\ncredit = 65536", 1), "service[0].credit", "[0, 65535]"},
		{"negative hold limit", minimal + "[broker]\nhold_limit = \"-1s\"\n", "broker.hold_limit", "must not be negative"},
		{"death policy", minimal + "[broker]\non_worker_death = \"ignore\"\n", "broker.on_worker_death", `"requeue" or "fail"`},
		{"fault kind", minimal + "[[faults.event]]\nkind = \"meteor\"\n", "faults.event[0].kind", "unknown fault kind"},
		{"fault node", minimal + "[[faults.event]]\nkind = \"crash\"\nnode = \"w3\"\n", "faults.event[0].node", "w1..w2"},
		{"pause needs for", minimal + "[[faults.event]]\nkind = \"pause\"\nnode = \"w1\"\n", "faults.event[0].for", "positive duration"},
		{"probability", minimal + "[faults.random]\ndrop = 2.0\n", "faults.random.drop", "at most 1"},
		{"negative rate", minimal + "[faults.random]\ncrash = -1.0\n", "faults.random.crash", "negative"},
		{"skew rate", minimal + "[[faults.event]]\nkind = \"skew\"\nnode = \"broker\"\nrate = 50.0\n", "faults.event[0].rate", "[0.1, 10]"},
		{"decisions without replay", minimal + "[[faults.decision]]\nfamily = \"drop\"\nn = 3\n", "faults.replay", "replay = true"},
		{"direction", minimal + "[faults.random]\nheartbeat_direction = \"up\"\n", "faults.random.heartbeat_direction", "to-broker"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseScenario([]byte(tc.toml), "t")
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("ParseScenario() error %v, want a *FieldError for %s", err, tc.field)
			}
			if fe.Field != tc.field || !strings.Contains(fe.Reason, tc.reason) {
				t.Errorf("error %q, want field %s and a reason with %q", err, tc.field, tc.reason)
			}
		})
	}
}

// TestScenariosDoc checks that the full example of SCENARIOS.md is a valid scenario.
func TestScenariosDoc(t *testing.T) {
	doc, err := os.ReadFile("SCENARIOS.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(doc)
	i := strings.Index(s, "```toml\n")
	j := strings.Index(s[i+8:], "```")
	if i < 0 || j < 0 {
		t.Fatal("SCENARIOS.md has no toml block")
	}
	sc, err := ParseScenario([]byte(s[i+8:i+8+j]), "doc")
	if err != nil {
		t.Fatalf("the example in SCENARIOS.md: %v", err)
	}
	if _, err := Run(sc, 1, Options{}); err != nil {
		t.Fatalf("Run(example): %v", err)
	}
}

func TestCatalogueValid(t *testing.T) {
	seen := map[string]bool{}
	for _, sc := range Catalogue() {
		if err := sc.Validate(); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
		if seen[sc.Name] {
			t.Errorf("%s twice", sc.Name)
		}
		seen[sc.Name] = true
	}
}

// TestEncodeRoundTrip saves a swarm run's decisions as a replay scenario, reads it
// back and checks that it runs the same trace.
func TestEncodeRoundTrip(t *testing.T) {
	sc := mustLookup(t, "swarm")
	res, err := Run(sc, 21, Options{})
	if err != nil {
		t.Fatal(err)
	}
	sc.Swarm = false
	sc.Faults.Replay = true
	sc.Faults.Decisions = res.Decisions
	var buf strings.Builder
	if err := EncodeScenario(&buf, sc); err != nil {
		t.Fatal(err)
	}
	back, err := ParseScenario([]byte(buf.String()), "x")
	if err != nil {
		t.Fatalf("ParseScenario(EncodeScenario()): %v\n%s", err, buf.String())
	}
	if d := cmp.Diff(sc, back); d != "" {
		t.Errorf("round trip mismatch (-want +got):\n%s", d)
	}
	again, err := Run(back, 21, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if again.Fingerprint != res.Fingerprint {
		t.Errorf("replayed file: fingerprint %s, want %s", again.Fingerprint, res.Fingerprint)
	}
}
