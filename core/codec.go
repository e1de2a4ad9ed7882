package core

import (
	"encoding/binary"
	"strconv"
)

// Shared header frames. They are sent as they are; nobody may modify them.
var (
	emptyFrame        = []byte{}
	clientHeaderFrame = []byte(ClientHeader)
	workerHeaderFrame = []byte(WorkerHeader)
	commandFrames     = [...][]byte{{0}, {byte(Ready)}, {byte(Request)}, {byte(Reply)}, {byte(Heartbeat)}, {byte(Disconnect)}}
)

// Parse reads one MDP/0.1 message (see Message for the layouts). It never panics; a
// message that does not follow RFC 7 gets a *ParseError saying what is wrong. The
// result aliases frames.
func Parse(frames [][]byte) (Message, error) {
	var m Message
	if len(frames) < 2 {
		return m, parseErr(TooFewFrames, frames, -1)
	}
	if len(frames[0]) != 0 {
		// Only a client message may start with the ebwrk envelope.
		if len(frames) < 4 {
			return m, parseErr(TooFewFrames, frames, -1)
		}
		if len(frames[1]) != 0 {
			return m, parseErr(MissingDelimiter, frames, 1)
		}
		if string(frames[2]) != ClientHeader {
			return m, parseErr(WrongHeader, frames, 2)
		}
		env := frames[0]
		switch {
		case len(env) == 8:
		case len(env) == 9 && env[8] != 0:
			m.Status = Status(env[8])
		default:
			return m, parseErr(BadEnvelope, frames, 0)
		}
		m.Protocol = ClientProtocol
		m.Envelope = true
		m.Seq = binary.BigEndian.Uint64(env)
		m.Service = frames[3]
		m.Body = frames[4:]
		return m, nil
	}
	switch string(frames[1]) {
	case ClientHeader:
		if len(frames) < 3 {
			return m, parseErr(TooFewFrames, frames, -1)
		}
		m.Protocol = ClientProtocol
		m.Service = frames[2]
		m.Body = frames[3:]
		return m, nil
	case WorkerHeader:
		return parseWorker(frames)
	}
	return m, parseErr(WrongHeader, frames, 1)
}

// parseWorker reads the worker sub-protocol; frames[0] is empty and frames[1] the header.
func parseWorker(frames [][]byte) (Message, error) {
	m := Message{Protocol: WorkerProtocol}
	if len(frames) < 3 {
		return m, parseErr(TooFewFrames, frames, -1)
	}
	if len(frames[2]) != 1 {
		return m, parseErr(BadCommandFrame, frames, 2)
	}
	m.Command = Command(frames[2][0])
	switch m.Command {
	case Ready:
		if len(frames) < 4 {
			return m, parseErr(TooFewFrames, frames, -1)
		}
		if len(frames) > 5 {
			return m, parseErr(TooManyFrames, frames, 5)
		}
		m.Service = frames[3]
		if len(frames) == 5 {
			// ebwrk: the worker's credit, after the service RFC 7 defines.
			c, ok := parseCredit(frames[4])
			if !ok {
				return m, parseErr(BadCredit, frames, 4)
			}
			m.Credit = c
		}
	case Request, Reply:
		if len(frames) < 5 {
			return m, parseErr(TooFewFrames, frames, -1)
		}
		if len(frames[4]) != 0 {
			// RFC 7: precisely one address frame, then an empty one.
			for i := 5; i < len(frames); i++ {
				if len(frames[i]) == 0 {
					return m, parseErr(MultipleAddresses, frames, 4)
				}
			}
			return m, parseErr(MissingDelimiter, frames, 4)
		}
		m.Address = frames[3]
		m.Body = frames[5:]
	case Heartbeat, Disconnect:
		if len(frames) > 3 {
			return m, parseErr(TooManyFrames, frames, 3)
		}
	default:
		return m, parseErr(UnknownCommand, frames, 2)
	}
	return m, nil
}

// Frames builds the message's frames; Parse(m.Frames()) gives m back for every message
// Parse accepts. Service, Address and Body are not copied.
func (m *Message) Frames() [][]byte {
	return m.AppendFrames(nil)
}

// AppendFrames appends the message's frames to dst and returns the extended slice.
func (m *Message) AppendFrames(dst [][]byte) [][]byte {
	if m.Protocol == ClientProtocol {
		if m.Envelope {
			dst = append(dst, envelope(m.Seq, m.Status))
		}
		dst = append(dst, emptyFrame, clientHeaderFrame, m.Service)
		return append(dst, m.Body...)
	}
	dst = append(dst, emptyFrame, workerHeaderFrame, commandFrame(m.Command))
	switch m.Command {
	case Ready:
		dst = append(dst, m.Service)
		if m.Credit > 0 {
			dst = append(dst, strconv.AppendInt(nil, int64(m.Credit), 10))
		}
	case Request, Reply:
		dst = append(dst, m.Address, emptyFrame)
		dst = append(dst, m.Body...)
	}
	return dst
}

// commandFrame returns the shared one-byte frame of a command.
func commandFrame(c Command) []byte {
	if int(c) < len(commandFrames) && c != 0 {
		return commandFrames[c]
	}
	return []byte{byte(c)}
}

// envelope builds the ebwrk envelope frame: the sequence number, and the status byte
// when it is not StatusOK.
func envelope(seq uint64, s Status) []byte {
	if s == StatusOK {
		e := make([]byte, 8)
		binary.BigEndian.PutUint64(e, seq)
		return e
	}
	e := make([]byte, 9)
	binary.BigEndian.PutUint64(e, seq)
	e[8] = byte(s)
	return e
}

// MaxCredit is the largest credit a worker may announce in READY.
const MaxCredit = 65535

// parseCredit reads the credit frame of a READY: a decimal number from 1 to MaxCredit,
// ASCII digits only, no sign and no leading zero.
func parseCredit(f []byte) (int, bool) {
	if len(f) == 0 || len(f) > 5 || f[0] == '0' {
		return 0, false
	}
	n := 0
	for _, c := range f {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = 10*n + int(c-'0')
	}
	if n > MaxCredit {
		return 0, false
	}
	return n, true
}
