package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestBucketsTileTheRange(t *testing.T) {
	var next uint64
	for i := range numBuckets {
		lo, hi := bucketRange(i)
		if lo != next {
			t.Fatalf("bucket %d starts at %d, want %d", i, lo, next)
		}
		if hi < lo {
			t.Fatalf("bucket %d is [%d, %d]", i, lo, hi)
		}
		if got := bucketOf(lo); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", lo, got, i)
		}
		if got := bucketOf(hi); got != i {
			t.Fatalf("bucketOf(%d) = %d, want %d", hi, got, i)
		}
		// The width bound that gives the 1% error promise.
		if lo >= subCount && float64(hi-lo+1)/float64(lo) > 1.0/subCount+1e-12 {
			t.Fatalf("bucket %d [%d, %d] is wider than 1/%d of its values", i, lo, hi, subCount)
		}
		next = hi + 1
	}
	if want := uint64(maxLatency) + 1; next != want {
		t.Fatalf("buckets end at %d, want %d", next, want)
	}
}

// exactPercentile is the value of rank ⌈q·n⌉ of sorted.
func exactPercentile(sorted []time.Duration, q float64) time.Duration {
	rank := int(q*float64(len(sorted)) - 1e-9)
	return sorted[min(rank, len(sorted)-1)]
}

func TestPercentilesWithinOnePercent(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tc := range []struct {
		name string
		gen  func() time.Duration
	}{
		{"uniform 50µs-5ms", func() time.Duration {
			return 50*time.Microsecond + time.Duration(rng.Int64N(int64(5*time.Millisecond)))
		}},
		{"exponential mean 300µs", func() time.Duration { return time.Duration(rng.ExpFloat64() * float64(300*time.Microsecond)) }},
		{"tiny values", func() time.Duration { return time.Duration(rng.Int64N(300)) }},
		{"bimodal with a long tail", func() time.Duration {
			if rng.IntN(100) == 0 {
				return time.Duration(rng.Int64N(int64(2 * time.Second)))
			}
			return time.Duration(100_000 + rng.Int64N(20_000))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHistogram()
			vals := make([]time.Duration, 200_000)
			for i := range vals {
				vals[i] = tc.gen()
				h.Record(vals[i])
			}
			slices.Sort(vals)
			for _, q := range []float64{0.01, 0.5, 0.9, 0.99, 0.999, 1} {
				want, got := exactPercentile(vals, q), h.Percentile(q)
				if got < want || float64(got-want) > float64(want)/subCount+1 {
					t.Errorf("p%v = %v, exact %v: off by more than 1/%d", q*100, got, want, subCount)
				}
			}
			if h.Min() != vals[0] || h.Max() != vals[len(vals)-1] {
				t.Errorf("min, max = %v, %v; want %v, %v", h.Min(), h.Max(), vals[0], vals[len(vals)-1])
			}
			var sum time.Duration
			for _, v := range vals {
				sum += v
			}
			if want := sum / time.Duration(len(vals)); h.Mean() != want {
				t.Errorf("mean = %v, want %v", h.Mean(), want)
			}
		})
	}
}

func TestPercentileSmallCounts(t *testing.T) {
	h := NewHistogram()
	if h.Percentile(0.5) != 0 || h.Mean() != 0 || h.Max() != 0 {
		t.Fatal("an empty histogram must report zeros")
	}
	for i := 1; i <= 10; i++ {
		h.Record(time.Duration(i) * 10) // 10ns … 100ns, exact buckets
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.1, 10}, {0.5, 50}, {0.9, 90}, {0.91, 100}, {0.99, 100}, {1, 100}, {0, 10}} {
		if got := h.Percentile(tc.q); got != tc.want {
			t.Errorf("Percentile(%v) = %v, want %v", tc.q, got, tc.want)
		}
	}
}

func TestMergeEqualsRecordingTogether(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	a, b, all := NewHistogram(), NewHistogram(), NewHistogram()
	for i := range 10_000 {
		v := time.Duration(rng.Int64N(int64(time.Second)))
		all.Record(v)
		if i%3 == 0 {
			a.Record(v)
		} else {
			b.Record(v)
		}
	}
	m := NewHistogram()
	m.Merge(a)
	m.Merge(b)
	m.Merge(NewHistogram())
	if *m != *all {
		t.Fatalf("merged %+v differs from recorded together %+v", m.Latency(), all.Latency())
	}
}

func TestRecordClamps(t *testing.T) {
	h := NewHistogram()
	h.Record(-time.Second)
	h.Record(10 * time.Minute)
	if h.Min() != 0 || h.Max() != maxLatency || h.Count() != 2 {
		t.Fatalf("min, max, count = %v, %v, %d", h.Min(), h.Max(), h.Count())
	}
}

func BenchmarkHistogramRecord(b *testing.B) {
	h := NewHistogram()
	var d time.Duration
	for b.Loop() {
		d = (d + 7919) % (50 * time.Millisecond)
		h.Record(d)
	}
}
