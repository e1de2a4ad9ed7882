package hdr

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// exactQuantile is the reference: the ceil(q × n)-th smallest sample.
func exactQuantile(sorted []int64, q float64) int64 {
	rank := int(math.Ceil(q * float64(len(sorted))))
	if rank < 1 {
		rank = 1
	}
	return sorted[rank-1]
}

func TestQuantileExactRange(t *testing.T) {
	var h Histogram
	for v := int64(1); v <= 1000; v++ {
		h.Record(v)
	}
	for _, tc := range []struct {
		q    float64
		want int64
	}{{0, 1}, {0.5, 500}, {0.9, 900}, {0.99, 990}, {0.999, 999}, {1, 1000}} {
		if got := h.Quantile(tc.q); got != tc.want {
			t.Errorf("Quantile(%v) = %d, want %d", tc.q, got, tc.want)
		}
	}
	if h.Count() != 1000 || h.Min() != 1 || h.Max() != 1000 || h.Mean() != 500.5 {
		t.Errorf("count %d min %d max %d mean %v; want 1000 1 1000 500.5", h.Count(), h.Min(), h.Max(), h.Mean())
	}
}

// TestQuantileRelativeError checks percentiles of latency-like data (lognormal,
// 50 µs to seconds in nanoseconds) against the sorted samples: never below, and
// above by at most the bucket width 2^-SubBits.
func TestQuantileRelativeError(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h Histogram
	samples := make([]int64, 200000)
	for i := range samples {
		v := int64(math.Exp(rng.NormFloat64()*1.5+12)) + 50000
		samples[i] = v
		h.Record(v)
	}
	slices.Sort(samples)
	for _, q := range []float64{0.001, 0.25, 0.5, 0.9, 0.99, 0.999, 0.9999, 1} {
		want := exactQuantile(samples, q)
		got := h.Quantile(q)
		if got < want || float64(got-want) > float64(want)/float64(subCount) {
			t.Errorf("Quantile(%v) = %d, exact %d: outside [exact, exact×(1+2^-%d)]", q, got, want, SubBits)
		}
	}
}

func TestBucketsCoverEveryValue(t *testing.T) {
	for _, v := range []int64{0, 1, exact - 1, exact, exact + 1, 1 << 20, 1<<20 + 12345, 1<<40 - 1, math.MaxInt64} {
		i := index(v)
		if i < 0 || i >= nBuckets {
			t.Fatalf("index(%d) = %d, out of [0, %d)", v, i, nBuckets)
		}
		if hi := highest(i); hi < v || (i > 0 && highest(i-1) >= v) {
			t.Errorf("value %d in bucket %d with highest %d (previous bucket's highest %d)", v, i, hi, highest(i-1))
		}
	}
}

// TestMergeAndJSON records samples in three histograms, as three processes would,
// sends them through JSON and merges them: the percentiles equal those of one
// histogram that saw every sample.
func TestMergeAndJSON(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	var all Histogram
	parts := make([]Histogram, 3)
	for i := range 30000 {
		v := rng.Int64N(50_000_000)
		all.Record(v)
		parts[i%3].Record(v)
	}
	var merged Histogram
	for i := range parts {
		b, err := json.Marshal(&parts[i])
		if err != nil {
			t.Fatal(err)
		}
		var back Histogram
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		merged.Merge(&back)
	}
	for _, q := range []float64{0, 0.5, 0.99, 0.999, 1} {
		if a, m := all.Quantile(q), merged.Quantile(q); a != m {
			t.Errorf("Quantile(%v): one histogram %d, merged %d", q, a, m)
		}
	}
	if all.Count() != merged.Count() || all.Min() != merged.Min() || all.Max() != merged.Max() {
		t.Errorf("merged count/min/max %d/%d/%d, want %d/%d/%d", merged.Count(), merged.Min(), merged.Max(),
			all.Count(), all.Min(), all.Max())
	}
}

func TestEmptyAndBadInput(t *testing.T) {
	var h Histogram
	if h.Quantile(0.5) != 0 || h.Mean() != 0 {
		t.Errorf("empty histogram: p50 %d, mean %v; want 0, 0", h.Quantile(0.5), h.Mean())
	}
	h.Record(-5)
	if h.Max() != 0 || h.Count() != 1 {
		t.Errorf("negative value: max %d count %d; want 0 1", h.Max(), h.Count())
	}
	var other Histogram
	other.Merge(&h)
	if other.Count() != 1 {
		t.Errorf("merge into empty: count %d, want 1", other.Count())
	}
	for _, bad := range []string{`{"sub_bits": 7, "buckets": []}`, `{"sub_bits": 10, "buckets": [[99999999, 1]]}`, `[`} {
		var x Histogram
		if err := json.Unmarshal([]byte(bad), &x); err == nil {
			t.Errorf("Unmarshal(%s) = nil error, want one", bad)
		}
	}
}
