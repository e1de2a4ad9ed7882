package sim

import "math/rand/v2"

// Streams splits one seed into independent named PRNG streams. A stream is a PCG
// seeded from (seed, hash(name)), so its draws depend only on the seed and its own
// name: adding a worker, or a fault family, leaves every other stream as it was.
type Streams struct {
	seed uint64
}

// NewStreams returns the streams of seed.
func NewStreams(seed uint64) Streams { return Streams{seed: seed} }

// Stream returns a fresh PRNG for name. Two calls with the same name return
// generators that draw the same sequence.
func (s Streams) Stream(name string) *rand.Rand {
	return rand.New(rand.NewPCG(s.seed, hashString(name)))
}

// hashString is 64-bit FNV-1a, finished with a mixer so similar names give unrelated
// PCG streams.
func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return mix64(h)
}

// mix64 is the splitmix64 finaliser.
func mix64(z uint64) uint64 {
	z ^= z >> 30
	z *= 0xbf58476d1ce4e5b9
	z ^= z >> 27
	z *= 0x94d049bb133111eb
	z ^= z >> 31
	return z
}
