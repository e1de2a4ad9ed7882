package mem

import (
	"strconv"
	"strings"
	"time"
)

// Envelope describes one message, for the filter and the trace hook. The pointer
// handed to them is valid only during the call: copy what must be kept.
type Envelope struct {
	ID       uint64   // the message's number in the network, from 1; a duplicate keeps it
	FromNode string   // the sending node
	ToNode   string   // the receiving node ("" when no router was bound)
	Identity string   // the identity of the connection the message travels on
	Addr     string   // the address the connection goes to
	ToRouter bool     // true: dealer → router; false: router → dealer
	Frames   [][]byte // the frames, not copied: do not modify them
}

// String describes the message in one line: "#7 c1→broker c1.1@front 3 frames".
func (e *Envelope) String() string {
	var b strings.Builder
	b.Grow(48)
	b.WriteByte('#')
	b.WriteString(strconv.FormatUint(e.ID, 10))
	b.WriteByte(' ')
	b.WriteString(e.FromNode)
	b.WriteString("→")
	if e.ToNode == "" {
		b.WriteString("?")
	} else {
		b.WriteString(e.ToNode)
	}
	b.WriteByte(' ')
	b.WriteString(e.Identity)
	b.WriteByte('@')
	b.WriteString(e.Addr)
	b.WriteByte(' ')
	b.WriteString(strconv.Itoa(len(e.Frames)))
	if len(e.Frames) == 1 {
		b.WriteString(" frame")
	} else {
		b.WriteString(" frames")
	}
	return b.String()
}

// Verdict is what a filter decides for a message: Deliver, Drop, Duplicate or
// Delay(d). It is a number so that the verdicts are comparable constants: positive
// values are delays in nanoseconds.
type Verdict int64

// The verdicts that are not delays.
const (
	// Deliver lets the message through (it may still meet a link fault).
	Deliver Verdict = 0
	// Drop loses the message (CauseFilter).
	Drop Verdict = -1
	// Duplicate delivers the message twice on its connection, the copy right after
	// the original (each copy draws its own jitter; FIFO keeps them in order).
	Duplicate Verdict = -2
)

// Delay returns the verdict that adds d to the message's latency. Per-connection FIFO
// still holds, so the messages sent after it on its connection wait for it, while
// other connections overtake it: this is how reordering across connections is made.
// A d <= 0 is Deliver.
func Delay(d time.Duration) Verdict {
	if d <= 0 {
		return Deliver
	}
	return Verdict(d)
}

// Delayed returns the delay a Delay verdict adds, and 0 for the others.
func (v Verdict) Delayed() time.Duration { return time.Duration(max(v, 0)) }

// String returns "deliver", "drop", "duplicate" or "delay 5ms".
func (v Verdict) String() string {
	switch {
	case v == Deliver:
		return "deliver"
	case v == Drop:
		return "drop"
	case v == Duplicate:
		return "duplicate"
	case v > 0:
		return "delay " + time.Duration(v).String()
	}
	return "verdict(" + strconv.FormatInt(int64(v), 10) + ")"
}

// SetFilter installs f, called once for every message sent on a link that is not
// partitioned, before the random link faults; nil removes it. Duplicates made by the
// network are not filtered again.
func (n *Network) SetFilter(f func(m *Envelope) Verdict) { n.filter = f }

// Cause says why a message was lost.
type Cause uint8

// The causes of loss.
const (
	CauseFilter    Cause = iota + 1 // the filter said Drop
	CauseLink                       // a random link fault (Faults.Drop)
	CausePartition                  // the nodes were partitioned at send or delivery time
	CauseNoRouter                   // a dealer sent while no router was bound at its address
	CauseClosed                     // an endpoint was closed or the connection cut in flight
)

// String returns "filter", "link", "partition", "no-router" or "closed".
func (c Cause) String() string {
	switch c {
	case 0:
		return "delivered"
	case CauseFilter:
		return "filter"
	case CauseLink:
		return "link"
	case CausePartition:
		return "partition"
	case CauseNoRouter:
		return "no-router"
	case CauseClosed:
		return "closed"
	}
	return "cause(" + strconv.Itoa(int(c)) + ")"
}

