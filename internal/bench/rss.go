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

// rssSampler samples a process's RSS on a ticker until stopped.
type rssSampler struct {
	pid  int
	done chan struct{}
	wg   sync.WaitGroup
	mu   sync.Mutex
	rss  RSS
}

// startRSS checks at once that the process's RSS can be read, then
// samples it after a delay (the warmup: the figures describe the measured
// load, not its setup) and every interval from then on.
func startRSS(pid int, every, after time.Duration) (*rssSampler, error) {
	if _, err := ReadRSS(pid); err != nil {
		return nil, err
	}
	s := &rssSampler{pid: pid, done: make(chan struct{}), rss: RSS{PID: pid}}
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

func (s *rssSampler) sample() {
	v, err := ReadRSS(s.pid)
	if err != nil {
		return // the process went away: keep what was seen
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rss.Samples == 0 {
		s.rss.Start = v
	}
	s.rss.End = v
	s.rss.Max = max(s.rss.Max, v)
	s.rss.Samples++
}

// stop takes a last sample and returns the figures.
func (s *rssSampler) stop() RSS {
	close(s.done)
	s.wg.Wait()
	s.sample()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.rss
}
