package core

// requestQueue is a FIFO of requests on a ring buffer, with pushFront for requeues.
type requestQueue struct {
	buf  []*request
	head int
	n    int
}

func (q *requestQueue) len() int { return q.n }

func (q *requestQueue) grow() {
	size := 2 * len(q.buf)
	if size == 0 {
		size = 8
	}
	buf := make([]*request, size)
	for i := 0; i < q.n; i++ {
		buf[i] = q.buf[(q.head+i)%len(q.buf)]
	}
	q.buf, q.head = buf, 0
}

func (q *requestQueue) pushBack(r *request) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)%len(q.buf)] = r
	q.n++
}

func (q *requestQueue) pushFront(r *request) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.head = (q.head - 1 + len(q.buf)) % len(q.buf)
	q.buf[q.head] = r
	q.n++
}

func (q *requestQueue) popFront() *request {
	r := q.buf[q.head]
	q.buf[q.head] = nil
	q.head = (q.head + 1) % len(q.buf)
	q.n--
	return r
}

// at returns the i-th request from the front.
func (q *requestQueue) at(i int) *request { return q.buf[(q.head+i)%len(q.buf)] }

// filter keeps, in order, the requests for which keep returns true.
func (q *requestQueue) filter(keep func(*request) bool) {
	kept := 0
	for i := 0; i < q.n; i++ {
		r := q.at(i)
		if keep(r) {
			q.buf[(q.head+kept)%len(q.buf)] = r
			kept++
		}
	}
	for i := kept; i < q.n; i++ {
		q.buf[(q.head+i)%len(q.buf)] = nil
	}
	q.n = kept
}
