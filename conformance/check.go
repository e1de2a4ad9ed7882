package conformance

import (
	"fmt"
	"strings"
	"time"
)

// Check is one named, documented rule of the catalogue: a guarantee of DESIGN.md, an
// RFC 7 / RFC 8 rule or an ebwrk extension. Its Name appears in every violation and
// every test failure it causes ("CHECK <name>: ..."), which is how the mutant test
// learns which check killed a mutant.
type Check struct {
	Name      string // stable id, e.g. "G3-dispatch-to-live-idle-worker"
	Statement string // what must hold, in one sentence
	Source    string // where the rule comes from
	Tests     string // which tests exercise it
}

// The names of the checks. doc.go lists them with their statements.
const (
	G1ReplyMatches     = "G1-reply-matches-request"
	G2RequestEnds      = "G2-request-ends"
	G3Dispatch         = "G3-dispatch-to-live-idle-worker"
	G4Purge            = "G4-dead-worker-purged"
	G5HeldNotLost      = "G5-held-request-not-lost"
	G6MMIRegistry      = "G6-mmi-matches-registry"
	G7Malformed        = "G7-malformed-input-harmless"
	G8ExactLatency     = "G8-exact-latency"
	L1Ledger           = "L1-ledger-consistent"
	L2Services         = "L2-services-transient"
	L3LRU              = "L3-lru-dispatch"
	L4Queue            = "L4-queue-fifo-and-expiry"
	R7ReadyOnce        = "R7-ready-once"
	R7Disconnect       = "R7-disconnect-honoured"
	R7Unexpected       = "R7-unexpected-command-disconnect"
	R7Format           = "R7-message-format"
	R7AnyCommand       = "R7-any-command-is-heartbeat"
	R7BrokerHeartbeats = "R7-broker-heartbeats"
	R8Reserved         = "R8-mmi-reserved"
	R8Replies          = "R8-mmi-replies"
	E1StaleReply       = "E1-stale-worker-reply-dropped"
	E2Envelope         = "E2-envelope-echoed"
	E3HoldLimit        = "E3-hold-limit"
)

