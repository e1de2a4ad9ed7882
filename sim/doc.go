// Package sim is ebwrk's deterministic simulator: it runs the real core.Broker,
// core.Worker and core.Client state machines, with their real wire codec, over the
// in-memory network of transport/mem on a virtual clock starting at Epoch
// (2000-01-01T00:00:00Z), injects faults, checks the guarantees of DESIGN.md while the
// run goes, and yields metrics, a trace and its fingerprint. A run is a pure function
// of (Scenario, seed): the same inputs give a byte-identical trace, Result and JSON.
//
// # The event loop
//
// One goroutine owns a run (a World, below). mem.Clock is the scheduler: every timer and every
// message delivery is an event, run in (virtual time, sequence) order. The driver:
//
//  1. Binds the broker's two routers on node "broker": core.Frontend at address
//     "front" (clients connect there) and core.Backend at "back" (workers). Workers
//     are nodes w1..wN (numbered across services in order), clients c1..cM, the
//     hostile peer of the malformed fault is node "evil".
//  2. Gives each machine one mem.Timer at its NextDeadline (converted from the node's
//     local clock to virtual time), re-armed after every Receive, Advance, Request or
//     Reply.
//  3. After every input calls Drain until it returns nothing and carries out the
//     outputs in order: SendOutput → Router.Send (broker; mem.ErrUnreachable makes
//     Broker.Unreachable the broker's next input) or Dealer.Send; ConnectOutput → close the old dealer and
//     Connect a new one; DeliverOutput at a worker → the application, which replies
//     (Worker.ReplyTo) with the request body after a service time drawn from the
//     service's distribution, for each request a credit worker holds at once; DeliverOutput or FailOutput at a client → metrics, the checker,
//     and the next request of a synchronous client; EventOutput → trace, metrics and
//     checker.
//  4. Stops when every client has finished its workload (request count reached or
//     duration over, and every request ended).
//
// # The World: one driver, two ways to drive it
//
// World owns everything a run owns: the clock, the network, the broker node, the
// worker and client nodes, the hostile peer and the fault schedule, built from a
// Scenario and a seed by NewWorld. It is the only driver of the core machines on
// transport/mem in this module:
//
//   - Run builds a World, starts the checker's scan and steps the clock until every
//     client has finished (World.Step until World.Done gives the same trace, byte for
//     byte; TestWorldStepsLikeRun checks it).
//   - A step-by-step driver acts on it: AddWorker (service, service-time
//     distribution, credit), AddClient (a core.ClientConfig, no workload), Request and
//     Outcome, Crash (host dies, connection stays open), Kill (SIGKILL: the connection
//     breaks), Stop (DISCONNECT), RestartWorker, Pause and Resume, Partition and Heal,
//     DropHeartbeats (heartbeat loss on a node for a while), EndFaults, RestartBroker,
//     StopBroker and StartBroker, Inject (frames from the hostile peer on either
//     socket), Dial (a raw peer), Advance (let virtual time pass, running every event
//     due), Step, Next and RunWhile (run until a condition stops holding: until quiet).
//     conformance's rapid state machine, fuzz targets, scripted scenarios and wire
//     cases on mem drive a World this way.
//
// An Observer (Options.Observer) sees each broker step — the input (a message, a
// deadline, or a peer found unreachable), the outputs it produced, and the broker's
// workers and services after it — plus each client request and ending: what
// conformance's Checker consumes. A send that finds its peer gone (ZMQ_ROUTER_MANDATORY)
// makes Broker.Unreachable the broker's next input, after the outputs of the current
// one, so each input is observed with exactly its own outputs.
//
// Options.Empty builds a World with the broker only; the driver adds the workers and
// clients, and the sim's own checker records nothing (its checks assume the
// scenario's workload; the Observer checks instead). Options.SignReplies has each
// worker append its name to its replies. Every action catches a panic of a state
// machine: the World records it (World.Panic) and ignores further actions.
//
// Frames are passed between machines without copying: core guarantees that the
// frames of its outputs stay valid and are never modified.
//
// # Randomness
//
// One seed, split by Streams into named PCG streams seeded from (seed, hash(name)):
// "network" (jitter), "service/w3" (service times of w3), "workload/c2" (service
// choice, mmi. lookups, open-loop arrivals of c2), "fault/crash/w3", "fault/net",
// "fault/slow", "fault/skew/c1", "hostile", "swarm" and so on. Adding a worker or a
// fault family does not change the draws of the others.
//
// # Fault decisions (for replay and shrinking)
//
// Every decision a random fault rate makes is recorded as a Decision in
// Result.Decisions: message families (heartbeat-loss, drop, duplicate, delay,
// reorder) by the network message number mem.Envelope.ID, slow by the number of the
// request handled, process families (crash, restart, pause, partition,
// broker-restart, malformed) by virtual time and node, skew by node and rate. A
// scenario with Faults.Replay = true draws nothing: it makes exactly the decisions
// listed in Faults.Decisions, so a run's recorded decisions replay it, and any subset
// of them (delta debugging, issue 5) is a valid, runnable scenario. Timed events
// (Faults.Events) are explicit and apply in both modes.
//
// The fault families: crash (process dies, no DISCONNECT, its connection stays open:
// the broker hears nothing more, as when a host dies), restart (the process exits, so
// its connection closes and the broker's next send to it is unreachable, and a new
// process registers), pause (frozen: connection kept, messages queue, no heartbeats,
// no replies, until it resumes), slow (the handler takes longer than the client
// timeout), heartbeat-loss (HEARTBEATs lost to the broker, from it, or both), drop,
// delay, duplicate (only on client connections: TCP never duplicates, and a
// duplicated worker REPLY is indistinguishable in MDP/0.1 from the reply to the
// worker's next request from the same client), reorder (small random delays, so
// connections overtake each other while each keeps its FIFO order), partition (a node
// cut from the broker, then healed), broker-restart (the broker's state is lost, its
// routers are unbound for the downtime) and skew (a node's clock runs at another
// rate: its timers, timeouts and heartbeats follow its local time).
//
// # The guarantees as checked
//
// The checker sees every output and the broker's inputs, and keeps its own model of
// the broker's registry from the broker's events. "Broker time" is the broker's local
// clock, "client time" the client's. Each check holds under every fault unless said.
//
//   - G1 reply-matches-request: every reply a client accepts is for a request it has
//     open, with the same sequence number, the same service, and the body the echo
//     handler returns for that very request (so a reply to another request or another
//     client is caught); a request is accepted or failed at most once. The broker's
//     replies must parse.
//   - G2 request-ends: a request that times out fails after exactly the configured
//     attempts; a broker-made failure (queue full, expired, worker died, shutdown)
//     after at most that many; and every reply or failure comes within timeout ×
//     attempts + 1 ms of client time. A request still open past that bound is a
//     violation ("hung"); the checker then gives up on it so the run can end.
//   - G3 dispatch-to-live-idle-worker: a RequestDispatched goes to a worker that is
//     registered (joined and not removed since), that the broker has not sent
//     DISCONNECT, that holds fewer requests than the credit its READY announced (1
//     for a plain worker, which must be idle; per the broker's own dispatch and
//     answer events), and that is not expired: silent for at most liveness × interval
//   - one interval of broker time (the same bound as G4, because the broker checks
//     expiry once per heartbeat interval). Under message loss the broker may believe a
//     live worker holds a request the worker never got, or still holds one whose REPLY
//     was lost; MDP/0.1 cannot detect this, the worker stays busy in the broker's eyes
//     and the check follows the broker's belief: it is not a violation.
//   - G4 dead-worker-purged: a registered worker whose last sign of life (any valid
//     worker command but DISCONNECT received by the broker, RFC 7) is more than
//     liveness × interval + one interval of broker time ago must have been removed.
//     Checked every quarter interval. The cause of the silence does not matter
//     (crash, pause, partition, heartbeat loss, skew): only what the broker received.
//   - G5 held-request-not-lost: when the broker removes a worker that held requests
//     (a credit worker may hold several), the same broker step requeues every one of
//     them (requeue policy) or fails it with "worker died" (fail policy). The events
//     name a request by client and sequence but a dispatch by worker and sequence, so
//     the checker tracks held requests by sequence number (conformance's model, which
//     sees the frames, also checks their order).
//   - G6 mmi-matches-registry: an mmi.service reply says 200 when the service has a
//     live (idle or busy) worker at the instant the broker answers, and 404 when it
//     has none. Live means registered (in the checker's model, from the broker's
//     events) and not past its expiry (core.WorkerInfo.Expiry, broker time): a worker
//     past its expiry that the broker has not purged yet (it purges once per
//     interval) counts as dead, and one expiring at that very instant may go either
//     way.
//   - G7 malformed-input-harmless: a message from the hostile peer that core.Parse
//     rejects makes the broker emit nothing but an InputDropped event (no send, no
//     state change visible in events); and no state machine ever panics (G7 no-panic,
//     checked for every machine: a panic stops the run and is reported).
//   - G8 exact-latency: only in exact runs (no fault of any kind, no jitter, no skew,
//     no swarm; Result.Exact): every request that the broker never queued and that
//     was sent once succeeds in exactly 4 × latency + its drawn service time (an
//     mmi. lookup in 2 × latency), compared as integers of nanoseconds; such a request
//     may only fail by a queue-full or expiry refusal (contention) or when 4 × latency
//   - service time reaches the client timeout. Queued requests show their queueing
//     delay in the trace (queued, then dispatched).
//   - E3 hold-limit: only when the scenario sets broker.hold_limit: no worker the
//     broker still counts as registered holds any request longer than the limit
//     (plus 1 ms) after its dispatch, in broker time, heartbeats or not. Checked every
//     quarter interval; the request it held is covered by G5 like any other removal.
//
// Metrics.StuckBusy counts, at the end of a run, the workers still busy with a request
// dispatched longer than timeout × attempts ago: no client waits for that reply, so
// the worker is a phantom (its REQUEST or REPLY was lost and it heartbeats on). The
// hold limit is what frees them; the swarm scenario sets it (3 s) for that reason.
//
// A violation names the guarantee, the virtual time, the trace line of the event
// that broke it and the command that replays the run: go run ./cmd/ebsim run NAME
// --seed N.
//
// # Metrics, trace and fingerprint
//
// Result.Metrics are all functions of (scenario, seed); latencies are virtual time.
// Wall-clock figures (Result.Wall: events per wall second, virtual seconds per wall
// second) are kept apart: they are not in the JSON encoding of Result, nor in
// reports, and ebsim prints them on a separate "wall:" line. The trace has one line
// per output of a machine and per fault action ("12.000400000 broker →back:w1.1
// REQUEST echo seq=7"); the fingerprint is a 64-bit hash of a compact binary encoding
// of the same records (time, node, kind, command, event, reason, sequence, attempts,
// peer and service), so computing it costs no formatting.
//
// # Swarm
//
// A swarm run (Scenario.Swarm, or ebsim run --swarm) draws its fault profile from the
// seed's "swarm" stream: each family on or off with even odds, its rate log-uniform
// in a range; Sweep runs many seeds so, in parallel. The result does not depend on
// the parallelism. Summarize sums up seed results exactly as Sweep does, wherever they
// ran (the shards of ebsim sweep --shard), and FaultWindows lists a run's faults over
// time for plots.
//
// Scenario files are TOML; SCENARIOS.md documents the format.
package sim
