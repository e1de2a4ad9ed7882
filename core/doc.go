// Package core is the ebwrk protocol — MDP/0.1 (ZeroMQ RFC 7) with MMI (RFC 8) and the
// ebwrk extensions — as pure state machines: Broker, Client and Worker, and the wire
// codec they share. Nothing here reads a clock, sleeps, starts goroutines, does I/O or
// logs: every input carries now, and every effect is returned as data.
//
// # Driving a machine
//
// A driver (transport/zmq with the wall clock, sim with a virtual one) runs each
// machine in the same loop:
//
//  1. Wait for a message or for the machine's NextDeadline, whichever comes first.
//  2. Call Receive with the message, or Advance with the time. (A worker's driver also
//     calls Reply when the application answers; a client's calls Request.)
//  3. Call Drain and carry out the outputs in order: SendOutput, ConnectOutput; hand
//     DeliverOutput and FailOutput to the application; log or count EventOutput.
//
// Drain hands out a slice that stays valid until the next Drain. Output frames may
// share memory with the input frames and with shared header frames: drivers send them
// and never modify them.
//
// Peer input never panics: a malformed message is dropped, counted and reported as an
// InputDropped event whose Err is a *ParseError saying what is wrong.
//
// # The wire
//
// MDP/0.1 as RFC 7 writes it (see Message). The ebwrk extensions stay invisible to
// standard peers:
//
//   - The envelope. An ebwrk client puts one frame before the empty delimiter: its
//     request's sequence number, 8 bytes big-endian. The broker echoes it on the reply;
//     on a failure the broker made itself it appends a ninth byte, the Status (queue
//     full, expired in the queue, worker died, broker shut down). A plain REQ client
//     sends no envelope and is never sent a failure: it sees no reply and recovers by
//     its timeout, as RFC 7 expects.
//
//   - Request tracking. The broker remembers the request each busy worker holds; busy
//     workers are heartbeated and expire like idle ones; a dead worker's request is
//     requeued at the head of its queue (or failed, per BrokerConfig.OnWorkerDeath); a
//     reply from a worker that does not hold that request is dropped. With
//     BrokerConfig.HoldLimit set (off by default), a worker still holding a request
//     HoldLimit after its dispatch is treated as dead though it heartbeats: it gets
//     DISCONNECT and is removed (reason HeldTooLong), and the request is requeued or
//     failed as for a dead worker. This catches a worker whose reply was lost.
//
//   - Credit. A worker may hold up to N requests at once (opt-in; N = 1 is plain MDP).
//     It says so in READY with one frame after the service name, the credit in
//     decimal ASCII: "", "MDPW01", 0x01, service, "16". RFC 7 defines READY as four
//     frames and says nothing of more; the zguide brokers (C, Go, Python) read the
//     service frame and ignore what follows, so a standard broker registers the worker
//     and sends it one request at a time, which it handles fine. A decimal frame was
//     chosen over a property frame ("credit=16") as the smallest change that standard
//     brokers accept: positional like every other MDP frame, nothing to name or
//     escape; a later extension would take the next position. Valid credit: 1 to
//     MaxCredit, digits only, no sign, no leading zero; anything else makes the READY
//     invalid (ParseProblem BadCredit): RFC 7's rule for invalid messages applies, it
//     is dropped and reported, and the peer stays unknown (its next HEARTBEAT gets
//     DISCONNECT, like any peer that never registered). A sixth frame is malformed as
//     before (TooManyFrames). A worker announcing credit 1, or none, is served
//     exactly as RFC 7 says.
//
//     The broker dispatches to the least recently used worker with credit left (a
//     worker goes to the back of its service's waiting list at each dispatch and
//     stays on it while it has credit), never beyond a worker's credit, counts each
//     request held, heartbeats and expires a credit worker like any other, applies
//     HoldLimit to each held request (the worker goes when any one of them is late),
//     and when the worker goes requeues every request it held, in dispatch order,
//     ahead of the queue (or fails each, per OnWorkerDeath). mmi.service counts a
//     worker with no credit left as registered (200).
//
//     Replies. A REPLY names only the client address, and the ebwrk envelope (the
//     client's sequence number) never travels to the worker: a worker sees the address
//     frame and the body. So two requests of one client held by one worker would be
//     indistinguishable. For a worker with credit above 1 the broker makes the address
//     frame the client identity followed by a tag, 8 bytes big-endian, unique per
//     dispatch (a broker-wide counter); RFC 7 workers echo the address frame as they
//     got it, so the broker matches each reply to its request by the tag, whatever
//     the order of replies. A broker tag, not the client's sequence number, because a
//     retry carries the same sequence and a standard client has none. A credit
//     worker's reply whose address names no request it holds is dropped
//     (AddressMismatch, or NotHolding when it holds none) and what it holds stays
//     held. A plain worker's address frame is the bare client identity, as before.
//
// Choices where the RFCs are silent: the broker heartbeats all workers on one tick
// every HeartbeatInterval from its start and purges at those ticks, so a silent worker
// goes within Liveness × HeartbeatInterval plus one interval; queued requests expire at
// the same ticks. A request to a service without workers is queued (RFC 7 says
// SHOULD), creating the service until its queue drains. MMI "mmi.<name>" with no body
// is ebwrkapi's shorthand lookup of <name>; mmi.service with an empty body is thus a
// lookup of a service named "service". Broker-made failures carry no body.
//
// Authorization. The transport authenticates each connection (CURVE) and gives the
// broker the key with each message (ReceiveKey); BrokerConfig.Access says which keys
// may serve which services and which may send requests. A refused READY gets
// DISCONNECT and an InputDropped event (NotAuthorized) naming the key and service.
//
// # Where each rule is shown
//
// Each rule has an interaction script in testdata/ that fails when the rule breaks
// (TestBrokerScripts, TestClientScripts, TestWorkerScripts run them; -update rewrites
// the expected outputs).
//
// Broker, RFC 7 and RFC 8:
//
//	LRU dispatch to idle workers                        broker_dispatch_lru.txt
//	never dispatch to an expired worker                 broker_dispatch_skips_expired.txt
//	queue per service, bounded; refusal told to ebwrk   broker_queue_bound.txt
//	queued requests expire (configurable)               broker_queue_expiry.txt
//	services live only while used; mmi. creates nothing broker_service_lifetime.txt
//	heartbeats to idle AND busy workers                 broker_heartbeat_busy.txt
//	every silent worker purged, not only the first      broker_purge_all.txt
//	busy workers expire; their request is requeued      broker_purge_busy.txt
//	a purge's requeue skips and removes expired workers broker_purge_requeue_expired.txt
//	dead worker's request re-dispatched at once         broker_requeue.txt
//	on-death=fail: ebwrk client told "worker died"      broker_death_fail.txt
//	reply from a worker not holding it dropped          broker_stale_reply.txt
//	mmi.service 200 (idle or busy) / 404 / 501, mmi.<n> broker_mmi.txt
//	mmi answers the registry at that instant            broker_mmi_expired.txt
//	READY for an mmi. service → DISCONNECT              broker_ready_reserved.txt
//	second READY → DISCONNECT, worker forgotten         broker_second_ready.txt
//	HEARTBEAT/REPLY from unknown worker → DISCONNECT    broker_unknown_worker.txt
//	REQUEST from a worker → DISCONNECT                  broker_unexpected_command.txt
//	after a worker's DISCONNECT nothing is sent to it   broker_disconnect.txt
//	any command but DISCONNECT counts as a heartbeat    broker_heartbeat_any_command.txt
//	envelope echoed; standard clients unaffected        broker_envelope.txt
//	malformed input dropped with its reason             broker_malformed.txt
//	shutdown fails held and queued requests visibly     broker_shutdown.txt
//	undeliverable worker removed, request requeued      broker_unreachable.txt
//	hold limit: held too long → DISCONNECT, requeue;    broker_hold_limit.txt
//	  heartbeats do not save it; NextDeadline wakes
//	hold limit with on-death=fail: "worker died"        broker_hold_limit_fail.txt
//	reply just before the limit kept; fresh limit per   broker_hold_limit_kept.txt
//	  dispatch; NextDeadline back to the tick
//	credit frame in READY; malformed credit dropped      broker_credit_ready.txt
//	LRU among workers with credit left, never beyond    broker_credit_dispatch.txt
//	  credit; full workers queue; a reply frees a credit
//	tagged address: out-of-order replies of one client  broker_credit_reply.txt
//	  matched; unknown tag or client dropped
//	credit worker dies: every held request requeued,    broker_credit_death.txt
//	  in dispatch order, ahead of the queue
//	on-death=fail: every held request failed, in order  broker_credit_death_fail.txt
//	hold limit per held request                         broker_credit_hold_limit.txt
//	mmi.service: a full credit worker counts (200)      broker_credit_mmi.txt
//	READY from a key not granted the service refused    broker_access_workers.txt
//	requests only from allowed client keys              broker_access_clients.txt
//
// Client (sequence numbers, timeout, retries, MMI):
//
//	retry after each timeout with the same sequence      client_retry.txt
//	fail after exactly Attempts × Timeout                client_timeout.txt, client_timeout_default.txt
//	Attempts=1: one send, no retry                       client_timeout_once.txt
//	stale replies discarded and counted                  client_stale.txt
//	each request accepted at most once (duplicates)      client_duplicate.txt
//	broker-made failure ends the request with its reason client_broker_failure.txt
//	reply for another service discarded                  client_wrong_service.txt
//	malformed replies discarded                          client_malformed.txt
//	pipelined requests told apart by sequence            client_pipeline.txt
//	standard MDP: one outstanding, new socket per retry  client_standard.txt, client_standard_mismatch.txt
//	MMI lookups (mmi.service and mmi.<name>)             client_mmi.txt, client_mmi_standard.txt
//
// Worker (RFC 7 rules 1, 3, 6, 8, 9 and the ebwrk heartbeat while busy):
//
//	READY on connect                                     worker_ready.txt
//	heartbeat every interval                             worker_heartbeat.txt
//	heartbeat while the application holds a request      worker_heartbeat_busy.txt
//	broker lost after Liveness × interval; backoff       worker_broker_lost.txt
//	backoff 1 s doubling to 32 s; reset on contact       worker_backoff_cap.txt, worker_backoff_reset.txt
//	DISCONNECT → reconnect at once on a new connection   worker_disconnect.txt
//	one reply per request, with its client address      worker_reply.txt
//	reply while idle dropped                             worker_reply_idle.txt
//	one request at a time                                worker_busy_request.txt
//	credit N: READY says N; holds up to N; ReplyTo n     worker_credit.txt
//	credit 1: plain four-frame READY                     worker_credit_one.txt
//	commands a worker never receives dropped             worker_malformed.txt
//	Stop: DISCONNECT, then nothing                       worker_stop.txt, worker_stop_unstarted.txt
package core
