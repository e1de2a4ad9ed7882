package zmq

/*
#cgo !windows pkg-config: libzmq
#include <zmq.h>
#include <string.h>

// ebwrk_user_id copies the User-Id of a received part (the ZAP handler's name for
// its connection) to dst, at most cap bytes, and returns its length; -1 when the
// part has none.
static int ebwrk_user_id(zmq_msg_t *msg, char *dst, int cap) {
	const char *v = zmq_msg_gets(msg, "User-Id");
	if (v == NULL) {
		return -1;
	}
	size_t n = strlen(v);
	if (n > (size_t)cap) {
		n = (size_t)cap;
	}
	memcpy(dst, v, n);
	return (int)n;
}
*/
import "C"

import "unsafe"

// userID holds the User-Id of the last message received, read only when on (a
// broker with CURVE): one more cgo call per message, none without CURVE.
type userID struct {
	on  bool
	n   int
	buf [64]byte // a Z85 key is 40 bytes
}

// read takes the User-Id of the received part msg (a *zmq_msg_t still open).
func (u *userID) read(msg *C.zmq_msg_t) {
	n := C.ebwrk_user_id(msg, (*C.char)(unsafe.Pointer(&u.buf[0])), C.int(len(u.buf)))
	u.n = max(int(n), 0)
}

// bytes returns the User-Id read last; valid until the next read.
func (u *userID) bytes() []byte { return u.buf[:u.n] }
