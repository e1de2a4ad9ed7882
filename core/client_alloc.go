package core

// frameAllocator hands out small byte and frame slices carved from larger chunks, so
// that building a message costs an allocation only once per chunk. Nothing handed out
// is ever reused: a chunk is dropped, not recycled, when it is full, so frames given to
// the driver stay valid for as long as the driver holds them.
type frameAllocator struct {
	byteChunk  []byte
	frameChunk [][]byte
}

// Chunk sizes: a request of a few frames with a short service name takes about 1/64 of
// each.
const (
	byteChunkSize  = 1024
	frameChunkSize = 256
)

// bytes returns a new slice of n bytes whose capacity is n.
func (a *frameAllocator) bytes(n int) []byte {
	if n > byteChunkSize/4 {
		return make([]byte, n)
	}
	if len(a.byteChunk)+n > cap(a.byteChunk) {
		a.byteChunk = make([]byte, 0, byteChunkSize)
	}
	i := len(a.byteChunk)
	a.byteChunk = a.byteChunk[:i+n]
	return a.byteChunk[i : i+n : i+n]
}

// frames returns a new slice of n frames whose capacity is n.
func (a *frameAllocator) frames(n int) [][]byte {
	if n > frameChunkSize/4 {
		return make([][]byte, n)
	}
	if len(a.frameChunk)+n > cap(a.frameChunk) {
		a.frameChunk = make([][]byte, 0, frameChunkSize)
	}
	i := len(a.frameChunk)
	a.frameChunk = a.frameChunk[:i+n]
	return a.frameChunk[i : i+n : i+n]
}
