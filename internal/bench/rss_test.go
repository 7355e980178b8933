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

func TestRSSSamplerOnThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc/PID/status is Linux only")
	}
	s, err := startRSS(os.Getpid(), 10*time.Millisecond, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	r := s.stop()
	if r.Start <= 0 || r.Max < r.Start || r.Max < r.End || r.Samples < 3 {
		t.Fatalf("RSS = %+v", r)
	}
	// Stopped before its delay ran out, it has only the last sample.
	s, err = startRSS(os.Getpid(), 10*time.Millisecond, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	if r := s.stop(); r.Samples != 1 || r.Start <= 0 || r.Start != r.Max || r.Start != r.End {
		t.Fatalf("RSS stopped within its delay = %+v, want the one last sample", r)
	}
	if _, err := startRSS(-1, time.Second, 0); err == nil {
		t.Fatal("startRSS(-1) succeeded")
	}
	if _, err := ReadRSS(-1); err == nil {
		t.Fatal("ReadRSS(-1) succeeded")
	}
}
