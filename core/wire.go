package core

import (
	"encoding/hex"
	"fmt"
)

// Protocol headers of MDP/0.1 (RFC 7): frame 1 of every client and worker message.
const (
	ClientHeader = "MDPC01"
	WorkerHeader = "MDPW01"
)

// Command is the one-byte MDP/Worker command (RFC 7).
type Command byte

// The MDP/Worker commands.
const (
	Ready      Command = 0x01
	Request    Command = 0x02
	Reply      Command = 0x03
	Heartbeat  Command = 0x04
	Disconnect Command = 0x05
)

// String returns the command's RFC 7 name, e.g. "READY".
func (c Command) String() string {
	switch c {
	case Ready:
		return "READY"
	case Request:
		return "REQUEST"
	case Reply:
		return "REPLY"
	case Heartbeat:
		return "HEARTBEAT"
	case Disconnect:
		return "DISCONNECT"
	}
	return fmt.Sprintf("COMMAND(0x%02x)", byte(c))
}

// Status is the outcome code a broker puts in the ebwrk envelope of a reply. StatusOK
// marks a worker's reply; the others mark a failure made by the broker, which only
// ebwrk clients (those that sent an envelope) ever receive.
type Status byte

// The envelope statuses.
const (
	StatusOK         Status = 0 // a worker's reply
	StatusQueueFull  Status = 1 // the service's queue was at its bound
	StatusExpired    Status = 2 // the request expired in the queue before a worker took it
	StatusWorkerDied Status = 3 // the worker holding the request died (fail policy)
	StatusShutdown   Status = 4 // the broker stopped before the request was answered
)

// String returns a short lower-case name for the status.
func (s Status) String() string {
	switch s {
	case StatusOK:
		return "ok"
	case StatusQueueFull:
		return "queue full"
	case StatusExpired:
		return "expired in queue"
	case StatusWorkerDied:
		return "worker died"
	case StatusShutdown:
		return "broker shut down"
	}
	return fmt.Sprintf("status(%d)", byte(s))
}

// Socket says on which broker socket a peer is connected. A broker with a single
// socket puts every peer on Frontend.
type Socket uint8

// The broker's sockets.
const (
	Frontend Socket = 0 // clients by default (ebwrkapi: tcp://*:5555)
	Backend  Socket = 1 // workers by default (ebwrkapi: tcp://*:5556)
)

// String returns "front" or "back".
func (s Socket) String() string {
	if s == Backend {
		return "back"
	}
	if s == Frontend {
		return "front"
	}
	return fmt.Sprintf("socket%d", uint8(s))
}

// Peer names a connection at the broker: the socket it came in on and its ROUTER
// identity. Identities are unique per socket only, so both are needed.
type Peer struct {
	Socket Socket
	ID     string
}

// String returns "front:c1", or the identity in hex when it is not printable.
func (p Peer) String() string {
	return p.Socket.String() + ":" + printable(p.ID)
}

// printable returns s when it is printable ASCII, else "0x" and its hex.
func printable(s string) string {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return "0x" + hex.EncodeToString([]byte(s))
		}
	}
	if s == "" {
		return `""`
	}
	return s
}