// SetTrace installs f, called once with each copy of a message when its fate is known:
// with cause 0 just before the receiver's handler runs, or with the cause of its loss
// (at send time, or at delivery time for CauseClosed and a partition in between).
// nil removes it.
func (n *Network) SetTrace(f func(m *Envelope, dropped Cause)) { n.trace = f }

// Faults are random faults on the messages of one direction of a link. Each
// probability is drawn independently per message from the network's Rand, in the
// order Drop, Duplicate, DelayProb, and only when it is positive.
type Faults struct {
	Drop      float64       // probability of loss (CauseLink)
	Duplicate float64       // probability of a second copy, as the Duplicate verdict
	Delay     time.Duration // the latency added to a delayed message, as Delay(Delay)
	DelayProb float64       // probability that a message is delayed
}

// linkKey names a pair of nodes by id; 0 is the wildcard "*".
type linkKey struct{ a, b int32 }

// SetLinkFaults sets the random faults of messages from node from to node to; "*"
// for either matches any node. The most specific setting applies: (from, to), then
// (from, "*"), then ("*", to), then ("*", "*"). Zero Faults remove the setting.
func (n *Network) SetLinkFaults(from, to string, f Faults) {
	k := linkKey{n.nodeFor(from).id, n.nodeFor(to).id}
	if f == (Faults{}) {
		delete(n.links, k)
		return
	}
	if n.links == nil {
		n.links = make(map[linkKey]Faults)
	}
	n.links[k] = f
}

// linkFaults returns the faults that apply from node id a to node id b.
func (n *Network) linkFaults(a, b int32) (Faults, bool) {
	for _, k := range [4]linkKey{{a, b}, {a, 0}, {0, b}, {0, 0}} {
		if f, ok := n.links[k]; ok {
			return f, true
		}
	}
	return Faults{}, false
}

// pair returns the unordered key of nodes a and b.
func pair(a, b int32) linkKey {
	if a > b {
		a, b = b, a
	}
	return linkKey{a, b}
}

// Partition cuts the link between nodes a and b, both ways; "*" for b isolates a from
// every node. Messages between them are dropped (CausePartition) when sent and when
// they arrive while partitioned: unlike TCP, which would queue them until the link
// came back, we model a lost link. Connections stay open: after Heal messages flow
// again on them.
func (n *Network) Partition(a, b string) {
	if n.parts == nil {
		n.parts = make(map[linkKey]struct{})
	}
	n.parts[pair(n.nodeFor(a).id, n.nodeFor(b).id)] = struct{}{}
}

// Heal ends a Partition with the same two nodes (in either order).
func (n *Network) Heal(a, b string) {
	delete(n.parts, pair(n.nodeFor(a).id, n.nodeFor(b).id))
}

// Partitioned reports whether messages between nodes a and b are dropped now.
func (n *Network) Partitioned(a, b string) bool {
	if len(n.parts) == 0 {
		return false
	}
	return n.partitioned(n.nodeFor(a).id, n.nodeFor(b).id)
}

// partitioned reports whether a partition covers nodes a and b.
func (n *Network) partitioned(a, b int32) bool {
	for _, k := range [4]linkKey{pair(a, b), pair(a, 0), pair(b, 0), {0, 0}} {
		if _, ok := n.parts[k]; ok {
			return true
		}
	}
	return false
}

// Stats counts the messages of a network. Each copy of a message ends delivered or
// dropped: Sent + Duplicated = Delivered + Dropped() + InFlight.
type Stats struct {
	Sent             uint64 // messages accepted by Send
	Delivered        uint64 // copies handed to a receiver
	Duplicated       uint64 // extra copies made by Duplicate faults
	Delayed          uint64 // messages given extra latency by Delay faults
	DroppedFilter    uint64 // lost to the filter
	DroppedLink      uint64 // lost to a random link fault
	DroppedPartition uint64 // lost to a partition
	DroppedNoRouter  uint64 // sent by a dealer while no router was bound
	DroppedClosed    uint64 // lost because an endpoint closed or the connection was cut
	InFlight         uint64 // copies scheduled and not yet arrived
}

// Dropped returns the messages lost, all causes together.
func (s Stats) Dropped() uint64 {
	return s.DroppedFilter + s.DroppedLink + s.DroppedPartition + s.DroppedNoRouter + s.DroppedClosed
}

// Stats returns the network's counters.
func (n *Network) Stats() Stats { return n.stats }
