package live

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// ZMTP 3.x (RFC 23/ZMTP, RFC 37/ZMTP 3.1) framing, as far as the proxy needs it.
const (
	greetingLen = 64   // signature, version, mechanism, as-server, filler
	flagMore    = 0x01 // another frame of the same message follows
	flagLong    = 0x02 // the size is 8 octets, not 1
	flagCommand = 0x04 // a command frame (READY, PING, ...), not a message frame
	maxFrame    = 1 << 28
)

// errFrameTooLong refuses a frame the proxy will not buffer.
var errFrameTooLong = errors.New("live: zmtp frame too long")

// zmtpUnit is what the proxy reads from one direction of a connection after the
// greeting: a whole command, or a whole message (every frame up to the last).
type zmtpUnit struct {
	raw     []byte   // the bytes as read, headers included, to forward unchanged
	bodies  [][]byte // the frames' bodies, sub-slices of raw
	command bool
}

// readGreeting copies the 64 greeting octets from r to w as they come: libzmq sends
// the signature first and the rest only after it has seen the peer's, so the proxy
// must not wait for all 64 before forwarding.
func readGreeting(r *bufio.Reader, w io.Writer) error {
	buf := make([]byte, greetingLen)
	n := 0
	for n < greetingLen {
		k, err := r.Read(buf[n:])
		if k > 0 {
			if _, werr := w.Write(buf[n : n+k]); werr != nil {
				return werr
			}
			n += k
		}
		if err != nil {
			return err
		}
	}
	if buf[0] != 0xff || buf[9] != 0x7f {
		return fmt.Errorf("live: not a ZMTP 3 greeting (signature % x)", buf[:10])
	}
	if buf[10] < 3 {
		return fmt.Errorf("live: ZMTP version %d.%d: the proxy speaks 3.x", buf[10], buf[11])
	}
	return nil
}

// readUnit reads the next command or whole message.
func readUnit(r *bufio.Reader) (zmtpUnit, error) {
	var u zmtpUnit
	type span struct{ from, to int }
	var spans []span
	for {
		flags, err := r.ReadByte()
		if err != nil {
			return u, err
		}
		u.raw = append(u.raw, flags)
		var size uint64
		if flags&flagLong != 0 {
			var b [8]byte
			if _, err := io.ReadFull(r, b[:]); err != nil {
				return u, err
			}
			u.raw = append(u.raw, b[:]...)
			size = binary.BigEndian.Uint64(b[:])
		} else {
			b, err := r.ReadByte()
			if err != nil {
				return u, err
			}
			u.raw = append(u.raw, b)
			size = uint64(b)
		}
		if size > maxFrame {
			return u, errFrameTooLong
		}
		from := len(u.raw)
		u.raw = append(u.raw, make([]byte, size)...)
		if _, err := io.ReadFull(r, u.raw[from:]); err != nil {
			return u, err
		}
		spans = append(spans, span{from, len(u.raw)})
		if flags&flagCommand != 0 {
			u.command = true
			break
		}
		if flags&flagMore == 0 {
			break
		}
	}
	u.bodies = make([][]byte, len(spans))
	for i, s := range spans {
		u.bodies[i] = u.raw[s.from:s.to:s.to]
	}
	return u, nil
}

// isHeartbeat reports whether a message is an MDP/Worker HEARTBEAT ("", "MDPW01",
// 0x04): the same frames in both directions, since the broker's ROUTER strips the
// identity before the wire and the worker's DEALER adds none.
func isHeartbeat(bodies [][]byte) bool {
	return len(bodies) == 3 && len(bodies[0]) == 0 && string(bodies[1]) == "MDPW01" &&
		len(bodies[2]) == 1 && bodies[2][0] == 0x04
}
