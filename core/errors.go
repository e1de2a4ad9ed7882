package core

import (
	"errors"
	"fmt"
)

// ErrMalformed is matched (errors.Is) by every error Parse returns.
var ErrMalformed = errors.New("core: malformed message")

// ParseProblem names what is wrong with a message that does not parse.
type ParseProblem uint8

// The parse problems.
const (
	TooFewFrames      ParseProblem = iota + 1 // fewer frames than the command needs
	TooManyFrames                             // more frames than the command allows
	WrongHeader                               // neither "MDPC01" nor "MDPW01"
	UnknownCommand                            // a command byte outside 0x01..0x05
	MissingDelimiter                          // the empty frame is not where it must be
	MultipleAddresses                         // REQUEST/REPLY with more than one client-address frame
	BadEnvelope                               // the ebwrk envelope is not 8 or 9 bytes, or has a bad status
	BadCommandFrame                           // the command frame is not exactly one byte
	BadCredit                                 // READY's credit frame is not a decimal 1..MaxCredit
)

var problemNames = [...]string{
	TooFewFrames:      "too few frames",
	TooManyFrames:     "too many frames",
	WrongHeader:       "wrong header",
	UnknownCommand:    "unknown command",
	MissingDelimiter:  "missing empty delimiter",
	MultipleAddresses: "more than one client-address frame",
	BadEnvelope:       "bad sequence envelope",
	BadCommandFrame:   "command frame is not one byte",
	BadCredit:         "bad credit",
}

// String returns the problem in a few words.
func (p ParseProblem) String() string {
	if int(p) < len(problemNames) && p != 0 {
		return problemNames[p]
	}
	return fmt.Sprintf("problem(%d)", uint8(p))
}

// ParseError says what is wrong with a message: the problem, the number of frames and,
// where it helps, the index of the offending frame. It matches ErrMalformed.
type ParseError struct {
	Problem ParseProblem
	Frames  int // how many frames the message had
	Index   int // the offending frame, or -1
}

// Error describes the problem, e.g. "core: malformed message: unknown command 0x09 at frame 2 of 3".
func (e *ParseError) Error() string {
	if e.Index >= 0 {
		return fmt.Sprintf("core: malformed message: %s at frame %d of %d", e.Problem, e.Index, e.Frames)
	}
	return fmt.Sprintf("core: malformed message: %s (%d frames)", e.Problem, e.Frames)
}

// Is makes every ParseError match ErrMalformed.
func (e *ParseError) Is(target error) bool { return target == ErrMalformed }

func parseErr(p ParseProblem, frames [][]byte, index int) error {
	return &ParseError{Problem: p, Frames: len(frames), Index: index}
}
