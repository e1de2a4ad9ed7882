package sim

import (
	"math/rand/v2"

	"github.com/ebwrk/ebwrk/core"
	"github.com/ebwrk/ebwrk/transport/mem"
)

// hostileName is the node of the hostile peer.
const hostileName = "evil"

// hostileNode is a peer that sends malformed messages to both broker sockets, for
// guarantee 7. It never reads what it gets back.
type hostileNode struct {
	r           *run
	idx         int
	name        string
	rng         *rand.Rand
	front, back *mem.Dealer
}

func newHostileNode(r *run, idx int) *hostileNode {
	return &hostileNode{r: r, idx: idx, name: hostileName, rng: r.streams.Stream("hostile")}
}

// malformedTemplates are messages that break RFC 7 in the ways core.Parse names.
var malformedTemplates = [][][]byte{
	{},
	{[]byte("x")},
	{{}, []byte(core.WorkerHeader)},
	{{}, []byte("MDPX01"), {byte(core.Ready)}},
	{{}, []byte(core.WorkerHeader), {0x09}},
	{{}, []byte(core.WorkerHeader), {byte(core.Heartbeat), byte(core.Heartbeat)}},
	{{}, []byte(core.WorkerHeader), {byte(core.Ready)}, []byte("echo"), []byte("extra")},
	{{}, []byte(core.WorkerHeader), {byte(core.Reply)}, []byte("c1.1"), []byte("x"), []byte("body")},
	{{}, []byte(core.WorkerHeader), {byte(core.Heartbeat)}, []byte("extra")},
	{{1, 2, 3}, {}, []byte(core.ClientHeader), []byte("echo")},
	{{}, []byte(core.ClientHeader)},
}

// connect connects to both broker sockets, the first time.
func (h *hostileNode) connect() {
	if h.front != nil {
		return
	}
	var err error
	if h.front, err = h.r.net.Connect(h.name, "front", nil); err == nil {
		h.back, err = h.r.net.Connect(h.name, "back", nil)
	}
	if err != nil {
		panic("sim: connect: " + err.Error()) // an internal invariant: names are valid
	}
}

// inject sends frames, as they are, to the broker's socket s.
func (h *hostileNode) inject(s core.Socket, frames [][]byte) {
	h.connect()
	d := h.front
	if s == core.Backend {
		d = h.back
	}
	_ = d.Send(frames) // the hostile peer does not care whether it arrives
}

// send sends one malformed message: a template or random frames, on a random socket.
func (h *hostileNode) send() {
	h.connect()
	frames := DrawMalformed(h.rng)
	d := h.front
	if h.rng.IntN(2) == 1 {
		d = h.back
	}
	_ = d.Send(frames) // the hostile peer does not care whether it arrives
}

// DrawMalformed draws one malformed message from g: one of the templates, or one to
// six random frames of up to seven random bytes. The hostile peers of sim and of the
// live driver (package live) both draw with it; the caller must not change the
// frames of a template.
func DrawMalformed(g *rand.Rand) [][]byte {
	if i := g.IntN(len(malformedTemplates) + 1); i < len(malformedTemplates) {
		return malformedTemplates[i]
	}
	frames := make([][]byte, 1+g.IntN(6))
	for j := range frames {
		f := make([]byte, g.IntN(8))
		for k := range f {
			f[k] = byte(g.Uint32())
		}
		frames[j] = f
	}
	return frames
}
