// Package mem is an in-memory network with ZeroMQ ROUTER/DEALER semantics on a
// virtual clock, for deterministic simulation of ebwrk (see sim). It imports only the
// standard library and builds with CGO_ENABLED=0.
//
// # Clock
//
// A Clock holds virtual time (int64 nanoseconds since its start) and a binary heap of
// events. Events run one at a time in (time, sequence) order: two events due at the
// same instant run in the order they were scheduled, so a run never depends on map
// order or heap layout. At with a time in the past schedules at Now. Stop removes an
// event lazily (it is skipped when it reaches the top; the heap is compacted when
// skipped entries are the majority); Timer.Reset re-arms the same Timer without
// allocating, which suits a driver keeping one timer per state machine at its
// NextDeadline. Message deliveries are events on the same heap, so Events counts
// them too.
//
// # Network
//
// Bind puts a ROUTER at an address on a node; Connect opens a DEALER connection from a
// node to an address, with the identity "<node>.<k>" (k counts the node's connections
// from 1). A Dealer is one connection: reconnecting means Close and Connect again,
// which gives a new identity, as a new ZeroMQ socket does. Connections belong to the
// address, not to the router: a dealer may connect before any router binds (its
// messages are dropped, CauseNoRouter, until one does), and when a router is closed
// and another binds the same address, existing dealers reach the new router under
// their old identity and it can answer them at once (a DEALER reconnects
// transparently). Router.Send to an identity that has no open connection at its
// address fails with ErrUnreachable (ZMQ_ROUTER_MANDATORY); Dealer.Send after Close
// or Cut fails with ErrClosed.
//
// Every message is delivered Latency plus a jitter drawn uniformly from [0, Jitter)
// after it was sent, by an event on the Clock, and handed to the receiver's handler
// (a router's gets the sending connection's identity). Order is kept per connection
// and direction: a message is delivered at max(its drawn time, the delivery time of
// the previous message on that connection and direction), and at equal times in send
// order. Messages on different connections may reorder. Frames are not copied: the
// sender must not modify frames after Send, and receivers must not modify them
// (a duplicated message hands the same frames to the receiver twice).
//
// Losses in flight: when a router is closed, messages in flight to and from it are
// lost. When a dealer is closed, messages in flight to it are lost, and those it sent
// before still arrive (they have left, as with ZeroMQ's linger). When a connection is
// Cut, messages in flight both ways are lost and the router forgets the identity,
// with no notice to either side, as when a host dies.
//
// # Faults
//
// Each message sent meets, in this order: no router bound (dropped), a Partition
// between its nodes (dropped), the filter (SetFilter: Deliver, Drop, Duplicate or
// Delay(d); the simulator's scheduled faults and heartbeat loss, choosing by the
// frames), then the random link faults of its direction (SetLinkFaults, "*" a
// wildcard node: drop, duplicate and delay with the given probabilities). A
// Duplicate sends a second copy right behind the first on the same connection.
//
// Reordering across connections is produced by delay: a delayed message (filter
// Delay(d) or a link fault's Delay) arrives later than its latency, and because FIFO
// holds per connection, the later messages on its connection wait behind it while
// messages on other connections overtake it. Jitter alone does the same at a smaller
// scale. Nothing ever reorders messages within one connection and direction.
//
// A Partition drops the messages between two nodes, both ways, sent while it lasts
// and also those that arrive while it lasts (sent before it began). TCP would queue
// them and deliver after the link came back; we model a lost link instead, so the
// protocol's heartbeats and retries are what recovers. Heal ends it; connections stay
// open through it.
//
// # Determinism
//
// Every random draw comes from Config.Rand, in the order messages are sent: one jitter
// draw per copy when Jitter > 0, and per message one draw per positive probability of
// the link faults that apply. Maps are used only for lookups, never iterated. So the
// same seed and the same sequence of calls give the same delivery times and order.
//
// # Counters and traces
//
// Stats counts messages sent, delivered, duplicated, delayed and dropped by Cause;
// Sent + Duplicated = Delivered + Dropped + InFlight. SetTrace reports the fate of
// every copy, with an Envelope whose String is a one-line description.
//
// # Speed
//
// The per-message path allocates nothing in steady state: delivery records come from
// a free list, heap entries are 32-byte values, times are int64, and errors are
// sentinels. The only map lookups per message are the router's identity lookup
// (Router.Send) and, only when partitions or link faults are set, their tables.
package mem
