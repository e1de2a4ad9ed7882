// Package live runs a sim scenario on real sockets, real processes and real faults,
// and sets its figures side by side with the simulation of the same scenario and
// seed. It is the live half of "one scenario, two worlds" (issue 11): the scenario,
// the catalogue, the guarantees' names and the metrics' names are sim's; the
// transport is transport/zmq; the clock is the wall clock, one for one with the
// scenario's virtual time (a 10 s scenario takes about 10 s). sim never imports
// this package, and this package is the only one that brings transport/zmq and sim
// together (it needs cgo; sim and cmd/ebsim stay pure Go).
//
// # A run
//
//  1. Run the scenario in the sim (sim.Run) with the same seed. Its random
//     process-fault decisions (crash, restart, pause, partition, broker restart,
//     malformed) are replayed live at the same instants, so both worlds get the
//     same fault schedule; per-message rates (heartbeat loss, slow handlers) are
//     drawn live from seeded streams of their own.
//  2. Start the broker as a process of its own: ebbroker with --events (one JSON
//     line per core event, with its time), or the Options.Exec command with
//     {frontend} and {backend} placeholders; its clients then run in standard
//     MDP/0.1 mode, and the checks that need broker events are named as not judged.
//  3. Put a Proxy in front of every peer: one per worker (to the backend) and one per
//     client (to the frontend).
//  4. Start each worker as a process of its own (the caller's program re-executed
//     with WorkerCommand, which runs WorkerMain: a transport/zmq Worker with an echo
//     handler taking the scenario's service time). Processes run in their own
//     process group, die with the run (Pdeathsig) and stop at the end of stdin.
//  5. Wait until every worker has registered; that instant is the run's epoch, sent
//     to the workers on stdin (their timed slow-handler faults count from it).
//  6. Run the clients in this process (transport/zmq Client, one per sim client,
//     with the scenario's timeout and attempts) with the sim's workload: sync or
//     open-loop, request count or duration, think time, mmi.service lookups.
//     Meanwhile timers apply the faults at their scenario times.
//  7. When every client has finished, stop the timers, end the processes, read the
//     broker's events and judge the run (Result), and compare it with the sim's
//     (Compare).
//
// # Faults
//
// crash: the proxy holds the broker side of the worker's connection open
// (HoldOnClose), then the worker process gets SIGKILL. The sim's crash is a host
// that dies: the broker hears nothing more and must purge the worker by its
// silence; a bare SIGKILL would have the kernel close the connection and the broker
// find the worker unreachable at its next heartbeat instead (a restart does that).
// With For, a new process starts after it. restart: SIGKILL and a new process on a
// new connection. pause: SIGSTOP, SIGCONT after For. slow: the worker process
// sleeps the slow time (timed windows from its flags, random ones with the
// scenario's probability). heartbeat-loss and partition: the peer's proxy drops
// HEARTBEATs per direction, or every message both ways while a connection opened
// meanwhile waits for the heal. broker-restart: SIGKILL of the broker process and a
// new one on the same ports after For. malformed: a hostile raw peer
// (transport/zmq RawPeer) on both endpoints sending malformed messages drawn as
// the sim draws them (sim.DrawMalformed: a template or random frames). Network latency and jitter are added
// by the proxies when they reach 1 ms; below that the loopback's own latency stands
// in for the model's.
//
// Sim-only, named as skipped in Result.Skipped: message drop, duplication and
// reordering (a TCP connection does none of them), the delay family (left to the
// sim for now) and clock skew (the processes share one clock).
//
// # Why a proxy of our own
//
// toxiproxy and other byte proxies see a stream of bytes: they can delay, slow or
// cut it, but they cannot drop one MDP HEARTBEAT without cutting a ZMTP frame in
// half, which kills the connection instead of losing a message. Proxy parses ZMTP
// 3.x as far as it must: it forwards the 64-octet greeting as it comes (libzmq sends
// it in two steps) and the NULL mechanism's READY unchanged, then reads whole
// frames and whole messages, and judges each message: forward (after the modelled
// latency), or drop (a heartbeat lost in one direction, anything during a
// partition). About 450 lines, no dependency, and the only way to apply the sim's
// heartbeat-loss faults to real peers. CURVE connections cannot be judged (their
// frames are encrypted); live runs use the NULL mechanism.
//
// # The live checker
//
// The sim's checker is bound to its run: it watches every input and output of the
// core machines at their virtual instant. The live checker cannot (known departure)
// and judges the same guarantees, by sim's names, from what the live parts report:
//
//   - G1 reply-matches-request: every reply a client accepted is the echo of its
//     request's body (transport/zmq Client matches sequence numbers itself).
//   - G2 request-ends: every request ends, with a reply or a failure after the
//     configured attempts, within timeout × attempts + EndTolerance (300 ms of
//     wall-clock slack); one still open hangBound past that is cut off and counted.
//   - G3 dispatch-to-live-idle-worker: no broker event dispatches a request to a
//     worker the broker had removed (busy-ness is not visible in the events).
//   - G4 dead-worker-purged: after each fault that silences a worker (crash,
//     restart, pause, partition, a long to-broker heartbeat loss) the broker
//     removes as many workers within liveness × interval + one interval +
//     PurgeTolerance (300 ms). ZeroMQ identities are the broker's own, so the events
//     do not say which process a peer was: the check counts removals.
//   - G5 held-request-not-lost: with requeue, no request fails as worker-died.
//   - G6 mmi-matches-registry: answers are 200 or 404, and 404 for a service no
//     worker serves (the registry at that instant is not visible live).
//   - G7 malformed-input-harmless: the broker reports the hostile input as dropped;
//     G7 no-panic: no broker or worker process ever exits by itself.
//   - G8 exact-latency and E3 hold-limit are sim-only and named as not judged.
//
// # Agreement
//
// Compare sets the sim's figures and the live ones side by side: requests, ok,
// failed, retries, requeues, purged, p50, p99, max and the verdict. Each row agrees
// within a stated band (DurationBand, FailAbs, RetryAbs, CountAbs, P50Abs,
// TailAbs and their relative parts); a row beyond its band says so and why, when
// known: real network latency and scheduler noise for latencies and
// duration-bounded counts, the landing of faults among the requests in flight for
// the fault-driven counts. Where the two worlds send different numbers of requests
// (open-loop or duration-bounded workloads), ok and failed compare shares of the
// requests, not counts. Purged counts workers removed as silent or unreachable on
// both sides.
package live
