package sim

import (
	"time"

	"github.com/ebwrk/ebwrk/core"
)

// InputKind says which of core.Broker's input methods a broker step called.
type InputKind uint8

// The broker's inputs.
const (
	InputMessage     InputKind = iota + 1 // Receive(now, Peer, Frames)
	InputAdvance                          // Advance(now)
	InputUnreachable                      // Unreachable(now, Peer): a send found Peer gone
)

// BrokerInput is one input of the broker: what a broker step fed it.
type BrokerInput struct {
	Kind   InputKind
	Peer   core.Peer // InputMessage and InputUnreachable
	Frames [][]byte  // InputMessage
}

// Observer sees a World from inside, for a checker that judges it step by step
// (conformance's Checker). Its methods are called on the World's goroutine, in the
// order things happen, and must not act on the World. The slices it is given belong
// to the World and must not be kept.
type Observer interface {
	// BrokerStep is one broker input and everything it made the broker do: the
	// outputs of that input in order, then the broker's workers and services after
	// it. now is the broker's time of the input.
	BrokerStep(now time.Time, in BrokerInput, outs []core.Output, workers []core.WorkerInfo, services []core.ServiceInfo)
	// BrokerRestarted says the broker came up again with empty state after a
	// restart (World.RestartBroker or a broker-restart fault).
	BrokerRestarted(now time.Time)
	// ClientRequest is a request a client made (World.Request), before anything of it
	// is sent.
	ClientRequest(now time.Time, client string, cfg core.ClientConfig, seq uint64, service string, body [][]byte)
	// ClientEnded is a client's DeliverOutput (a reply it accepted) or FailOutput.
	ClientEnded(now time.Time, client string, o *core.Output)
}
