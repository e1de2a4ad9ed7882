// Package zmq runs ebwrk on real ZeroMQ sockets (github.com/pebbe/zmq4, the only
// importer of it, over libzmq): the broker server (Broker), and the Client and Worker
// APIs for applications. The protocol lives in package core; this package only owns
// sockets, goroutines and the wall clock, and takes no protocol decision of its own.
//
// # Driver loop
//
// Broker, Client and Worker each drive their state machine in one loop:
//
//  1. Wait for a message or for the machine's NextDeadline, whichever comes first,
//     never for a fixed tick, so no message waits for a timeout.
//  2. Feed each message to Receive(time.Now(), ...), then Advance when the deadline
//     has come.
//  3. After each call, Drain the outputs and carry them out in order: SendOutput
//     without blocking (DONTWAIT), ConnectOutput by closing the socket and opening a
//     new DEALER (a new identity), DeliverOutput and FailOutput to the application,
//     EventOutput to the log and the OnEvent hook.
//
// ZeroMQ sockets are not thread-safe: one goroutine at a time uses a socket. Where
// two goroutines share one (the Worker's loop and its keeper; the Client's loop,
// which passes from caller to caller), a mutex or a channel passes it between them,
// which is the full memory barrier ZeroMQ asks for when a socket changes threads.
// Each loop receives and sends a whole message in one cgo call (msg.go), where zmq4
// makes six calls per part received and one per part sent.
//
// How a loop waits is chosen for the fewest system calls and thread wake-ups per
// message, which dominate its cost (measured by BenchmarkRoundTrip). The Broker and
// an idle Worker wait in a blocking receive whose timeout is the time to their next
// deadline, which costs what a plain ZeroMQ peer pays and nothing more. The Client
// and a Worker with Concurrency, which other goroutines must be able to wake (a new
// request, a handler's reply), wait in a sockWaiter (on Linux, wait_netpoll.go).
// While other goroutines of theirs are at work (a Client's other callers, a Worker's
// handlers) the loop parks its goroutine in the Go runtime's network poller on the
// socket's ZMQ_FD: the thread runs those goroutines meanwhile, and their wake-up of
// the loop is a timer change, not a system call and a thread wake-up. Since ZMQ_FD
// only signals changes, the wait asks ZMQ_EVENTS before it parks. Alone (a lone
// caller, a Worker with no handler running) it blocks its thread in poll(2) on
// ZMQ_FD and an eventfd instead: the input wakes that thread directly, and an idle
// process lets the Go runtime's monitor thread back off rather than wake it with
// every first cgo call after an idle spell. Elsewhere (or with the build tag
// ebwrk_zmqpoll) they wait in zmq poll, with an inproc PAIR in the poll set to be
// woken.
//
// # Broker
//
// NewBroker opens one ROUTER socket and binds it to both endpoints (frontend
// tcp://*:5555 and backend tcp://*:5556, as ebwrkapi), or to the frontend alone
// (NoBackend). Either endpoint accepts both sub-protocols, since the header frame
// tells them apart, so one socket serves both: peers cannot tell it from two
// sockets, and the loop blocks in one receive. (Two sockets would need a poll
// before every receive and an EAGAIN receive on each; the README gives what
// BenchmarkRoundTrip measured of both.) All peers are therefore core.Frontend
// peers, and their identities share one namespace: two peers that set the same
// identity on the two endpoints are one peer to the broker, as they would be on one
// endpoint. Other
// goroutines wake the loop (a query, the end of Run's context) through a kicker: an
// inproc DEALER, with a random identity no remote peer can guess, connected to the
// same ROUTER.
//
// The socket uses ROUTER_MANDATORY: a message ZeroMQ cannot route — its peer is gone
// (EHOSTUNREACH) or at its high-water mark (EAGAIN) — is never dropped unseen: it is
// counted (BrokerStats.Undeliverable), reported (an Event with Undeliverable set, a
// Warn log record). Only a peer that is gone is passed to core.Broker.Unreachable,
// which removes a worker as dead and requeues its request; a peer at its high-water
// mark stays (see Errors). It also uses ROUTER_HANDOVER, so that a client reconnecting
// with a fixed identity (a Lazy Pirate REQ client) takes it over at once. Run serves
// until its context ends, then calls core.Broker.Shutdown (ebwrk clients get failure
// replies, workers DISCONNECT) and terminates its own ZeroMQ context, which waits at
// most BrokerOptions.Linger for those last messages to leave. Each Broker has its own
// ZeroMQ context, as the broker of a process of its own would: in-process clients and
// workers reach it over TCP or IPC, not inproc.
//
// # Client
//
// A Client is one DEALER connection driven by core.Client; any number of goroutines
// may call Request at once, and their requests are pipelined on the connection and
// matched by sequence number. A request ends with the reply frames or an error: a
// *RequestError that matches ErrTimeout (every attempt timed out) or ErrRefused (the
// broker failed it and says why), the context's error, or ErrClosed (an *EndedError
// when an error ended the client: see Errors). A caller whose context ends stops
// waiting at once, but core.Client has no way to cancel a request, so it runs on to
// its reply or timeout and its outcome is dropped. A message ZeroMQ will not queue
// (the connection at its high-water mark) is counted in ClientStats.Unsent; its
// request recovers by retry or times out.
//
// The loop has no goroutine of its own: it runs on a caller's (leader/follower). A
// caller that finds no loop running leads it: it sends its request, waits, and
// receives for everyone, until its own request ends or its context does. Callers
// that come meanwhile hand their requests to the leader, wake it, and wait for their
// outcome. When the leader's wait is over it hands the loop to a caller still
// waiting, if any; with none, the loop rests until the next call, and the requests
// of callers that gave up meanwhile advance then. A lone caller thus pays no hand-off
// between goroutines (the README gives what BenchmarkRoundTrip measured of both).
//
// # Worker
//
// A Worker connects a DEALER, sends READY through core.Worker and runs the handler
// of each request on its loop's goroutine: no goroutine hand-off per request. While
// the handler runs, the loop lets go of the socket and a keeper goroutine takes it
// every half heartbeat interval (or at the core's deadline when that is sooner): it
// reads what arrived and advances the core, so heartbeats go on while the handler
// runs (the ebwrk extension), and a broker that goes silent or sends DISCONNECT
// makes it reconnect on a new socket and end the handler's context. Stopping sends
// DISCONNECT, so the broker requeues a request still being handled; the handler's
// context ends, and Serve returns once the handler has returned. A handler that
// never returns keeps its worker alive: it is the process that dies, or goes silent,
// that the broker expires.
//
// With WorkerOptions.Concurrency N above 1 (worker_concurrent.go), READY announces
// credit N and each request delivered runs its handler on a goroutine of its own (at
// most N, since the core holds at most N); the handler hands its reply back and
// kicks the loop. The loop never runs a handler, so it keeps the socket and needs no
// keeper: it sends the replies handed back (Worker.ReplyTo, by the core's request
// number), receives until EAGAIN, advances the core, and waits on the socket's
// ZMQ_FD and the kick (sockWaiter), at most maxIdleWait. A lost connection
// ends the contexts of all handlers in flight and drops their replies.
//
// # CURVE
//
// BrokerOptions.Curve makes the broker a CURVE server (RFC 26) on both endpoints,
// with a ZAP handler (RFC 27) of its own in its own context (curve.go says why not
// zmq4's): it admits the keys of BrokerCurve.Allow (nil: any) and names each
// connection by its key, the User-Id libzmq then attaches to every message. The loop
// reads it from the message's first part (curve_msg.go: one more cgo call per
// message, only with CURVE) and hands it to core.Broker.ReceiveKey, where
// core.BrokerConfig.Access decides who may serve what and who may request. With
// CURVE the ROUTER does without ROUTER_HANDOVER, so that no peer takes over another's
// identity. Client and Worker take the broker's public key and their own key pair
// (CurveKeys).
//
// # Errors
//
// Every error says where it comes from ("zmq: bind tcp://*:5555: address already in
// use") and wraps the ZeroMQ error, so errors.Is and errors.As work.
//
// Signals (EINTR). In a Go process signals are ordinary: the runtime sends them for
// preemption, GC and profiling, and a libzmq call that one interrupts fails with EINTR
// (ZeroMQ does not restart the poll inside zmq_send and zmq_recv, also with
// ZMQ_DONTWAIT). The call had no effect, and is retried, everywhere:
//
//   - The helpers of the hot path (msg.go) send and receive a message part by part in
//     one cgo call and return the index of the part that failed. A send retries that
//     part and goes on: a message is never cut short, no part is sent twice. A
//     receive keeps the parts it has and goes on from the one that failed; before the
//     first part, a non-blocking receive retries at once, and a blocking one returns
//     EINTR to its loop, which waits again for the time left to its deadline.
//   - Every call through zmq4 (bind, connect, send, receive, poll, close, context
//     termination) is retried by zmq4 itself: every context this package opens turns
//     zmq4's retry on. Socket options never fail with EINTR.
//   - The waiter of the Client and of a Worker with Concurrency (sockWaiter) waits
//     in the Go runtime, which retries EINTR itself; its ZMQ_EVENTS check ends the
//     wait on any error, EINTR included, and the receive after it retries.
//
// High-water mark (EAGAIN on a send). A peer at its high-water mark is slow, not
// gone. The Broker drops the message to it, counts it (BrokerStats.Full) and reports
// it, but keeps the peer: it cannot wait for one peer without stalling the others,
// and only EHOSTUNREACH makes it call core.Broker.Unreachable. A client's lost reply
// is recovered by the client's retry. A Worker reads its connection all the time,
// also while its handler runs, so a worker that stays at its mark is stopped or hung:
// it stops heartbeating too and expires, and its request is requeued. The Client
// counts its own unsent messages (ClientStats.Unsent); their requests recover by
// their retries. The Worker never drops a REPLY: it holds it and sends it again,
// before anything else, each time its loop or keeper comes round, until the socket
// takes it or the connection is replaced (the broker then requeues the request); a
// HEARTBEAT at the mark is dropped, since the next one stands in for it.
//
// Socket errors. Any other error of a Client's or Worker's connection (a failed send
// or receive, a failed wait) is not the end: the connection is closed and a new one
// opened, as after a lost broker, and the error is logged at Warn
// (ClientOptions.Logger, WorkerOptions.Logger). A Client keeps its requests, which
// recover by their retries on the new connection. A Worker starts over with a new
// core.Worker (READY on the new connection; the broker requeues the request it held
// when the old connection expires), waiting the reconnect backoff from the second
// error in a row on. Only when maxFailures (3) errors come in a row with no message
// received between them (for a Client also: when a new connection cannot be opened)
// does a Client or Worker end. Then the cause reaches every caller: requests
// outstanding and later ones fail, and Worker.Serve, Recv and Close return, with an
// *EndedError, which matches ErrClosed (a Worker's also ErrWorkerStopped) and wraps
// the cause; Client.Close returns the cause; and it is logged at Error. A Broker's
// receive error (ETERM, ENOTSOCK: its socket is broken for good) ends Run with it.
package zmq
