// Package conformance is the proof that a broker is right: the guarantees of
// DESIGN.md and the rules of RFC 7 (MDP/0.1) and RFC 8 (MMI) as named, executable
// checks, run against core.Broker on transport/mem and on transport/zmq, under
// random action sequences, fuzzed input and deliberately broken brokers.
//
// # The catalogue
//
// Each check has a stable name; every violation and every test failure it causes
// reads "CHECK <name>: ...". Catalogue holds the same list as data. The checks are
// evaluated by a Checker: a reference model of the broker that a driver feeds with
// every broker step (the input, the outputs drained after it, and the registry
// afterwards: Workers and Services) and with what the clients see. The model follows
// the broker's own events and predicts what each input must cause; after every step
// it compares its registry with the broker's.
//
//	G1-reply-matches-request
//	    Every reply a client accepts answers the request it sent: same client,
//	    sequence, service, and (for the drivers' workers, which echo the body) body;
//	    each request is accepted at most once.
//	    Source: DESIGN.md guarantee 1. Tests: TestProperties, TestScenarios
//	    (stale-reply, duplicate-reply), wire cases echo-standard, echo-envelope.
//	G2-request-ends
//	    Every request ends — a reply, or a failure after exactly the configured
//	    attempts — within timeout × attempts + 1 ms; none hangs.
//	    Source: DESIGN.md guarantee 2. Tests: TestProperties, TestScenarios,
//	    TestSimProperties.
//	G3-dispatch-to-live-idle-worker
//	    A request is dispatched only to a registered worker of its service that has
//	    credit left — holds fewer requests than the credit its READY announced (1 for
//	    a plain worker: it must be idle) —, was not sent DISCONNECT and is not silent
//	    past the purge bound of G4 (the broker purges at its heartbeat ticks, so
//	    "expired" means past that bound). A credit worker's REQUEST carries the client
//	    identity and a tag unique among what it holds in its address frame.
//	    Source: DESIGN.md guarantee 3, issue 13. Tests: TestProperties (credit
//	    workers drawn), FuzzBroker, wire case two-services.
//	G4-dead-worker-purged
//	    A worker silent (no command but DISCONNECT) for more than liveness × interval
//	    + one interval is no longer registered.
//	    Source: DESIGN.md guarantee 4, RFC 7 rule 9. Tests: TestProperties, wire
//	    cases purge-silent, busy-death-requeue.
//	G5-held-request-not-lost
//	    When a worker holding requests is removed, every one of them is requeued
//	    (policy requeue) or failed as worker-died (policy fail) in the same step, in
//	    the order the worker got them; requeued, they go to the head of the queue in
//	    that order.
//	    Source: DESIGN.md guarantee 5, RFC 7's stated goals. Tests: TestProperties,
//	    TestScenarios (crash-*, pause-requeue), wire cases busy-death-requeue,
//	    death-disconnect-requeue.
//	G6-mmi-matches-registry
//	    mmi.service and mmi.<name> answer 200 exactly when the service has a
//	    registered worker, idle or busy, not past its expiry at that instant.
//	    Source: DESIGN.md guarantee 6, RFC 8. Tests: TestProperties, wire case
//	    mmi-service.
//	G7-malformed-input-harmless
//	    A message that does not parse (or a request carrying a broker-only status)
//	    produces no send, one dropped (malformed) event and no change of the
//	    registry; no input ever panics the broker.
//	    Source: DESIGN.md guarantee 7, RFC 7 rule 5. Tests: FuzzBroker,
//	    TestProperties, wire case garbage.
//	G8-exact-latency
//	    With no faults and an idle worker for every request, every request succeeds
//	    in exactly 4 × one-way latency + service time.
//	    Source: DESIGN.md guarantee 8. Tests: TestScenarios/exact-latency (sim checks
//	    it too, for its baseline).
//	L1-ledger-consistent
//	    Every request the broker accepts is answered, failed, held by exactly one
//	    worker or queued; the broker's Workers and Services equal the model's; every
//	    event matches an input (no join without READY, no dispatch of a request nobody
//	    sent). This is also what bounds memory.
//	    Source: DESIGN.md guarantees 2 and 5; issue 5. Tests: TestProperties,
//	    FuzzBroker.
//	L2-services-transient
//	    A service exists only while it has registered workers or queued requests; a
//	    mistyped name or an mmi. lookup leaves nothing behind.
//	    Source: issue 2; the zguide broker's "never deleted" services. Tests:
//	    TestProperties, FuzzBroker, wire cases service-lifetime, queue-expiry.
//	L3-lru-dispatch
//	    A request for a service with idle workers goes to the one idle the longest.
//	    Source: RFC 7 (MAY, any basis), STYLE.md, the zguide brokers. Tests:
//	    TestProperties, wire case lru.
//	L4-queue-fifo-and-expiry
//	    Queued requests leave in FIFO order, requeued ones first; none is queued
//	    while a worker of its service idles; a queued request expires no earlier than
//	    the queue expiry and no later than one interval after it; a queue-full
//	    refusal happens only at the bound.
//	    Source: RFC 7 (SHOULD queue, SHOULD expire), DESIGN.md. Tests:
//	    TestProperties, wire cases queue-until-worker, queue-expiry, queue-full.
//	R7-ready-once
//	    A second READY from a registered worker gets DISCONNECT, and the worker is
//	    forgotten.
//	    Source: RFC 7 rules 1 and 5. Tests: TestProperties, FuzzBroker, wire case
//	    second-ready.
//	R7-disconnect-honoured
//	    After a worker's DISCONNECT it is forgotten at once, and the broker sends it
//	    no worker command until it speaks again.
//	    Source: RFC 7 rule 3. Tests: TestProperties, FuzzBroker, wire case
//	    worker-disconnect.
//	R7-unexpected-command-disconnect
//	    HEARTBEAT or REPLY from an unknown worker, and REQUEST from any worker, get
//	    DISCONNECT; after sending DISCONNECT the broker sends that peer no worker
//	    command but DISCONNECT until it sends READY.
//	    Source: RFC 7 rule 5. Tests: TestProperties, FuzzBroker, wire cases
//	    unknown-heartbeat, unknown-reply, request-from-worker, broker-restart.
//	R7-message-format
//	    A REQUEST to a worker has exactly one client-address frame and an empty frame
//	    and carries the request's body; a reply to a client is "", "MDPC01", the
//	    request's service, body.
//	    Source: RFC 7 rule 7 and MDP/Client. Tests: TestProperties, FuzzBroker, wire
//	    case echo-standard.
//	R7-any-command-is-heartbeat
//	    Any worker command but DISCONNECT counts as a heartbeat: every worker's
//	    expiry is its last such command + liveness × interval, and none is removed as
//	    silent before that.
//	    Source: RFC 7 rules 8 and 9. Tests: TestProperties, wire case
//	    replies-keep-alive.
//	R7-broker-heartbeats
//	    Every registered worker, idle or busy, gets a message from the broker at least
//	    once per heartbeat interval.
//	    Source: RFC 7 rule 9; DESIGN.md (busy workers are heartbeated). Tests:
//	    TestProperties, wire case heartbeat-busy.
//	R8-mmi-reserved
//	    A READY for a service in the mmi. namespace gets DISCONNECT and registers
//	    nothing.
//	    Source: RFC 8 (MUST). Tests: TestProperties, FuzzBroker, wire case
//	    ready-reserved.
//	R8-mmi-replies
//	    mmi.service echoes "mmi.service" with its last body frame replaced by
//	    200/404; mmi.<name> without body gives <name>, 200|404; any other mmi. request
//	    gives 501.
//	    Source: RFC 8, the ebwrkapi shorthand. Tests: TestProperties, wire case
//	    mmi-service.
//	E1-stale-worker-reply-dropped
//	    A worker's REPLY reaches a client only if that worker holds that client's
//	    request and the REPLY is addressed to it; otherwise it is dropped (and a
//	    mismatched request goes back to the queue).
//	    Source: DESIGN.md extensions (request tracking). Tests: TestProperties, wire
//	    case stale-reply.
//	E2-envelope-echoed
//	    A request with the ebwrk envelope gets its sequence number back on the reply;
//	    one without gets no envelope; a broker-made failure reaches only an ebwrk
//	    client, with its status.
//	    Source: DESIGN.md extensions (sequence numbers). Tests: TestProperties, wire
//	    cases echo-envelope, mmi-service, queue-expiry, queue-full.
//	E3-hold-limit
//	    With core.BrokerConfig.HoldLimit set, a worker still holding a request
//	    HoldLimit after its dispatch gets DISCONNECT and is removed ("held too
//	    long") in the broker step at that instant, however often it heartbeats;
//	    never earlier; no worker stays busy past the limit (+1 ms); the request it
//	    held is requeued or failed as G5 says. Off (zero), nothing is ever removed
//	    for holding.
//	    Source: issue 9 item 3 (a worker whose REPLY was lost heartbeats on and is
//	    held busy forever). Tests: TestProperties, FuzzBroker, TestScenarios
//	    (hold-limit-requeue, hold-limit-fail), wire case hold-limit.
//
// # The tests
//
//   - TestWireMem and TestWireZMQ run WireCases, scripted raw peers (a plain MDP
//     client, a plain MDP worker, a hostile peer) written once against the
//     Transport interface, on transport/mem (virtual time; the Checker watches every
//     broker step as well) and on transport/zmq (real sockets on 127.0.0.1, 100 ms
//     heartbeats, every wait bounded). A case that passes on one and fails on the
//     other is a bug. TestWireZMQ speaks through zmq.RawPeer, a plain DEALER that
//     transport/zmq exports, since only it may import ZeroMQ.
//   - TestScenarios drives World — sim.World: core Broker, Clients and Workers over
//     transport/mem — through scripted situations (exact latency, stale and
//     duplicate replies, crashes, pauses, restarts, standard clients, heartbeat
//     loss) and checks their outcomes.
//   - TestProperties is the rapid state machine over World: add client, request,
//     mmi lookup, add/kill/stop/pause/resume worker, drop heartbeats, partition and
//     heal, restart the broker, inject a malformed message, advance time; every
//     check after every action (the "" key of t.Repeat) and after the system
//     settles. A failure lists the actions and rapid prints the -rapid.seed that
//     replays it: go test ./conformance -run '^TestProperties$' -rapid.seed=N.
//     FuzzStateMachine is the same property driven by the fuzzer (rapid.MakeFuzz).
//   - TestSimProperties is a rapid property over sim: drawn topologies,
//     configurations and timed fault schedules, judged by sim's own checker and its
//     accounting; a failure prints the ebsim run and ebsim shrink commands.
//   - FuzzBroker feeds core.Broker arbitrary frame sequences from eight peers on
//     both sockets, with time passing and delivery failures: no panic, every check
//     after every step, memory bounded by what the inputs justify.
//   - TestMutants applies each of 23 deliberate bugs (mutants_test.go; most shipped
//     in real Majordomo brokers) to a copy of the module and runs the fast tests
//     there (TestWireMem, TestScenarios, TestProperties with a fixed seed,
//     FuzzBroker's corpus); each must fail and name the check that killed it, and the
//     unmutated copy must pass. It logs the table mutant → killing checks.
//     -mutants REGEXP runs only the mutants it matches (after the unmutated run):
//     go test ./conformance -run '^TestMutants$' -mutants 'credit'.
//   - TestWireKit runs the black-box kit of package wirekit (the cases of
//     ebconform wire: every MUST and SHOULD of RFC 7 and RFC 8, timed heartbeats
//     and purges, large bodies, 1,000 clients, ebwrk's extensions) against ebbroker
//     built from this module, or against any broker: -args -broker-exec 'CMD' or
//     -frontend/-backend, with -broker-heartbeat, -broker-liveness,
//     -broker-queue-expiry and -broker-levels. TestWireKitCatalogue checks that
//     each case names a mutant that exists or says why none can break it.
//   - TestWireKitMutants builds ebbroker with a mutant applied (mutants and the
//     26 of wire_mutants_test.go) and requires every case naming it to fail: four
//     by default, every named one with -args -wirekit.mutants=all. These files
//     need cgo, like wire_zmq_test.go; the mutants' inner runs leave them out.
//   - TestShrinkMutant shows ebsim shrink on a mutant: a failing swarm run is reduced
//     to a scenario file of at most 10 fault events that still fails.
//
// One world (issue 11): the step-by-step state machine, the scripted scenarios, the
// fuzz targets and the wire cases on mem all drive sim.World, the same driver that
// sim.Run uses for every catalogue scenario; this package has no driver of its own.
// World (world.go) is a sim.World built Empty with SignReplies and an Observer that
// feeds every broker step and every client request and ending to a Checker, plus the
// action log and Settle; MemTransport is an empty sim.World with raw peers dialled in
// (sim.World.Dial). The Checker (model*.go) stays the oracle: sim's own checker is off
// in an empty World. Differences from the old System: a credit worker's service times
// are drawn uniformly from [t/2, 3t/2] (the seeded "service/wN" stream) instead of
// t × (1 + n mod 3) / 2; a paused worker's handler that came due while it was frozen
// answers at once on resume (sim's pause) instead of after the rest of its service
// time; a network latency of 0 means sim's default 100µs; BrokerRestarted reaches the
// Checker when the new broker comes up. TestSimProperties still covers whole sim runs
// with sim's own checker.
//
// # Drivers
//
// sim.World is the driver of the core machines on transport/mem. MemTransport is the
// Transport of the wire cases on transport/mem; the zmq one lives in
// wire_zmq_test.go, since only transport/zmq may import ZeroMQ and everything here but
// that test file builds with CGO_ENABLED=0.
package conformance
