package zmq

/*
#cgo !windows pkg-config: libzmq
#include <zmq.h>
#include <string.h>
#include <errno.h>

#define EBWRK_BATCH_MSGS 64
#define EBWRK_BATCH_PARTS 256
#define EBWRK_USER_CAP 64

// What a batch receive keeps from one call to the next.
typedef struct {
	zmq_msg_t pend; // a part received that did not fit in the buffer
	int has_pend;
	int in_msg; // the next part continues a message
	// What the last call did (out parameters here, so that Go passes no pointer to
	// a local variable, which would escape to the heap).
	size_t used;
	size_t need;
	int ends;
	int err;
} ebwrk_brx;

// ebwrk_recv_batch receives parts and copies each into buf (cap bytes, rx->used of
// them filled), its size into sizes and its more flag into mores, until max_msgs
// messages have ended (rx->ends counts them), max_parts parts are taken, a part does
// not fit (it stays in rx, rx->need is its size, and the next call takes it first) or
// a receive fails (rx->err is its errno, and that receive had no effect). Only the first receive
// uses flags; the others do not wait (ZMQ_DONTWAIT). With users, the User-Id of each
// message begun in this call goes to users (EBWRK_USER_CAP bytes each), its length
// to user_len (0: none). fault, unless negative, is the index of a part to fail with
// fault_errno without trying it (faults, for tests). It returns the parts taken.
static int ebwrk_recv_batch(void *sock, int flags, ebwrk_brx *rx, char *buf, size_t cap,
		size_t *sizes, unsigned char *mores, int max_parts, int max_msgs,
		char *users, int *user_len, int fault, int fault_errno) {
	int np = 0, starts = 0;
	size_t *used = &rx->used, *need = &rx->need;
	int *ends = &rx->ends, *err = &rx->err;
	*used = 0;
	*ends = 0;
	*need = 0;
	*err = 0;
	if (rx->has_pend) {
		flags = ZMQ_DONTWAIT;
	}
	for (;;) {
		if (np >= max_parts || *ends >= max_msgs) {
			return np;
		}
		zmq_msg_t *m = &rx->pend;
		if (!rx->has_pend) {
			if (np == fault) {
				*err = fault_errno;
				return np;
			}
			zmq_msg_init(m);
			if (zmq_msg_recv(m, sock, flags) < 0) {
				*err = errno;
				zmq_msg_close(m);
				return np;
			}
			flags = ZMQ_DONTWAIT;
			rx->has_pend = 1;
		}
		size_t size = zmq_msg_size(m);
		if (size > cap - *used) {
			*need = size;
			return np;
		}
		if (size > 0) {
			memcpy(buf + *used, zmq_msg_data(m), size);
		}
		*used += size;
		sizes[np] = size;
		int more = zmq_msg_more(m);
		mores[np] = (unsigned char)more;
		if (users != NULL && !rx->in_msg) {
			const char *v = zmq_msg_gets(m, "User-Id");
			int n = 0;
			if (v != NULL) {
				n = (int)strlen(v);
				if (n > EBWRK_USER_CAP) {
					n = EBWRK_USER_CAP;
				}
				memcpy(users + starts * EBWRK_USER_CAP, v, n);
			}
			user_len[starts++] = n;
		}
		zmq_msg_close(m);
		rx->has_pend = 0;
		rx->in_msg = more;
		if (!more) {
			(*ends)++;
		}
		np++;
	}
}

*/
import "C"

import (
	"syscall"
	"unsafe"

	zmq4 "github.com/pebbe/zmq4"
)

// The broker's loop receives messages in batches: one cgo call receives every message
// waiting, up to maxBatchMsgs, copying them into a chunk of memory shared by many
// messages. It sends with the one-message helper of msg.go (sendScratch), as clients
// and workers do: sending a batch in one cgo call measured no faster (README).

const (
	// maxBatchMsgs is how many messages one receive call takes at most.
	maxBatchMsgs = C.EBWRK_BATCH_MSGS
	// maxBatchParts is how many parts one receive call takes at most; a message with
	// more takes more calls.
	maxBatchParts = C.EBWRK_BATCH_PARTS
	// userIDCap is how many bytes of a User-Id a batch keeps (a Z85 key is 40).
	userIDCap = C.EBWRK_USER_CAP
	// chunkBytes is the size of the chunks that received frames are copied into.
	// Many messages share a chunk, so receiving costs no allocation per message; a
	// request the core keeps (queued or held) keeps its chunk alive until the last
	// frame in it is dropped, so the chunk is small.
	chunkBytes = 4 << 10
	// chunkFrames is how many frame headers ([]byte) a chunk of them holds.
	chunkFrames = 256
)

// routedMsg is one message received at a ROUTER: the identity apart from the rest.
type routedMsg struct {
	id     []byte
	frames [][]byte
	user   [userIDCap]byte // the User-Id of its first part, when on
	userN  int
}

