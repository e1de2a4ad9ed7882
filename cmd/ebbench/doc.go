// Command ebbench is ebwrk's load generator and chaos soak on real sockets: separate
// processes, 127.0.0.1 TCP, real signals. The models are nats bench and
// redis-benchmark: one command with no flags gives a useful answer.
//
// Usage:
//
//	ebbench [--requests N] [--workers N] [--clients N] [--callers N] [--credit N] [--size B] [--json] ...
//	ebbench compare --baseline OLD-EBBROKER [--baseline-ebbench OLD-EBBENCH] [--broker-bin NEW-EBBROKER] [--rounds N] ...
//	ebbench soak [--duration D] [--broker-restarts N] [--json] ...
//	ebbench -h, ebbench compare -h, ebbench soak -h
//
// # Processes
//
// ebbench builds nothing at run time. It starts:
//
//  1. an ebbroker process on two free 127.0.0.1 ports, unless --frontend (and
//     --backend) name a running MDP broker. The binary is --broker-bin, else an
//     ebbroker next to the ebbench executable, else one on PATH; with none it says how
//     to build both (go build -o bin/ ./cmd/ebbroker ./cmd/ebbench) and exits 1. A
//     benchmark that compiled on the fly would depend on the working directory and a
//     Go toolchain, and time its first run against a cold build cache;
//  2. echo worker processes, the transport/zmq Worker (the hidden subcommand
//     "ebbench worker");
//  3. client processes, the transport/zmq Client with --callers goroutines on it, or
//     a zmq.RawPeer for the raw echo ("ebbench client");
//  4. a raw echo process, a plain ROUTER (zmq.RawEcho) that returns every message
//     ("ebbench rawecho").
//
// The hidden subcommands are ebbench re-executing itself. Each child runs in a
// process group of its own (a ^C reaches ebbench alone, which ends them all),
// dies with ebbench (Pdeathsig), and stops at the end of its stdin. Client processes
// take "go" and "stop" on their stdin and answer with one JSON report a line on
// their stdout: ready, progress, and at the end their account and latency histogram
// (package internal/hdr, merged exactly across processes).
//
// # Measurements
//
// The default run measures, in this order so that the workers have long registered
// when the brokered rows start: raw sync, raw pipelined, lockstep sync, lockstep
// pipelined (--requests each; sync is one client process with one caller, pipelined
// --clients processes × --callers). "raw" is the DEALER↔ROUTER echo with the same
// request frames as a Majordomo request, the limit of any brokered round trip on
// this machine in this run; "lockstep" is MDP through the broker, each worker holding
// one request at a time (credit 1). --json prints them as a list of Measurement
// objects (name, mode, workers, credit, requests, lost, rate_per_s, p50_ms, p99_ms,
// p999_ms, body_bytes, ...), the shape that `--credit N` (issue 13) extends with name
// "credit": as many workers again, each holding up to N requests at once. A
// pipelined row reaches its peak only with more requests in flight than its workers
// hold (--workers × N for the credit row): the default window, 2 × 16, fills half of
// what 4 credit-16 workers hold, so their peak is measured with --callers 64.
//
// After each pipelined row comes its open row (mode "open"; --open=false: none): the
// same client processes, --requests/2 requests, offered on a schedule at half the
// rate the pipelined row reached (offered_per_s), whatever the replies, as a system
// sized at twice its load sees it. Its latency is what a user sizing a system needs;
// its rate says whether the offer was met. Go's timers wake a sleeper about a
// millisecond late at best, so the requests due meanwhile go out together: the rate
// holds over any millisecond, not between two requests, and the latency of each
// request counts from its call.
//
// Request bodies are --size bytes (11 by default): the client process's number in
// its row, "/", and the request's number with leading zeros (longer when the number
// needs it).
//
// # Compare
//
// ebbench compare measures two ebbroker binaries in one run: --rounds rounds, each
// binary once a round in alternating order, each time with a broker process and echo
// workers of its own, the lockstep rows (and the credit rows with --credit). It
// prints the median rate of each binary, the ratio of the medians new / baseline and
// the range of the per-round ratios; --json gives each row's rates round by round.
// The workers and clients are this ebbench's in both turns, unless --baseline-ebbench
// names another ebbench for the baseline's turns (to compare Client and Worker
// changes too).
//
// # What is counted
//
// Every request body is unique among the clients that run at once (client number /
// sequence number) and the echo must return it byte for byte. Each request a client process issued ends in exactly
// one of:
//
//   - reply: its own body came back;
//   - mismatched: a reply came back that is not its own body (answered wrongly);
//   - failed: a typed failure, a *zmq.RequestError matching zmq.ErrTimeout (every
//     attempt timed out) or zmq.ErrRefused (the broker refused it: queue full, expired
//     in the queue, worker died, broker shut down), counted by reason;
//   - lost: anything else. The Request call returned an untyped error (zmq.ErrClosed,
//     a socket error such as EINTR), or it did not return within 2 s plus
//     timeout × attempts after the load ended (DESIGN.md guarantee 2 says it must),
//     or the client process died before it reported (then what it had issued and
//     not seen end).
//
// The raw echo has no retry and no typed failure: a missing echo is lost.
//
// ebbench and ebbench soak exit 1 when anything was lost or answered wrongly, or when
// a process of ours died by itself: exited without being told to, or a client exited
// with a status other than 0 after its report; also when a Client ended with an error
// of its own (Client.Close returns it), since that is a client dying inside its
// process. A client process whose Client ended stops issuing, so a soak whose clients
// all ended stops early, and says so. Typed failures are reported, by
// reason, but do not fail a run: under chaos a request may legitimately time out
// while no worker exists at all. Each death is printed with the last lines of the
// process's stderr, and the stderr lines that name EINTR ("interrupted system call")
// are counted by role.
//
// # Soak
//
// ebbench soak runs --clients client processes with --callers goroutines each on one
// Client, back to back, for --duration, against --workers echo workers whose handler
// sleeps up to --delay-max. About every --chaos-every a running worker chosen at
// random is killed -9 (a new process starts 0–0.5 s later), stopped with SIGSTOP
// (SIGCONT 0.2–2 s later) or stopped with SIGTERM and restarted. The broker is killed
// -9 and restarted on the same ports --broker-restarts times, evenly spread. A worker
// or broker that dies by itself is replaced so the soak goes on, and its death fails
// the soak. At the end the clients stop issuing; the requests outstanding get their
// time to end, then every process is ended. The chaos is drawn from --seed (printed).
package main
