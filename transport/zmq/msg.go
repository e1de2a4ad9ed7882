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
// their sizes into sizes, and returns how many it received. *more says whether the
// last of them is not the last of the message. *err is 0, or the errno of the part
// that failed: it was not received, and the parts before it stay in rx. Only the
// first part can be waited for: ZeroMQ delivers the parts of a message together.
// fault, unless negative, is the index of a part to fail with fault_errno without
// trying it (faults, for tests).
static int ebwrk_recv(void *sock, int flags, ebwrk_rx *rx, size_t *sizes, int *more, int *err,
		int fault, int fault_errno) {
	rx->n = 0;
	*err = 0;
	do {
		if (rx->n == fault) {
			*err = fault_errno;
			return rx->n;
		}
		zmq_msg_t *m = &rx->part[rx->n];
		zmq_msg_init(m);
		if (zmq_msg_recv(m, sock, flags) < 0) {
			*err = errno;
			zmq_msg_close(m);
			return rx->n;
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
// returns how many it sent: n, or the index of the part that failed, with *err set
// to its errno. The part that failed was not sent; those before it are queued.
// fault, unless negative, is the index of a part to fail with fault_errno without
// trying it (faults, for tests).
static int ebwrk_send(void *sock, const char *buf, const size_t *sizes, int n, int more, int *err,
		int fault, int fault_errno) {
	*err = 0;
	for (int i = 0; i < n; i++) {
		if (i == fault) {
			*err = fault_errno;
			return i;
		}
		int flags = ZMQ_DONTWAIT;
		if (i < n - 1 || more) {
			flags |= ZMQ_SNDMORE;
		}
		if (zmq_send(sock, buf, sizes[i], flags) < 0) {
			*err = errno;
			return i;
		}
		buf += sizes[i];
	}
	return n;
}
*/
import "C"

import (
	"sync/atomic"
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

// interruptedParts counts the message parts that a signal interrupted part-way
// through a message and that were sent or received again (not the first part of a
// message, whose retry is ordinary). Tests read it to know that a signal storm
// reached that path.
var interruptedParts atomic.Uint64

// faultEINTR, when above zero (tests set it), makes the helpers fail every
// faultEINTR-th part they are about to send or receive with EINTR, without trying it:
// what a signal does to the libzmq call, but on purpose, so that tests reach every
// retry path for sure, where a signal storm reaches them by chance.
var faultEINTR atomic.Int32

// faults injects errors into the parts one scratch sends or receives, for tests:
// faultEINTR's, or the scratch's own.
type faults struct {
	parts int32 // the parts counted so far
	// A test may set these before the scratch is first used: fail every every-th
	// part with errno, n times; after that, faultEINTR applies.
	every int32
	errno syscall.Errno
	n     int32
}

// at returns the index, in a call about to try up to k parts, of the part to fail,
// or -1, and the errno to fail it with; then it counts the parts the call will have
// tried, as if it tried them all or failed at that index.
func (f *faults) at(k int) (C.int, C.int) {
	every, errno := f.every, f.errno
	own := every > 0 && f.n > 0
	if !own {
		every, errno = faultEINTR.Load(), syscall.EINTR
	}
	if every <= 0 {
		return -1, 0
	}
	i := every - 1 - f.parts%every
	if int(i) >= k {
		f.parts += int32(k)
		return -1, 0
	}
	f.parts += i + 1
	if own {
		f.n--
	}
	return C.int(i), C.int(errno)
}

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
	// The cgo call's out parameters, here so that they do not escape to the heap.
	more, errno C.int
	faults      faults
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
//
// EINTR: a signal interrupted the call, which had no effect (see the package doc).
// Before the first part, a non-blocking read retries at once, and a blocking one
// returns the error, so that its caller recomputes its timeout; part-way through a
// message, read resumes from the part that failed, since the rest of the message is
// there already. EAGAIN before the first part means there is no message; ZeroMQ
// delivers messages whole, so it cannot come part-way.
func (r *recvScratch) read(s *zmq4.Socket, wait bool) error {
	clear(r.frames)
	r.frames = r.frames[:0]
	flags := C.int(zmq4.DONTWAIT)
	if wait {
		flags = 0
	}
	sock := socketPtr(s)
	for {
		fault, faultErrno := r.faults.at(maxParts)
		n := int(C.ebwrk_recv(sock, flags, &r.rx, &r.sizes[0], &r.more, &r.errno, fault, faultErrno))
		more, errno := r.more, r.errno
		if n > 0 {
			if r.user.on && len(r.frames) == 0 {
				r.user.read(&r.rx.part[0])
			}
			r.takeParts(n)
			flags = C.int(zmq4.DONTWAIT) // the rest of the message is there
		}
		switch {
		case errno == 0 && more == 0:
			return nil
		case errno == 0: // more parts than one call takes
		case syscall.Errno(errno) != syscall.EINTR:
			return zmqErr(syscall.Errno(errno))
		case len(r.frames) > 0:
			interruptedParts.Add(1)
		case wait:
			return zmqErr(syscall.EINTR)
		}
	}
}

// takeParts copies the n parts held in r.rx to r.frames (one allocation holds them)
// and releases them.
func (r *recvScratch) takeParts(n int) {
	total := 0
	for i := range n {
		total += int(r.sizes[i])
	}
	buf := make([]byte, total)
	var dst *C.char
	if total > 0 {
		dst = (*C.char)(unsafe.Pointer(&buf[0]))
	}
	C.ebwrk_take(&r.rx, dst)
	for i := range n {
		size := int(r.sizes[i])
		r.frames = append(r.frames, buf[:size:size])
		buf = buf[size:]
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
	buf    []byte
	sizes  [maxParts]C.size_t
	errno  C.int // the cgo call's out parameter, here so that it does not escape
	faults faults
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
//
// EINTR: the part that was interrupted was not sent (see the package doc); sendParts
// sends it again and goes on, so a message is never cut short nor a part sent twice.
// Any other error of the first part (EAGAIN: at the high-water mark; EHOSTUNREACH:
// the routed peer is gone) means nothing was queued, and is returned. ZeroMQ checks
// the high-water mark and the route at the first part only, so a later part fails
// only when its pipe broke part-way (a DEALER then drops the message, and its parts
// still to come): sendParts sends the remaining parts all the same, so that the
// socket's next message starts on a message boundary, and returns the error.
func (w *sendScratch) sendParts(s *zmq4.Socket, id []byte, routed bool, frames [][]byte) error {
	sock := socketPtr(s)
	total := len(frames)
	if routed {
		total++
	}
	var failed error
	for sent := 0; sent < total; {
		n := min(maxParts, total-sent)
		w.buf = w.buf[:0]
		for k := range n {
			var f []byte
			switch i := sent + k; {
			case !routed:
				f = frames[i]
			case i == 0:
				f = id
			default:
				f = frames[i-1]
			}
			w.buf = append(w.buf, f...)
			w.sizes[k] = C.size_t(len(f))
		}
		more := C.int(0)
		if sent+n < total {
			more = 1
		}
		for off, at := 0, 0; off < n; {
			var p *C.char
			if at < len(w.buf) {
				p = (*C.char)(unsafe.Pointer(&w.buf[at]))
			}
			fault, faultErrno := w.faults.at(n - off)
			done := int(C.ebwrk_send(sock, p, &w.sizes[off], C.int(n-off), more, &w.errno, fault, faultErrno))
			errno := w.errno
			for k := off; k < off+done; k++ {
				at += int(w.sizes[k])
			}
			off += done
			switch {
			case errno == 0:
			case syscall.Errno(errno) == syscall.EINTR:
				if sent+off > 0 {
					interruptedParts.Add(1)
				}
			case sent+off == 0:
				return zmqErr(syscall.Errno(errno))
			default:
				// Part-way: skip the part that failed, send the rest (see above).
				if failed == nil {
					failed = zmqErr(syscall.Errno(errno))
				}
				at += int(w.sizes[off])
				off++
			}
		}
		sent += n
	}
	return failed
}