// userID returns the message's User-Id; valid until the next receive.
func (m *routedMsg) userID() []byte { return m.user[:m.userN] }

// batchRecv receives messages at a ROUTER in batches. The frames it returns live in
// chunks shared by many messages: they are the caller's (the core may keep them), and
// stay valid for as long as it keeps them; the slice of messages is reused.
type batchRecv struct {
	rx      C.ebwrk_brx // first, so that its zmq_msg_t is aligned like the struct
	sizes   [maxBatchParts]C.size_t
	mores   [maxBatchParts]C.uchar
	users   [maxBatchMsgs * userIDCap]byte
	userLen [maxBatchMsgs]C.int
	userOn  bool // read each message's User-Id (a broker with CURVE)
	chunk   []byte
	heads   [][]byte
	cur     [][]byte    // the parts of the message begun and not yet ended
	curUser int         // the index in users of cur's User-Id, or -1
	msgs    []routedMsg // the messages of the last call
	calls   int         // cgo calls made so far (tests read it)
	faults  faults
}

// recv receives the messages waiting, at least one unless it returns an error, into
// r.msgs. With wait it waits for the first as long as the socket's RCVTIMEO says.
//
// EAGAIN: there was no message (with wait, none came in time). EINTR: a signal
// interrupted a receive, which had no effect. Before the first part of a batch, a
// waiting recv returns it, so that its caller recomputes its timeout, and a
// non-waiting one retries at once; after a whole message, recv returns what it has;
// part-way through a message it resumes from the part that failed, since the rest of
// the message is there already. Any other error is returned, after the messages
// already received (r.msgs holds them).
func (r *batchRecv) recv(s *zmq4.Socket, wait bool) error {
	clear(r.msgs)
	r.msgs = r.msgs[:0]
	flags := C.int(zmq4.DONTWAIT)
	if wait && len(r.cur) == 0 {
		flags = 0
	}
	var users *C.char
	if r.userOn {
		users = (*C.char)(unsafe.Pointer(&r.users[0]))
	}
	sock := socketPtr(s)
	for {
		if len(r.chunk) == 0 {
			r.chunk = make([]byte, chunkBytes)
		}
		fault, faultErrno := r.faults.at(maxBatchParts)
		r.calls++
		np := int(C.ebwrk_recv_batch(sock, flags, &r.rx, (*C.char)(unsafe.Pointer(&r.chunk[0])),
			C.size_t(len(r.chunk)), &r.sizes[0], &r.mores[0], maxBatchParts, C.int(maxBatchMsgs-len(r.msgs)),
			users, &r.userLen[0], fault, faultErrno))
		need, errno := r.rx.need, r.rx.err
		if np > 0 {
			r.split(np)
			flags = C.int(zmq4.DONTWAIT)
		}
		switch {
		case need > 0: // the next part does not fit in what is left of the chunk
			r.chunk = make([]byte, max(chunkBytes, int(need)))
		case errno == 0: // a limit of the call: end the message begun, if any
			if len(r.cur) == 0 && len(r.msgs) >= maxBatchMsgs {
				return nil
			}
		case len(r.cur) > 0:
			if syscall.Errno(errno) != syscall.EINTR {
				return zmqErr(syscall.Errno(errno))
			}
			interruptedParts.Add(1)
		case len(r.msgs) > 0:
			if syscall.Errno(errno) == syscall.EINTR || syscall.Errno(errno) == syscall.EAGAIN {
				return nil
			}
			return zmqErr(syscall.Errno(errno))
		case syscall.Errno(errno) != syscall.EINTR || wait:
			return zmqErr(syscall.Errno(errno))
		}
	}
}

// split carves the np parts the last call copied to r.chunk out of it, and ends the
// messages whose last part is among them.
func (r *batchRecv) split(np int) {
	starts := 0
	for i := range np {
		size := int(r.sizes[i])
		if len(r.cur) == 0 {
			r.curUser = -1
			if r.userOn {
				r.curUser = starts
			}
			starts++
		}
		r.cur = append(r.cur, r.chunk[:size:size])
		r.chunk = r.chunk[size:]
		if r.mores[i] == 0 {
			r.end()
		}
	}
}

// end moves the message in r.cur to r.msgs.
func (r *batchRecv) end() {
	n := len(r.cur) - 1 // a ROUTER always prefixes the identity
	if len(r.heads) < n {
		r.heads = make([][]byte, max(chunkFrames, n))
	}
	frames := r.heads[:n:n]
	r.heads = r.heads[n:]
	copy(frames, r.cur[1:])
	r.msgs = append(r.msgs, routedMsg{id: r.cur[0], frames: frames})
	m := &r.msgs[len(r.msgs)-1]
	if r.curUser >= 0 {
		m.userN = int(r.userLen[r.curUser])
		copy(m.user[:], r.users[r.curUser*userIDCap:][:m.userN])
	}
	clear(r.cur)
	r.cur = r.cur[:0]
}
