package zmq

/*
#cgo !windows pkg-config: libzmq
#include <zmq.h>
#include <string.h>
#include <errno.h>

#define EBWRK_PARTS 16

// The parts of one message, received and not yet copied out.
typedef struct {
	zmq_msg_t part[EBWRK_PARTS];
	int n;
} ebwrk_rx;

// ebwrk_recv receives the parts of one message into rx, at most EBWRK_PARTS, and
// their sizes into sizes. It returns how many it received, and sets *more when the
// message has parts left; or -1 with errno. Only the first part can be waited for:
// ZeroMQ delivers the parts of a message together.
static int ebwrk_recv(void *sock, int flags, ebwrk_rx *rx, size_t *sizes, int *more) {
	rx->n = 0;
	*more = 0;
	do {
		zmq_msg_t *m = &rx->part[rx->n];
		zmq_msg_init(m);
		if (zmq_msg_recv(m, sock, flags) < 0) {
			int e = errno;
			for (int i = 0; i <= rx->n; i++) {
				zmq_msg_close(&rx->part[i]);
			}
			rx->n = 0;
			errno = e;
			return -1;
		}
		sizes[rx->n++] = zmq_msg_size(m);
		*more = zmq_msg_more(m);
		flags = ZMQ_DONTWAIT;
	} while (*more && rx->n < EBWRK_PARTS);
	return rx->n;
}

// ebwrk_take copies the parts held in rx, one after the other, to dst and releases
// them.
static void ebwrk_take(ebwrk_rx *rx, char *dst) {
	for (int i = 0; i < rx->n; i++) {
		size_t size = zmq_msg_size(&rx->part[i]);
		if (size > 0) {
			memcpy(dst, zmq_msg_data(&rx->part[i]), size);
			dst += size;
		}
		zmq_msg_close(&rx->part[i]);
	}
	rx->n = 0;
}

// ebwrk_send sends n parts, laid one after the other in buf with the given sizes,
// without blocking; more marks the last of them as not the last of the message. It
// returns 0, or -1 with errno (only the first part can fail: ZeroMQ admits or
// refuses a message as a whole).
static int ebwrk_send(void *sock, const char *buf, const size_t *sizes, int n, int more) {
	for (int i = 0; i < n; i++) {
		int flags = ZMQ_DONTWAIT;
		if (i < n - 1 || more) {
			flags |= ZMQ_SNDMORE;
		}
		if (zmq_send(sock, buf, sizes[i], flags) < 0) {
			return -1;
		}
		buf += sizes[i];
	}
	return 0;
}
*/
import "C"

import (
	"syscall"
	"unsafe"

	zmq4 "github.com/pebbe/zmq4"
)

// The hot path of every loop receives and sends whole messages in one cgo call each,
// where zmq4 makes six calls per received part and one per sent part. These helpers
// work on the libzmq socket of a *zmq4.Socket; everything else (contexts, options,
// binding, closing) stays with zmq4.

// maxParts is how many parts one call takes; longer messages take more calls.
const maxParts = C.EBWRK_PARTS

// socketPtr returns the libzmq socket of s: the first field of zmq4.Socket (v1.4.0,
// pinned in go.mod; TestSocketPtr checks it against zmq4's own view of the socket).
func socketPtr(s *zmq4.Socket) unsafe.Pointer {
	return *(*unsafe.Pointer)(unsafe.Pointer(s))
}

// zmqErr turns the errno of a cgo call into the error zmq4 would return.
func zmqErr(err error) error {
	if eno, ok := err.(syscall.Errno); ok {
		return zmq4.Errno(eno)
	}
	return err
}

// recvScratch receives messages; its buffers are reused from one message to the next,
// but the frames it returns are new and owned by the caller (one allocation holds
// them all).
type recvScratch struct {
	rx     C.ebwrk_rx
	sizes  [maxParts]C.size_t
	frames [][]byte
	user   userID // the User-Id of the message, when on (curve_msg.go)
}

// recv receives one whole message; EAGAIN (see isAgain) means there is none. With
// wait it waits for one as long as the socket's RCVTIMEO says.
func (r *recvScratch) recv(s *zmq4.Socket, wait bool) ([][]byte, error) {
	if err := r.read(s, wait); err != nil {
		return nil, err
	}
	return r.take(0), nil
}

