package bench

import (
	"os"
	"runtime"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	for _, tc := range []struct {
		name, status string
		want         int64
		ok           bool
	}{
		{"linux", "Name:\tstorekey\nVmPeak:\t  900000 kB\nVmRSS:\t   51234 kB\nRssAnon:\t 40000 kB\n", 51234 << 10, true},
		{"no line", "Name:\tkthreadd\nState:\tS (sleeping)\n", 0, false},
		{"bad unit", "VmRSS:\t 12 MB\n", 0, false},
		{"bad number", "VmRSS:\t x kB\n", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseVMRSS([]byte(tc.status))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseVMRSS = %d, %v; want %d, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

func TestParseStatCPU(t *testing.T) {
	// pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
	const tail = " 1 1 1 0 -1 4194560 1200 0 0 0 250 50 0 0 20 0 7 0 100 0 0"
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "4242 (storekey) S" + tail, 3 * time.Second, true},
		{"comm with spaces and parentheses", "4242 (sk (2) x) ) R" + tail, 3 * time.Second, true},
		{"no comm", "4242 storekey S" + tail, 0, false},
		{"short", "4242 (storekey) S 1 1 0", 0, false},
		{"bad number", "4242 (storekey) S 1 1 1 0 -1 4194560 1200 0 0 0 x 50 0", 0, false},
		{"negative", "4242 (storekey) S 1 1 1 0 -1 4194560 1200 0 0 0 -250 50 0", 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseStatCPU([]byte(tc.stat))
			if (err == nil) != tc.ok || got != tc.want {
				t.Fatalf("parseStatCPU = %v, %v; want %v, ok=%v", got, err, tc.want, tc.ok)
			}
		})
	}
}

// burnUntil keeps a core busy until done says so. It asks every 10,000
// additions or so.
func burnUntil(done func() bool) {
	x := 0
	for !done() {
		for i := range 10000 {
			x += i
		}
	}
	runtime.KeepAlive(x)
}

// samples returns how many samples s has taken.
func (s *procSampler) samples() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rss.Samples
}

func TestRSSSamplerOnThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/status is Linux only")
	}
	s, err := startSampler(os.Getpid(), 10*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The work starts once the first sample is taken, and lasts until this
	// process has used 60 ms of CPU and the sampler has sampled again: on a
	// busy machine the sampler's goroutine may run late, and the work may
	// get less than a core.
	for s.samples() == 0 {
		time.Sleep(time.Millisecond)
	}
	before, err := ReadCPU(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	burnUntil(func() bool {
		used, err := ReadCPU(os.Getpid())
		return err != nil || used-before >= 60*time.Millisecond && s.samples() >= 2
	})
	r, cpu := s.stop()
	if r.Start <= 0 || r.Max < r.Start || r.Max < r.End || r.Samples < 3 {
		t.Fatalf("RSS = %+v", r)
	}
	// This process is both the server and the bench here. /proc counts in
	// hundredths of a second, so 60 ms of work shows as at least 50 ms.
	if cpu == nil || cpu.Over <= 0 || cpu.Server < 50*time.Millisecond || cpu.Bench < 50*time.Millisecond {
		t.Fatalf("CPU = %+v, want the 60 ms of work", cpu)
	}
	// Stopped before its delay ran out, it has only the last sample.
	s, err = startSampler(os.Getpid(), 10*time.Millisecond, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if r, cpu := s.stop(); r.Samples != 1 || r.Start <= 0 || r.Start != r.Max || r.Start != r.End || cpu != nil {
		t.Fatalf("sampler stopped within its delay = %+v, %+v; want the one last sample and no CPU", r, cpu)
	}
	if _, err := startSampler(-1, time.Second, 0); err == nil {
		t.Fatal("startSampler(-1) succeeded")
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Fatal("ReadRSS(-1) succeeded")
	}
	if _, err := ReadCPU(-1); err == nil {
		t.Fatal("ReadCPU(-1) succeeded")
	}
}
