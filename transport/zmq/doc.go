// Package zmq runs ebwrk on real ZeroMQ sockets (github.com/pebbe/zmq4, the only
// importer of it, over libzmq): the broker server (Broker), and the Client and Worker
// APIs for applications. The protocol lives in package core; this package only owns
// sockets, goroutines and the wall clock, and takes no protocol decision of its own.
//
// # Driver loop
//
// Broker, Client and Worker each run one loop on one goroutine, which owns the
// sockets of its state machine (ZeroMQ sockets are not thread-safe):
//
//  1. Wait for a message or for the machine's NextDeadline, whichever comes first,
//     never for a fixed tick, so no message waits for a timeout.
//  2. Take every message waiting (up to 64 per socket in a row, so that neither
//     socket starves the other), each with Receive(time.Now(), ...), then Advance
//     when the deadline has come.
//  3. After each call, Drain the outputs and carry them out in order: SendOutput
//     without blocking (DONTWAIT), ConnectOutput by closing the socket and opening a
//     new DEALER (a new identity), DeliverOutput and FailOutput to the application,
//     EventOutput to the log and the OnEvent hook.
//
// How a loop waits is chosen for the fewest system calls per message, which dominate
// its cost. The Broker and the Client wait in Go's netpoller (on Linux): each
// socket's ZMQ_FD goes into an epoll set the netpoller watches, and another goroutine
// wakes the loop (the end of a context, a new request, a query) by moving its
// deadline. Since ZMQ_FD only signals changes, the loop receives on every socket until
// EAGAIN before it sleeps. Elsewhere (or with the build tag ebwrk_zmqpoll) they wait
// in zmq poll, with an inproc PAIR in the poll set to be woken. An idle Worker waits
// in a blocking receive whose timeout is its next deadline, capped at 50 ms so that
// it sees the end of its context; a busy one waits on Go channels.
//
// # Broker
//
// NewBroker binds two ROUTER sockets (frontend tcp://*:5555 → core.Frontend peers,
// backend tcp://*:5556 → core.Backend peers, as ebwrkapi) or one (NoBackend); either
// accepts both sub-protocols, since the header frame tells them apart. The sockets
// use ROUTER_MANDATORY: a message ZeroMQ cannot route — its peer is gone
// (EHOSTUNREACH) or at its high-water mark (EAGAIN) — is never dropped unseen: it is
// counted (BrokerStats.Undeliverable), reported (an Event with Undeliverable set, a
// Warn log record) and passed to core.Broker.Unreachable, which removes a worker as
// dead and requeues its request. They also use ROUTER_HANDOVER, so that a client
// reconnecting with a fixed identity (a Lazy Pirate REQ client) takes it over at
// once. Run serves until its context ends, then calls
// core.Broker.Shutdown (ebwrk clients get failure replies, workers DISCONNECT) and
// terminates its own ZeroMQ context, which waits at most BrokerOptions.Linger for
// those last messages to leave. Each Broker has its own ZeroMQ context, as the broker
// of a process of its own would: in-process clients and workers reach it over TCP or
// IPC, not inproc.
//
// # Client
//
// A Client is one DEALER connection driven by core.Client; any number of goroutines
// may call Request at once, and their requests are pipelined on the connection and
// matched by sequence number. A request ends with the reply frames or an error:
// a *RequestError that matches ErrTimeout (every attempt timed out) or ErrRefused
// (the broker failed it and says why), the context's error, or ErrClosed. A caller
// whose context ends stops waiting at once, but core.Client has no way to cancel a
// request, so it runs on to its reply or timeout and its outcome is dropped. A
// message ZeroMQ will not queue (the connection at its high-water mark) is counted in
// ClientStats.Unsent; its request recovers by retry or times out.
//
// # Worker
//
// A Worker connects a DEALER, sends READY through core.Worker and runs the handler
// of each request on a goroutine of its own. Meanwhile its loop waits on Go channels
// for the handler's reply or the next deadline, reading the socket at each deadline,
// so heartbeats go on while the handler runs (the ebwrk extension), and a broker that
// goes silent or sends DISCONNECT makes it reconnect on a new socket. Stopping sends
// DISCONNECT, so the broker requeues a request still being handled; the handler's
// context ends. A handler that never returns keeps its worker alive: it is the
// process that dies, or goes silent, that the broker expires.
//
// # Errors
//
// Every error says where it comes from ("zmq: bind tcp://*:5555: address already in
// use") and wraps the ZeroMQ error, so errors.Is and errors.As work.
package zmq