// Catalogue lists every check, in the order of doc.go.
var Catalogue = []Check{
	{G1ReplyMatches, "Every reply a client accepts answers the request it sent (same client, sequence, service and body), and each request is accepted at most once.",
		"DESIGN.md guarantee 1", "TestProperties, TestScenarios/stale-reply, TestScenarios/duplicate-reply, wire cases echo-*"},
	{G2RequestEnds, "Every request ends — a reply, or a failure after exactly the configured attempts — within timeout × attempts (+1 ms); none hangs.",
		"DESIGN.md guarantee 2", "TestProperties, TestScenarios/*"},
	{G3Dispatch, "A request is dispatched only to a registered worker of its service that has credit left (holds fewer requests than its READY's credit, 1 for a plain worker), not sent DISCONNECT, and not silent past the purge bound.",
		"DESIGN.md guarantee 3; issue 13", "TestProperties, FuzzBroker, wire case two-services"},
	{G4Purge, "A worker silent (no command but DISCONNECT) for more than liveness × interval + one interval is no longer registered.",
		"DESIGN.md guarantee 4; RFC 7 rule 9", "TestProperties, wire cases purge-*"},
	{G5HeldNotLost, "When a worker holding requests is removed, every one of them is requeued (policy requeue) or failed as worker-died (policy fail) in the same step, in the order the worker got them.",
		"DESIGN.md guarantee 5; RFC 7 goals", "TestProperties, wire cases death-*"},
	{G6MMIRegistry, "mmi.service and mmi.<name> answer 200 exactly when the service has a registered worker, idle or busy, not past its expiry at that instant.",
		"DESIGN.md guarantee 6; RFC 8", "TestProperties, wire case mmi-service"},
	{G7Malformed, "A message that does not parse produces no send, one dropped(malformed) event, no state change; no input panics the broker.",
		"DESIGN.md guarantee 7; RFC 7 rule 5", "FuzzBroker, TestProperties, wire case garbage"},
	{G8ExactLatency, "Without faults or contention every request succeeds and its latency is exactly 4 × one-way latency + service time.",
		"DESIGN.md guarantee 8", "TestScenarios/exact-latency"},
	{L1Ledger, "Every request the broker accepts is answered, failed, held by one worker or queued, and the broker's registry (Workers, Services) equals the model built from its events.",
		"DESIGN.md guarantees 2 and 5; issue 5 (counts consistent, memory bounded)", "TestProperties, FuzzBroker"},
	{L2Services, "A service exists only while it has registered workers or queued requests; a mistyped name or an mmi. lookup leaves nothing behind.",
		"issue 2 (services transient); zguide weakness (services never deleted)", "TestProperties, FuzzBroker, wire case service-lifetime"},
	{L3LRU, "A request for a service with idle workers goes to the one idle the longest.",
		"RFC 7 (MAY: LRU), STYLE.md; zguide mdbroker", "TestProperties, wire case lru"},
	{L4Queue, "Queued requests leave in FIFO order (requeued ones first); a queued request expires no earlier than the queue expiry and no later than one interval after it.",
		"RFC 7 (SHOULD queue, SHOULD expire); DESIGN.md extensions", "TestProperties, wire case queue-expiry"},
	{R7ReadyOnce, "A second READY from a registered worker gets DISCONNECT and the worker is forgotten.",
		"RFC 7 rules 1 and 5", "TestProperties, FuzzBroker, wire case second-ready"},
	{R7Disconnect, "After a worker's DISCONNECT it is forgotten at once and the broker sends it nothing more.",
		"RFC 7 rule 3", "TestProperties, FuzzBroker, wire case worker-disconnect"},
	{R7Unexpected, "HEARTBEAT or REPLY from an unknown worker, and REQUEST from any worker, get DISCONNECT; after sending DISCONNECT the broker sends that peer nothing but DISCONNECT until it sends READY.",
		"RFC 7 rule 5", "TestProperties, FuzzBroker, wire cases unknown-*"},
	{R7Format, "A REQUEST to a worker has exactly one client-address frame and an empty frame; a reply to a client is \"\", MDPC01, the request's service, body.",
		"RFC 7 rule 7 and MDP/Client", "TestProperties, FuzzBroker, wire cases echo-*"},
	{R7AnyCommand, "Any worker command but DISCONNECT counts as a heartbeat: no worker is removed as silent before liveness × interval without one.",
		"RFC 7 rules 8 and 9", "TestProperties, wire case replies-keep-alive"},
	{R7BrokerHeartbeats, "Every registered worker, idle or busy, gets a message from the broker at least once per heartbeat interval.",
		"RFC 7 rule 9; DESIGN.md (busy workers are heartbeated)", "TestProperties, wire case heartbeat-busy"},
	{R8Reserved, "A READY for a service in the mmi. namespace gets DISCONNECT and registers nothing.",
		"RFC 8 (MUST)", "TestProperties, FuzzBroker, wire case ready-reserved"},
	{R8Replies, "mmi.service replies echo \"mmi.service\" with the last body frame replaced by 200/404; mmi.<name> without body gives <name>, 200|404; any other mmi. request gives 501.",
		"RFC 8; ebwrkapi shorthand", "TestProperties, wire case mmi-service"},
	{E1StaleReply, "A worker's REPLY reaches a client only if that worker holds that client's request; otherwise it is dropped.",
		"DESIGN.md extensions (request tracking)", "TestProperties, wire case stale-reply"},
	{E2Envelope, "A request with the ebwrk envelope gets its sequence number back on the reply; one without gets no envelope; a broker-made failure reaches only an ebwrk client, with its status.",
		"DESIGN.md extensions (sequence numbers)", "wire cases echo-*, queue-expiry, queue-full"},
	{E3HoldLimit, "With a hold limit, a worker still holding a request HoldLimit after its dispatch gets DISCONNECT and is removed (held too long) at that instant, heartbeats or not, never earlier, and never stays busy past the limit (+1 ms); its request is requeued or failed as G5 says.",
		"issue 9 item 3 (phantom-busy workers); core.BrokerConfig.HoldLimit", "TestProperties, FuzzBroker, TestScenarios/hold-limit-*, wire case hold-limit"},
}

// CheckByName returns the check named name.
func CheckByName(name string) (Check, bool) {
	for _, c := range Catalogue {
		if c.Name == name {
			return c, true
		}
	}
	return Check{}, false
}

// Violation is one broken check: which, when (time since the run's start) and what
// was seen.
type Violation struct {
	Check  string
	At     time.Duration
	Detail string
}

// String returns "CHECK <name> at <t>: <detail>"; test failures and the mutant test
// rely on the "CHECK <name>" prefix.
func (v Violation) String() string {
	return fmt.Sprintf("CHECK %s at %v: %s", v.Check, v.At, v.Detail)
}

// Violations formats a list of violations, one per line.
func Violations(vs []Violation) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(v.String())
	}
	return b.String()
}
