package bench

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// ReadRSS returns the resident set size of process pid in bytes, from the
// VmRSS line of /proc/PID/status (Linux only).
func ReadRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: read memory of process %d: %w", pid, err)
	}
	return parseVMRSS(b)
}

// parseVMRSS reads the "VmRSS:    12345 kB" line of a /proc status file.
func parseVMRSS(status []byte) (int64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || !bytes.EqualFold(f[1], []byte("kB")) {
			return 0, fmt.Errorf("bench: malformed VmRSS line %q", sc.Text())
		}
		kb, err := strconv.ParseInt(string(f[0]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("bench: malformed VmRSS line %q", sc.Text())
		}
		return kb << 10, nil
	}
	return 0, errors.New("bench: no VmRSS line (a kernel thread, or not Linux?)")
}

// ReadCPU returns the CPU time (user and system, every thread) process pid
// has used, from /proc/PID/stat (Linux only).
func ReadCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, fmt.Errorf("bench: read CPU time of process %d: %w", pid, err)
	}
	return parseStatCPU(b)
}

// userHZ is the unit of /proc's CPU times: USER_HZ, 100 on every Linux
// architecture Go supports.
const userHZ = 100

// parseStatCPU reads utime and stime, the 14th and 15th fields, of a
// /proc/PID/stat line. The second field, the command name in parentheses,
// may hold spaces and parentheses itself, so fields are counted from the
// last ')'.
func parseStatCPU(stat []byte) (time.Duration, error) {
	i := bytes.LastIndexByte(stat, ')')
	if i < 0 {
		return 0, fmt.Errorf("bench: malformed stat line %q", stat)
	}
	f := bytes.Fields(stat[i+1:]) // f[0] is the 3rd field, the state
	if len(f) < 13 {
		return 0, fmt.Errorf("bench: malformed stat line %q", stat)
	}
	var ticks int64
	for _, v := range f[11:13] {
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bench: malformed stat line %q", stat)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}

// procSampler samples a process's RSS on a ticker until stopped, and the
// CPU time it and this process (the bench) used in between.
type procSampler struct {
	pid  int
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	rss  RSS
	// At the first sample: when, and the CPU times so far (-1 if unread).
	t0              time.Time
	server0, bench0 time.Duration
}

// startSampler checks at once that the process's RSS can be read, then
// samples it after a delay (the warmup: the figures describe the measured
// load, not its setup) and every interval from then on.
func startSampler(pid int, every, after time.Duration) (*procSampler, error) {
	if _, err := ReadRSS(pid); err != nil {
		return nil, err
	}
	s := &procSampler{pid: pid, done: make(chan struct{}), rss: RSS{PID: pid}}
	s.wg.Go(func() {
		wait := time.NewTimer(after)
		defer wait.Stop()
		select {
		case <-s.done:
			return
		case <-wait.C:
		}
		s.sample()
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.done:
				return
			case <-t.C:
				s.sample()
			}
		}
	})
	return s, nil
}

func (s *procSampler) sample() {
	v, err := ReadRSS(s.pid)
	if err != nil {
		return // the process went away: keep what was seen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rss.Samples == 0 {
		s.rss.Start = v
		s.t0 = time.Now()
		s.server0, s.bench0 = cpuOr(s.pid), cpuOr(os.Getpid())
	}
	s.rss.End = v
	s.rss.Max = max(s.rss.Max, v)
	s.rss.Samples++
}

// cpuOr is ReadCPU(pid), or -1 if it cannot be read.
func cpuOr(pid int) time.Duration {
	d, err := ReadCPU(pid)
	if err != nil {
		return -1
	}
	return d
}

// stop takes a last sample and returns the figures: the RSS, and the CPU
// times from the first sample to now (nil if they could not be read, or
// the first sample was the last).
func (s *procSampler) stop() (RSS, *CPU) {
	close(s.done)
	s.wg.Wait()
	first := s.rss.Samples == 0
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	server, bench := cpuOr(s.pid), cpuOr(os.Getpid())
	if first || s.server0 < 0 || s.bench0 < 0 || server < 0 || bench < 0 {
		return s.rss, nil
	}
	return s.rss, &CPU{Server: server - s.server0, Bench: bench - s.bench0, Over: time.Since(s.t0)}
}
