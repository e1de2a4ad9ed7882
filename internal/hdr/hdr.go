// Package hdr is a small HDR-style histogram: it counts non-negative int64 values
// (nanoseconds of latency, for ebbench) in log-linear buckets of fixed relative width,
// so it takes fixed memory whatever the number of samples, answers percentiles with a
// bounded relative error, and merges exactly: histograms recorded in separate
// processes, serialized as JSON and merged give the same percentiles as one histogram
// that recorded every sample.
//
// Buckets. Values below 2^(SubBits+1) are counted exactly. Above, each power of two
// [2^k, 2^(k+1)) is split into 2^SubBits buckets of equal width 2^(k-SubBits), so a
// bucket's width is at most 2^-SubBits of its values: with SubBits = 10, 0.1 % (three
// significant digits, as HdrHistogram's usual setting). A percentile is reported as
// the highest value of its bucket, capped by the largest value recorded, so it never
// understates and overstates by at most that relative width.
//
// A Histogram is not safe for concurrent use; record in one per goroutine and Merge.
package hdr

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/bits"
)

// SubBits sets the precision: 2^SubBits buckets per power of two, a relative bucket
// width of at most 2^-SubBits.
const SubBits = 10

const (
	subCount = 1 << SubBits                  // buckets per power of two above the exact range
	exact    = 2 << SubBits                  // values below this are counted exactly
	nBuckets = exact + (63-SubBits)*subCount // up to math.MaxInt64
)

// Histogram counts values in log-linear buckets. The zero value is ready to use.
type Histogram struct {
	counts []uint64 // allocated on the first Record, nBuckets long
	total  uint64
	min    int64
	max    int64
	sum    float64
}

// index returns the bucket of v (v ≥ 0).
func index(v int64) int {
	if v < exact {
		return int(v)
	}
	shift := bits.Len64(uint64(v)) - (SubBits + 1) // ≥ 1
	return exact + (shift-1)*subCount + int(v>>shift) - subCount
}

// highest returns the largest value that falls in bucket i.
func highest(i int) int64 {
	if i < exact {
		return int64(i)
	}
	shift := (i-exact)/subCount + 1
	sub := int64((i-exact)%subCount + subCount)
	lo := sub << shift
	return lo + (int64(1) << shift) - 1
}

// Record counts one value; a negative value counts as 0.
func (h *Histogram) Record(v int64) {
	if v < 0 {
		v = 0
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	h.counts[index(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
	h.sum += float64(v)
}

// Count returns how many values were recorded.
func (h *Histogram) Count() uint64 { return h.total }

// Min and Max return the smallest and largest values recorded (exact); 0 when empty.
func (h *Histogram) Min() int64 { return h.min }

// Max returns the largest value recorded (exact); 0 when empty.
func (h *Histogram) Max() int64 { return h.max }

// Mean returns the mean of the values recorded; 0 when empty.
func (h *Histogram) Mean() float64 {
	if h.total == 0 {
		return 0
	}
	return h.sum / float64(h.total)
}

// Quantile returns the value at quantile q (0 ≤ q ≤ 1; 0.99 is p99): the smallest
// bucket's highest value such that at least ceil(q × Count) values are at or below
// it, capped by Max. It returns 0 when the histogram is empty.
func (h *Histogram) Quantile(q float64) int64 {
	if h.total == 0 {
		return 0
	}
	q = math.Max(0, math.Min(1, q))
	rank := uint64(math.Ceil(q * float64(h.total)))
	if rank == 0 {
		rank = 1
	}
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			return min(highest(i), h.max)
		}
	}
	return h.max
}

// Merge adds every value recorded in o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.total == 0 {
		return
	}
	if h.counts == nil {
		h.counts = make([]uint64, nBuckets)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
	h.sum += o.sum
}

// wire is the JSON form: the non-empty buckets as [index, count] pairs, so a
// histogram of clustered latencies takes a few kilobytes.
type wire struct {
	SubBits int         `json:"sub_bits"`
	Min     int64       `json:"min"`
	Max     int64       `json:"max"`
	Sum     float64     `json:"sum"`
	Buckets [][2]uint64 `json:"buckets"`
}

// MarshalJSON encodes the histogram exactly (its buckets, not its samples).
func (h *Histogram) MarshalJSON() ([]byte, error) {
	w := wire{SubBits: SubBits, Min: h.min, Max: h.max, Sum: h.sum, Buckets: [][2]uint64{}}
	for i, c := range h.counts {
		if c != 0 {
			w.Buckets = append(w.Buckets, [2]uint64{uint64(i), c})
		}
	}
	return json.Marshal(w)
}

// UnmarshalJSON decodes what MarshalJSON encoded; it rejects another precision and
// buckets out of range.
func (h *Histogram) UnmarshalJSON(b []byte) error {
	var w wire
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.SubBits != SubBits {
		return fmt.Errorf("hdr: histogram with sub_bits %d, want %d", w.SubBits, SubBits)
	}
	*h = Histogram{min: w.Min, max: w.Max, sum: w.Sum}
	for _, bc := range w.Buckets {
		if bc[0] >= nBuckets {
			return errors.New("hdr: bucket index out of range")
		}
		if h.counts == nil {
			h.counts = make([]uint64, nBuckets)
		}
		h.counts[bc[0]] += bc[1]
		h.total += bc[1]
	}
	return nil
}
