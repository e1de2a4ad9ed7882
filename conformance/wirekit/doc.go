// Package wirekit is the black-box conformance kit for any Majordomo broker: cases
// of raw peers (plain REQ and DEALER clients, plain DEALER workers, a hostile peer)
// that speak RFC 7 (MDP/0.1) and RFC 8 (MMI) frames to a broker over real sockets
// and check what comes back. cmd/ebconform's wire command and conformance's tests
// (TestWireKit, TestWireKitMutants) run the same cases.
//
// # The contract
//
//  1. A Target is the broker: Fixed endpoints of one that runs already, or Exec, a
//     shell command with {frontend} and {backend} replaced by free endpoints on
//     127.0.0.1 (no {backend}: one endpoint serves both), which the kit starts, waits
//     for until it accepts TCP connections, and restarts whenever it dies.
//  2. Settings tell the kit the broker's heartbeat interval, liveness and queue
//     expiry: the timed cases are judged against them, with a tolerance (Slack) for
//     the wall clock of half an interval and at least 100 ms, or Settings.Tolerance.
//     Waits that leave a request queued stay below half the queue expiry.
//  3. Catalogue lists the cases; each has a stable ID ("rfc7/worker/ready-twice"), the
//     RFC and section it comes from, a Level (MUST, SHOULD, MAY, or ebwrk for ebwrk's
//     own extensions, so that a plain MDP broker can pass every MUST), the rule, and
//     the broken broker that fails it (Mutant: a mutant of core built into ebbroker by
//     conformance's tests) or why no mutant can (Unreachable). Select picks cases by
//     ID or ID prefix and by level.
//  4. A Runner runs the cases, Jobs at a time except Solo ones (large bodies, 1,000
//     clients), which run alone at the end. Each case opens its own peers and uses
//     service names of its own (T.Svc), so cases never meet in the broker. Each is
//     bounded (Case.Timeout): every wait in a script ends at the case's deadline.
//  5. A broker that dies while cases run fails them with "broker died"; one that
//     stops answering (a failed case is followed by a probe, an mmi.service lookup
//     and an unknown worker's HEARTBEAT, and neither is answered) fails them with "no
//     answer" and is killed. Either way it is restarted and the cases that ran at that
//     moment run again alone, so the verdict falls on the case that breaks the broker.
//  6. WriteTable, WriteJSON, WriteJUnit and WriteMarkdown print the results.
//
// Only transport/zmq imports ZeroMQ: the raw peers are its RawContext and RawSocket.
// This package therefore needs cgo.
package wirekit