// recvRouted is recv at a ROUTER: it returns the identity frame apart from the rest.
func (r *recvScratch) recvRouted(s *zmq4.Socket, wait bool) ([]byte, [][]byte, error) {
	if err := r.read(s, wait); err != nil {
		return nil, nil, err
	}
	// A ROUTER always prefixes the identity, so there is at least one frame.
	return r.frames[0], r.take(1), nil
}

// read receives the parts of one message into r.frames.
func (r *recvScratch) read(s *zmq4.Socket, wait bool) error {
	clear(r.frames)
	r.frames = r.frames[:0]
	flags := C.int(zmq4.DONTWAIT)
	if wait {
		flags = 0
	}
	sock := socketPtr(s)
	for {
		var more C.int
		n, err := C.ebwrk_recv(sock, flags, &r.rx, &r.sizes[0], &more)
		if n < 0 {
			return zmqErr(err)
		}
		if r.user.on && len(r.frames) == 0 {
			r.user.read(&r.rx.part[0])
		}
		total := 0
		for i := range int(n) {
			total += int(r.sizes[i])
		}
		buf := make([]byte, total)
		var dst *C.char
		if total > 0 {
			dst = (*C.char)(unsafe.Pointer(&buf[0]))
		}
		C.ebwrk_take(&r.rx, dst)
		for i := range int(n) {
			size := int(r.sizes[i])
			r.frames = append(r.frames, buf[:size:size])
			buf = buf[size:]
		}
		if more == 0 {
			return nil
		}
		flags = C.int(zmq4.DONTWAIT)
	}
}

// take copies r.frames[from:] to a new slice of the exact length.
func (r *recvScratch) take(from int) [][]byte {
	out := make([][]byte, len(r.frames)-from)
	copy(out, r.frames[from:])
	return out
}

// sendScratch lays out the parts of a message for one cgo call; reused.
type sendScratch struct {
	buf   []byte
	sizes [maxParts]C.size_t
}

// send sends frames as one message without blocking.
func (w *sendScratch) send(s *zmq4.Socket, frames [][]byte) error {
	return w.sendParts(s, nil, false, frames)
}

// sendRouted sends frames as one message to the peer id of a ROUTER, without
// blocking. With ROUTER_MANDATORY the error of an undeliverable message comes from the
// identity frame, before anything is queued: EHOSTUNREACH when the peer is gone,
// EAGAIN when its queue is at the high-water mark.
func (w *sendScratch) sendRouted(s *zmq4.Socket, id []byte, frames [][]byte) error {
	return w.sendParts(s, id, true, frames)
}

// sendParts sends the identity frame when routed, then frames, maxParts at a time.
func (w *sendScratch) sendParts(s *zmq4.Socket, id []byte, routed bool, frames [][]byte) error {
	sock := socketPtr(s)
	w.buf = w.buf[:0]
	n := 0
	if routed {
		w.buf = append(w.buf, id...)
		w.sizes[0] = C.size_t(len(id))
		n = 1
	}
	for i, f := range frames {
		w.buf = append(w.buf, f...)
		w.sizes[n] = C.size_t(len(f))
		n++
		if n == maxParts || i == len(frames)-1 {
			more := C.int(0)
			if i < len(frames)-1 {
				more = 1
			}
			if err := w.flush(sock, n, more); err != nil {
				return err
			}
			n = 0
		}
	}
	if n > 0 { // routed with no frames: the identity alone
		return w.flush(sock, n, 0)
	}
	return nil
}

// flush sends the n parts laid out in w.buf.
func (w *sendScratch) flush(sock unsafe.Pointer, n int, more C.int) error {
	var p *C.char
	if len(w.buf) > 0 {
		p = (*C.char)(unsafe.Pointer(&w.buf[0]))
	}
	if rc, err := C.ebwrk_send(sock, p, &w.sizes[0], C.int(n), more); rc < 0 {
		return zmqErr(err)
	}
	w.buf = w.buf[:0]
	return nil
}
