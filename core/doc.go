// Package core is the ebwrk protocol — MDP/0.1 (ZeroMQ RFC 7) with MMI (RFC 8) and the
// ebwrk extensions — as pure state machines: Broker, Client and Worker, and the wire
// codec they share. Nothing here reads a clock, sleeps, starts goroutines, does I/O or
// logs: every input carries now, and every effect is returned as data.
//
// A driver (transport/zmq with the wall clock, sim with a virtual one) runs each
// machine in the same loop:
//
//  1. Wait for a message or for the machine's NextDeadline, whichever comes first.
//  2. Call Receive with the message, or Advance with the time.
//  3. Call Drain and carry out the outputs in order: SendOutput, ConnectOutput; hand
//     DeliverOutput and FailOutput to the application; log or count EventOutput.
//
// Peer input never panics: a malformed message is dropped, counted and reported as an
// InputDropped event whose Err is a *ParseError.
package core
