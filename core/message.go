package core

// Protocol tells the two MDP/0.1 sub-protocols apart by their header frame.
type Protocol uint8

// The sub-protocols.
const (
	ClientProtocol Protocol = 1 // "MDPC01": client requests and broker replies
	WorkerProtocol Protocol = 2 // "MDPW01": the worker commands
)

// String returns the protocol's header, "MDPC01" or "MDPW01".
func (p Protocol) String() string {
	switch p {
	case ClientProtocol:
		return ClientHeader
	case WorkerProtocol:
		return WorkerHeader
	}
	return "protocol?"
}

// Message is one parsed MDP/0.1 message: what follows the ROUTER identity at the
// broker, or what a DEALER receives. Parse fills it and Frames builds it back.
// Service, Address and Body alias the parsed frames; nothing is copied.
//
// Client sub-protocol (REQUEST from a client and REPLY from the broker look alike):
//
//	[envelope] "" "MDPC01" service body...
//
// where the optional envelope is the ebwrk extension: 8 bytes of big-endian sequence
// number, plus a ninth byte with a non-zero Status on a broker-made failure.
//
// Worker sub-protocol:
//
//	"" "MDPW01" 0x01 service [credit]             READY
//	"" "MDPW01" 0x02 address "" body...           REQUEST
//	"" "MDPW01" 0x03 address "" body...           REPLY
//	"" "MDPW01" 0x04                              HEARTBEAT
//	"" "MDPW01" 0x05                              DISCONNECT
//
// where the optional credit frame of READY is the ebwrk extension: how many requests
// the worker may hold at once, in decimal ASCII ("16"), from 1 to MaxCredit.
type Message struct {
	Protocol Protocol
	Command  Command  // worker sub-protocol only
	Envelope bool     // client sub-protocol: the ebwrk sequence envelope is present
	Seq      uint64   // the envelope's sequence number
	Status   Status   // the envelope's status (replies only; StatusOK otherwise)
	Service  []byte   // client messages and READY
	Credit   int      // READY: the announced credit; 0 when the frame is absent (plain MDP)
	Address  []byte   // REQUEST and REPLY: the client address frame
	Body     [][]byte // client messages, REQUEST and REPLY
}
