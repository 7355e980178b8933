package bench

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o600); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s (-want +got):\n%s", path, diff)
	}
}

func sampleResult() *Result {
	ms := func(f float64) time.Duration { return time.Duration(f * float64(time.Millisecond)) }
	return &Result{
		Scenario: "flow", Unit: "flows", Concurrency: 16, Warmup: 2 * time.Second, Elapsed: 10 * time.Second,
		Requests: 12345,
		Errors: []ErrorCount{
			{Key: "token 429 slow_down", Count: 40, Sample: "too many token requests; slow down"},
			{Key: "authorize transport", Count: 5, Sample: "connection reset by peer"},
		},
		Steps: []StepResult{
			{Name: "flow", Rate: 1230.0, Latency: Latency{Count: 12300, Min: ms(4.1), Mean: ms(12.9), P50: ms(11.95), P90: ms(19.2), P99: ms(41.7), Max: ms(312.4)}},
			{Name: "authorize", Rate: 1234.0, Latency: Latency{Count: 12340, Min: ms(1.2), Mean: ms(4.4), P50: ms(3.97), P90: ms(7.1), P99: ms(18.03), Max: ms(120)}},
			{Name: "token", Rate: 1230.0, Latency: Latency{Count: 12300, Min: time.Microsecond * 950, Mean: ms(8.5), P50: ms(7.8), P90: ms(12.0), P99: ms(25.5), Max: ms(1500)}},
		},
		RSS: &RSS{PID: 4242, Start: 40 << 20, Max: 96<<20 + 300<<10, End: 88 << 20, Samples: 12},
		CPU: &CPU{Server: 11 * time.Second, Bench: 5500 * time.Millisecond, Over: 10 * time.Second},
	}
}

func TestWriteTextGolden(t *testing.T) {
	var b strings.Builder
	if err := WriteText(&b, sampleResult()); err != nil {
		t.Fatal(err)
	}
	golden(t, "report.txt.golden", []byte(b.String()))
}

func TestResultJSONGolden(t *testing.T) {
	got, err := json.MarshalIndent(sampleResult(), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.json.golden", append(got, '\n'))
}

func TestPacedReport(t *testing.T) {
	r := &Result{Scenario: "api", Unit: "validations", Concurrency: 64, Offered: 20000, Elapsed: 10 * time.Second, Requests: 200000,
		Steps: []StepResult{{Name: "api"}, {Name: "late"}}}
	var b strings.Builder
	if err := WriteText(&b, r); err != nil {
		t.Fatal(err)
	}
	if want := "api: 64 workers paced to 20,000.0 validations/s, 10s measured"; !strings.HasPrefix(b.String(), want) {
		t.Errorf("text starts %q, want %q", b.String(), want)
	}
	js, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"offered_per_second":20000,`) {
		t.Errorf("JSON lacks the offered rate: %s", js)
	}
}

func TestFormatting(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{fmtRate(0), "0.0"},
		{fmtRate(999.94), "999.9"},
		{fmtRate(1234567.25), "1,234,567.2"},
		{fmtLatency(850), "850ns"},
		{fmtLatency(85_432), "85.4µs"},
		{fmtLatency(1_234_567), "1.23ms"},
		{fmtLatency(123_456_789), "123ms"},
		{fmtLatency(2_500_000_000), "2.50s"},
		{fmtMB(3 << 19), "1.5 MiB"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
