package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// WriteText writes a result for people: the totals, a latency table with a
// row per step, the failures by kind, and the server's memory.
func WriteText(w io.Writer, r *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	var b strings.Builder
	title := fmt.Sprintf("%s: %d workers%s, %s measured after %s warmup", r.Scenario, r.Concurrency, paced(r.Offered, r.Unit), fmtElapsed(r.Elapsed), fmtElapsed(r.Warmup))
	if r.Interrupted {
		title += " (interrupted)"
	}
	fmt.Fprintf(&b, "%s\n", title)
	fmt.Fprintf(&b, "  requests %d, errors %d, %s req/s, %s %s/s\n",
		r.Requests, r.Failed(), fmtRate(r.RequestRate()), fmtRate(r.Rate()), r.Unit)
	if _, err := io.WriteString(w, b.String()); err != nil {
		return err
	}
	// The cells align right, but padding the names to one width keeps them
	// flush left.
	width := len("step")
	for _, s := range r.Steps {
		width = max(width, len(s.Name))
	}
	fmt.Fprintf(tw, "  %-*s\tcount\tper s\tmean\tp50\tp90\tp99\tmax\t\n", width, "step")
	for _, s := range r.Steps {
		l := s.Latency
		fmt.Fprintf(tw, "  %-*s\t%d\t%s\t%s\t%s\t%s\t%s\t%s\t\n", width, s.Name, l.Count, fmtRate(s.Rate),
			fmtLatency(l.Mean), fmtLatency(l.P50), fmtLatency(l.P90), fmtLatency(l.P99), fmtLatency(l.Max))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	b.Reset()
	rateLimited := false
	if len(r.Errors) > 0 {
		fmt.Fprintln(&b, "  errors:")
		for _, e := range r.Errors {
			fmt.Fprintf(&b, "    %-32s %8d  %s\n", e.Key, e.Count, e.Sample)
			rateLimited = rateLimited || strings.Contains(e.Key, " 429")
		}
	}
	if rateLimited {
		fmt.Fprintf(&b, "  hint: %s\n", RateLimitHint)
	}
	if r.RSS != nil {
		fmt.Fprintf(&b, "  server RSS (pid %d, %d samples): start %s, max %s, end %s\n",
			r.RSS.PID, r.RSS.Samples, fmtMB(r.RSS.Start), fmtMB(r.RSS.Max), fmtMB(r.RSS.End))
	}
	if c := r.CPU; c != nil {
		fmt.Fprintf(&b, "  CPU: server %.0f %% of a core (%s µs per %s), bench %.0f %%\n",
			c.Share(c.Server), sig3(r.serverMicros()), strings.TrimSuffix(r.Unit, "s"), c.Share(c.Bench))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// paced describes a Plan's Rate for a title: "" for a closed loop.
func paced(rate float64, unit string) string {
	if rate <= 0 {
		return ""
	}
	return fmt.Sprintf(" paced to %s %s/s", fmtRate(rate), unit)
}

func fmtElapsed(d time.Duration) string { return d.Round(10 * time.Millisecond).String() }

// fmtRate writes a rate with thousands separators and one decimal.
func fmtRate(v float64) string {
	s := strconv.FormatFloat(v, 'f', 1, 64)
	whole, frac, _ := strings.Cut(s, ".")
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String() + "." + frac
}

// fmtLatency writes a latency with three significant digits.
func fmtLatency(d time.Duration) string {
	switch {
	case d < time.Microsecond:
		return fmt.Sprintf("%dns", d)
	case d < time.Millisecond:
		return sig3(float64(d)/1e3) + "µs"
	case d < time.Second:
		return sig3(float64(d)/1e6) + "ms"
	default:
		return sig3(d.Seconds()) + "s"
	}
}

func sig3(v float64) string {
	switch {
	case v >= 100:
		return strconv.FormatFloat(math.Round(v), 'f', 0, 64)
	case v >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

func fmtMB(b int64) string { return strconv.FormatFloat(float64(b)/(1<<20), 'f', 1, 64) + " MiB" }

// resultJSON is a result for scripts: rates per second, latencies in
// milliseconds, memory in MiB.
type resultJSON struct {
	Scenario       string      `json:"scenario"`
	Unit           string      `json:"unit"`
	Concurrency    int         `json:"concurrency"`
	OfferedPerSec  float64     `json:"offered_per_second,omitempty"`
	WarmupSeconds  float64     `json:"warmup_seconds"`
	ElapsedSeconds float64     `json:"elapsed_seconds"`
	Requests       int64       `json:"requests"`
	OK             int64       `json:"ok"`
	Failed         int64       `json:"errors"`
	RequestsPerSec float64     `json:"requests_per_second"`
	OKPerSec       float64     `json:"ok_per_second"`
	Steps          []stepJSON  `json:"steps"`
	Errors         []errorJSON `json:"error_counts"`
	RSS            *rssJSON    `json:"rss,omitempty"`
	CPU            *cpuJSON    `json:"cpu,omitempty"`
	Interrupted    bool        `json:"interrupted,omitempty"`
}

type stepJSON struct {
	Name      string  `json:"name"`
	Count     int64   `json:"count"`
	PerSecond float64 `json:"per_second"`
	MinMS     float64 `json:"min_ms"`
	MeanMS    float64 `json:"mean_ms"`
	P50MS     float64 `json:"p50_ms"`
	P90MS     float64 `json:"p90_ms"`
	P99MS     float64 `json:"p99_ms"`
	MaxMS     float64 `json:"max_ms"`
}

type errorJSON struct {
	Key    string `json:"key"`
	Count  int64  `json:"count"`
	Sample string `json:"sample"`
}

type rssJSON struct {
	PID     int     `json:"pid"`
	StartMB float64 `json:"start_mb"`
	MaxMB   float64 `json:"max_mb"`
	EndMB   float64 `json:"end_mb"`
	Samples int     `json:"samples"`
}

type cpuJSON struct {
	ServerPercent float64 `json:"server_percent"` // of one core, over the measured window
	BenchPercent  float64 `json:"bench_percent"`
	ServerMicros  float64 `json:"server_us_per_op"` // server CPU per op (a token, a validation, a flow)
}

// serverMicros is the server's CPU time per op started in the window, in
// microseconds.
func (r *Result) serverMicros() float64 {
	if r.CPU == nil || r.Requests == 0 {
		return 0
	}
	return float64(r.CPU.Server) / 1e3 / float64(r.Requests)
}

// MarshalJSON writes the result for scripts: rates per second, latencies
// in milliseconds (min_ms, mean_ms, p50_ms, p90_ms, p99_ms, max_ms), memory
// in MiB.
func (r *Result) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return round3(float64(d) / 1e6) }
	out := resultJSON{
		Scenario: r.Scenario, Unit: r.Unit, Concurrency: r.Concurrency, OfferedPerSec: round3(r.Offered),
		WarmupSeconds: r.Warmup.Seconds(), ElapsedSeconds: round3(r.Elapsed.Seconds()),
		Requests: r.Requests, OK: r.OK(), Failed: r.Failed(),
		RequestsPerSec: round3(r.RequestRate()), OKPerSec: round3(r.Rate()),
		Steps: []stepJSON{}, Errors: []errorJSON{}, Interrupted: r.Interrupted,
	}
	for _, s := range r.Steps {
		l := s.Latency
		out.Steps = append(out.Steps, stepJSON{
			Name: s.Name, Count: l.Count, PerSecond: round3(s.Rate),
			MinMS: ms(l.Min), MeanMS: ms(l.Mean), P50MS: ms(l.P50), P90MS: ms(l.P90), P99MS: ms(l.P99), MaxMS: ms(l.Max),
		})
	}
	for _, e := range r.Errors {
		out.Errors = append(out.Errors, errorJSON(e))
	}
	if r.RSS != nil {
		mb := func(b int64) float64 { return round3(float64(b) / (1 << 20)) }
		out.RSS = &rssJSON{PID: r.RSS.PID, StartMB: mb(r.RSS.Start), MaxMB: mb(r.RSS.Max), EndMB: mb(r.RSS.End), Samples: r.RSS.Samples}
	}
	if c := r.CPU; c != nil {
		out.CPU = &cpuJSON{ServerPercent: round3(c.Share(c.Server)), BenchPercent: round3(c.Share(c.Bench)), ServerMicros: round3(r.serverMicros())}
	}
	return json.Marshal(out)
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }
