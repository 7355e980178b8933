package bench

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"
)

// Plan says how to run one scenario.
type Plan struct {
	Name        string        // the scenario's name, for the report
	Unit        string        // what one op yields, plural: "tokens", "validations", "flows"
	Step        string        // the name under which each whole op's latency is kept
	Concurrency int           // workers, each running one op at a time; at least 1
	Warmup      time.Duration // ops run but are not recorded for this long first
	Duration    time.Duration // then ops are recorded for this long
	// PID, when not 0, is the server process whose resident memory is
	// sampled every second of the measured time (Linux /proc): from the
	// end of the warmup, so that a scenario's setup (a merchant's sign-in
	// holds argon2id's 19 MiB for a moment) does not count as its load.
	PID int
	// Rate, when above 0, paces the workers together to this many ops per
	// second: each worker starts its ops on a fixed schedule, Concurrency /
	// Rate seconds apart, the workers' schedules staggered evenly. An op's
	// latency is counted from the moment its schedule said it should start,
	// so a server that falls behind is charged for the wait it caused
	// (coordinated omission), and a step named "late" records how long
	// after that moment each op actually started: the worker still waiting
	// for its last answer, or the bench itself not scheduled in time. The
	// measured time lasts until the last op due in the window has ended, so
	// that the rates reported are those achieved. 0: each worker starts its
	// next op as soon as the last one ends (a closed loop), which measures
	// the most the server can do, at whatever latency the queue of
	// Concurrency requests gives.
	Rate float64
}

// An Op performs one unit of work (one request, or one whole authorization
// flow) and returns nil if it succeeded. It may time the steps it is made of
// with rec.Step; the runner times the whole op itself. A failure should be
// an *Error so that like failures are counted together.
type Op func(ctx context.Context, rec *Recorder) error

// Recorder is one worker's record: a histogram per step and the failures by
// kind. Its methods do nothing on a nil Recorder, so ops can run outside the
// runner (in setup, or in a Go benchmark).
type Recorder struct {
	on      bool // inside the measured window
	steps   []step
	errs    map[string]int64
	samples map[string]string
}

type step struct {
	name string
	h    *Histogram
}

func newRecorder() *Recorder {
	return &Recorder{errs: map[string]int64{}, samples: map[string]string{}}
}

// Step records the latency of one named step of the current op, when the op
// started inside the measured window.
func (r *Recorder) Step(name string, d time.Duration) {
	if r == nil || !r.on {
		return
	}
	r.hist(name).Record(d)
}

func (r *Recorder) hist(name string) *Histogram {
	// A linear search: an op has a handful of steps at most.
	for _, s := range r.steps {
		if s.name == name {
			return s.h
		}
	}
	h := NewHistogram()
	r.steps = append(r.steps, step{name, h})
	return h
}

func (r *Recorder) fail(err error) {
	key, detail := "other", err.Error()
	var e *Error
	if errors.As(err, &e) {
		key, detail = e.Key(), e.Detail
	}
	r.errs[key]++
	if _, ok := r.samples[key]; !ok {
		r.samples[key] = truncate(detail, 200)
	}
}

// Error is a failed op: where it failed and why, keyed so that like failures
// are counted together.
type Error struct {
	Step   string // the step that failed: "token", "authorize", ...
	Status int    // the HTTP status; 0 when there was no HTTP answer
	Code   string // the OAuth error code of the answer, "transport", or "unexpected"
	Detail string // a description of one occurrence
}

// Error implements error.
func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s", e.Key(), e.Detail)
}

// Key groups failures: "token 429 slow_down", "authorize transport".
func (e *Error) Key() string {
	k := e.Step
	if e.Status != 0 {
		k += fmt.Sprintf(" %d", e.Status)
	}
	if e.Code != "" {
		k += " " + e.Code
	}
	return k
}

// Latency is a summary of a histogram.
type Latency struct {
	Count                         int64
	Min, Mean, P50, P90, P99, Max time.Duration
}

// StepResult is the latency of one step over the measured window.
type StepResult struct {
	Name    string
	Rate    float64 // completed steps per second
	Latency Latency
}

// ErrorCount is how many failures of one kind the window saw, with one
// occurrence's description.
type ErrorCount struct {
	Key    string
	Count  int64
	Sample string
}

// RSS is the server's resident memory over a run, in bytes.
type RSS struct {
	PID             int
	Start, Max, End int64
	Samples         int
}

// CPU is the CPU time (user and system) the server and the bench used over
// a run's measured window (Over: from the end of the warmup to the end).
type CPU struct {
	Server, Bench, Over time.Duration
}

// Share returns d as a percentage of one core over the window.
func (c *CPU) Share(d time.Duration) float64 {
	if c.Over <= 0 {
		return 0
	}
	return 100 * float64(d) / float64(c.Over)
}

// Result is what one scenario measured.
type Result struct {
	Scenario    string
	Unit        string
	Concurrency int
	Offered     float64 // the Plan's Rate: ops per second the workers were paced to; 0 for a closed loop
	Warmup      time.Duration
	Elapsed     time.Duration // the measured window
	Requests    int64         // ops started in the window
	Errors      []ErrorCount  // by count, largest first
	Steps       []StepResult  // the whole op first, then its steps
	RSS         *RSS          // nil unless a PID was given
	CPU         *CPU          // nil unless a PID was given and /proc could be read
	Interrupted bool          // the context ended before the window did
}

// Failed returns the number of ops in the window that failed.
func (r *Result) Failed() int64 {
	var n int64
	for _, e := range r.Errors {
		n += e.Count
	}
	return n
}

// OK returns the number of ops in the window that succeeded.
func (r *Result) OK() int64 { return r.Requests - r.Failed() }

// Rate returns the successful ops per second.
func (r *Result) Rate() float64 { return perSecond(r.OK(), r.Elapsed) }

// RequestRate returns the ops per second, failed or not.
func (r *Result) RequestRate() float64 { return perSecond(r.Requests, r.Elapsed) }

func perSecond(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// transportBackoff slows a worker whose op failed without an HTTP answer, so
// that a stopped server does not turn the run into a busy loop.
const transportBackoff = 10 * time.Millisecond

// Run runs a scenario: p.Concurrency workers, each with the op newOp
// returns for it, repeat their op back to back, unrecorded for p.Warmup and
// then recorded for p.Duration. An op is recorded when it starts inside the
// window, so that ops cut at either end balance out; the runner waits for
// the ops in flight when the window closes. Run returns early, with what it
// recorded so far and Interrupted set, when ctx ends.
func Run(ctx context.Context, p Plan, newOp func(worker int) Op) (*Result, error) {
	if p.Concurrency < 1 {
		return nil, errors.New("bench: concurrency must be at least 1")
	}
	if p.Duration <= 0 {
		return nil, errors.New("bench: duration must be positive")
	}
	var sampler *procSampler
	if p.PID != 0 {
		var err error
		if sampler, err = startSampler(p.PID, time.Second, p.Warmup); err != nil {
			return nil, err
		}
	}
	ops := make([]Op, p.Concurrency)
	for i := range ops {
		ops[i] = newOp(i)
	}
	recs := make([]*Recorder, p.Concurrency)
	counts := make([]int64, p.Concurrency)
	begin := time.Now()
	start, end := begin.Add(p.Warmup), begin.Add(p.Warmup+p.Duration)
	var wg sync.WaitGroup
	for i, op := range ops {
		rec := newRecorder()
		recs[i] = rec
		pace := newPacer(p, i, begin)
		wg.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				if pace != nil {
					var ok bool
					if t0, ok = pace.next(ctx, end); !ok {
						return
					}
				}
				if !t0.Before(end) {
					return
				}
				rec.on = !t0.Before(start)
				if pace != nil {
					rec.Step("late", time.Since(t0))
				}
				err := op(ctx, rec)
				d := time.Since(t0)
				if ctx.Err() != nil {
					return // cut short by the caller: neither a success nor a failure
				}
				if !rec.on {
					continue
				}
				counts[i]++
				if err == nil {
					rec.hist(p.Step).Record(d)
					continue
				}
				rec.fail(err)
				if isTransport(err) {
					time.Sleep(transportBackoff)
				}
			}
		})
	}
	wg.Wait()
	stopped := time.Now()

	res := &Result{Scenario: p.Name, Unit: p.Unit, Concurrency: p.Concurrency, Offered: max(p.Rate, 0), Warmup: p.Warmup}
	res.Elapsed = p.Duration
	switch {
	case ctx.Err() != nil && stopped.Before(end):
		res.Interrupted = true
		res.Elapsed = max(stopped.Sub(start), 0)
	case p.Rate > 0 && stopped.After(end):
		// The ops due in the window took until now: the rate achieved is
		// theirs over that time, not the rate offered.
		res.Elapsed = stopped.Sub(start)
	}
	merged := map[string]*Histogram{}
	order := []string{p.Step}
	errs := map[string]*ErrorCount{}
	for i, rec := range recs {
		res.Requests += counts[i]
		for _, s := range rec.steps {
			h, ok := merged[s.name]
			if !ok {
				h = NewHistogram()
				merged[s.name] = h
				if s.name != p.Step {
					order = append(order, s.name)
				}
			}
			h.Merge(s.h)
		}
		for k, n := range rec.errs {
			e, ok := errs[k]
			if !ok {
				e = &ErrorCount{Key: k, Sample: rec.samples[k]}
				errs[k] = e
			}
			e.Count += n
		}
	}
	for _, name := range order {
		h, ok := merged[name]
		if !ok {
			h = NewHistogram()
		}
		res.Steps = append(res.Steps, StepResult{Name: name, Rate: perSecond(h.Count(), res.Elapsed), Latency: h.Latency()})
	}
	for _, e := range errs {
		res.Errors = append(res.Errors, *e)
	}
	slices.SortFunc(res.Errors, func(a, b ErrorCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Key, b.Key))
	})
	if sampler != nil {
		rss, cpu := sampler.stop()
		res.RSS, res.CPU = &rss, cpu
	}
	return res, nil
}

// pacer is one worker's schedule when a Plan has a Rate.
type pacer struct {
	due      time.Time // when the next op should start
	interval time.Duration
	timer    *time.Timer
}

// newPacer returns worker i's schedule, or nil for a closed loop. The
// workers' first ops are spread evenly over one interval from begin.
func newPacer(p Plan, i int, begin time.Time) *pacer {
	if p.Rate <= 0 {
		return nil
	}
	// Clamped to what a Duration holds: a rate of a few ops per century
	// would overflow it.
	ns := min(float64(p.Concurrency)/p.Rate*float64(time.Second), 1<<62)
	interval := max(time.Duration(ns), 1)
	offset := time.Duration(float64(interval) * float64(i) / float64(p.Concurrency))
	return &pacer{due: begin.Add(offset), interval: interval}
}

// next waits until the next op is due and returns when it was due, which
// is in the past when the worker is behind: it does not wait then, and
// does not skip the ops it missed. It returns false, without waiting, when
// the next op is due at or after end, or when ctx ends during the wait.
func (pc *pacer) next(ctx context.Context, end time.Time) (time.Time, bool) {
	due := pc.due
	if !due.Before(end) {
		return due, false
	}
	pc.due = due.Add(pc.interval)
	wait := time.Until(due)
	if wait <= 0 {
		return due, true
	}
	if pc.timer == nil {
		pc.timer = time.NewTimer(wait)
	} else {
		pc.timer.Reset(wait)
	}
	select {
	case <-pc.timer.C:
		return due, true
	case <-ctx.Done():
		return due, false
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
