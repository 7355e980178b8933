package bench

import (
	"math"
	"math/bits"
	"time"
)

// The histogram is log-linear, in the manner of HdrHistogram: values below
// subCount nanoseconds each have a bucket of their own, and every power of
// two above is cut into subCount/2 equal buckets, so a bucket is never wider
// than 1/128 of the values it holds. Values above maxLatency are clamped.
const (
	subBits    = 7
	subCount   = 1 << subBits // 128
	maxBits    = 36           // 2^36 ns ≈ 68.7 s
	maxLatency = time.Duration(1<<maxBits - 1)
	numBuckets = (maxBits - subBits + 1) * subCount
)

// Histogram records latencies in bounded memory (about 30 KiB whatever the
// number of values) with a relative error under 1% on every percentile. It
// is not safe for concurrent use: each worker records into its own and the
// runner merges them at the end.
type Histogram struct {
	counts   [numBuckets]uint64
	n        int64
	sum      time.Duration
	min, max time.Duration
}

// NewHistogram returns an empty histogram.
func NewHistogram() *Histogram { return &Histogram{} }

func bucketOf(v uint64) int {
	if v < subCount {
		return int(v)
	}
	// Keep the top subBits+1 bits of v: v>>shift is in [subCount, 2*subCount).
	shift := bits.Len64(v) - subBits - 1
	return (shift+1)*subCount + int(v>>shift) - subCount
}

// bucketRange returns the smallest and largest values that fall in bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < subCount {
		return uint64(i), uint64(i)
	}
	shift := i/subCount - 1
	m := uint64(i%subCount + subCount)
	return m << shift, (m+1)<<shift - 1
}

// Record adds one latency. Negative values count as 0 and values above
// about 68 s as 68 s.
func (h *Histogram) Record(d time.Duration) {
	d = min(max(d, 0), maxLatency)
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
	h.sum += d
}

// Merge adds every value of o to h.
func (h *Histogram) Merge(o *Histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.n += o.n
	h.sum += o.sum
}

// Count returns the number of values recorded.
func (h *Histogram) Count() int64 { return h.n }

// Min returns the smallest value recorded, exactly; 0 when empty.
func (h *Histogram) Min() time.Duration { return h.min }

// Max returns the largest value recorded, exactly; 0 when empty.
func (h *Histogram) Max() time.Duration { return h.max }

// Mean returns the exact mean; 0 when empty.
func (h *Histogram) Mean() time.Duration {
	if h.n == 0 {
		return 0
	}
	return h.sum / time.Duration(h.n)
}

// Percentile returns the value below or at which q (0 < q ≤ 1) of the
// recorded values fall: the upper end of the bucket holding the value of
// rank ⌈q·n⌉, never more than Max nor less than Min. 0 when empty.
func (h *Histogram) Percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	// The epsilon keeps 0.9×10 = 9.000000000000002 at rank 9.
	rank := int64(math.Ceil(q*float64(h.n) - 1e-9))
	rank = min(max(rank, 1), h.n)
	var seen int64
	for i, c := range h.counts {
		seen += int64(c)
		if seen >= rank {
			_, hi := bucketRange(i)
			return min(max(time.Duration(hi), h.min), h.max)
		}
	}
	return h.max
}

// Latency summarises the histogram.
func (h *Histogram) Latency() Latency {
	return Latency{
		Count: h.n, Min: h.Min(), Mean: h.Mean(),
		P50: h.Percentile(0.50), P90: h.Percentile(0.90), P99: h.Percentile(0.99), Max: h.Max(),
	}
}
