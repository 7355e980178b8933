package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"testing"
)

// asMainEnv, when set, makes the test binary run as storekey itself, for
// the commands that start a storekey process of their own (bench
// --baseline starts `storekey bench-baseline` from os.Executable).
const asMainEnv = "STOREKEY_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) != "" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// TestBenchAgainstServe runs `storekey bench`, every scenario for a moment,
// against a real `storekey serve` on one SQLite file, as the performance
// guide does, and checks that every request succeeded. The serve also has
// its debug listener on, which must answer with the runtime's profiles.
func TestBenchAgainstServe(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "bench.db")
	addr, debug := freeAddr(t), freeAddr(t)
	base := "http://" + addr
	config := filepath.Join(dir, "storekey.yaml")
	yaml := "access_log: false\ndebug_listen: " + debug + "\nrate_limit:\n  token_per_second: 0\n"
	if err := os.WriteFile(config, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	startRun(t, base, "serve", "--config", config, "--listen", addr, "--database", db)

	if status, _, _ := httpGet(t, "http://"+debug+"/debug/pprof/"); status != http.StatusOK {
		t.Errorf("GET /debug/pprof/ on the debug listener: %d", status)
	}
	if status, _, _ := httpGet(t, base+"/debug/pprof/"); status == http.StatusOK {
		t.Error("the profiles must not be served on the public listener")
	}

	// The baseline's server is this test binary run as storekey (TestMain).
	t.Setenv(asMainEnv, "1")
	for _, path := range []string{"/api/v1/store", "/api/v1/products"} {
		args := []string{"bench", "--url", base, "--database", db, "--json",
			"-d", "300ms", "--warmup", "0s", "--tokens", "20", "--api-tokens", "4", "--api-path", path}
		want := []string{"client-credentials", "introspect", "api", "flow"}
		if path == "/api/v1/store" {
			args = append(args, "--baseline")
			want = append(want, "baseline")
		}
		out, stderr, err := runCLI(t, noEnv, args...)
		if err != nil {
			t.Fatalf("bench --api-path %s: %v\n%s", path, err, stderr)
		}
		var report struct {
			Results []struct {
				Scenario string `json:"scenario"`
				Requests int64  `json:"requests"`
				Errors   int64  `json:"errors"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(out), &report); err != nil {
			t.Fatalf("bench --json: %v\n%s", err, out)
		}
		var got []string
		for _, r := range report.Results {
			got = append(got, r.Scenario)
		}
		if !slices.Equal(got, want) {
			t.Fatalf("bench ran %v, want %v: %s", got, want, out)
		}
		for _, r := range report.Results {
			if r.Requests == 0 || r.Errors != 0 {
				t.Errorf("bench --api-path %s, %s: %d requests, %d errors", path, r.Scenario, r.Requests, r.Errors)
			}
		}
	}
	if _, _, err := runCLI(t, noEnv, "bench", "--url", base, "--database", db, "--api-path", "/oauth/token"); err == nil {
		t.Error("bench accepted an --api-path outside the sample API")
	}

	// Paced: 64 workers at 500/s, each 128 ms apart, staggered by 2 ms,
	// start 150 requests in 300 ms, however fast the server answers.
	out, stderr, err := runCLI(t, noEnv, "bench", "--url", base, "--database", db, "--json",
		"--scenario", "introspect", "--rate", "500", "-d", "300ms", "--warmup", "0s", "--tokens", "20")
	if err != nil {
		t.Fatalf("bench --rate: %v\n%s", err, stderr)
	}
	var paced struct {
		Results []struct {
			Offered  float64 `json:"offered_per_second"`
			Requests int64   `json:"requests"`
			Errors   int64   `json:"errors"`
			Steps    []struct {
				Name string `json:"name"`
			} `json:"steps"`
		} `json:"results"`
	}
	if err := json.Unmarshal([]byte(out), &paced); err != nil || len(paced.Results) != 1 {
		t.Fatalf("bench --rate --json: %v\n%s", err, out)
	}
	if r := paced.Results[0]; r.Offered != 500 || r.Requests != 150 || r.Errors != 0 || len(r.Steps) != 2 || r.Steps[1].Name != "late" {
		t.Errorf("bench --rate 500 for 300ms: %+v", r)
	}
	for _, rate := range []string{"-1", "NaN", "+Inf"} {
		if _, _, err := runCLI(t, noEnv, "bench", "--url", base, "--database", db, "--rate", rate); err == nil {
			t.Errorf("bench accepted --rate %s", rate)
		}
	}
}

// serve sets the collector's target to gcPercent, unless GOGC sets one.
func TestTuneGC(t *testing.T) {
	saved := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(saved) })

	tuneGC(func(k string) string {
		if k == "GOGC" {
			return "200"
		}
		return ""
	})
	if got := debug.SetGCPercent(100); got != 100 {
		t.Fatalf("with GOGC set the target became %d, want it left at 100", got)
	}
	tuneGC(noEnv)
	if got := debug.SetGCPercent(100); got != gcPercent {
		t.Fatalf("without GOGC the target is %d, want %d", got, gcPercent)
	}
}

// The memory profiler is off unless GODEBUG sets its rate, and the debug
// listener turns it back on.
func TestQuietMemProfile(t *testing.T) {
	saved := runtime.MemProfileRate
	t.Cleanup(func() { runtime.MemProfileRate = saved })

	runtime.MemProfileRate = 4096
	quietMemProfile("gctrace=1,memprofilerate=4096")
	if runtime.MemProfileRate != 4096 {
		t.Fatalf("with GODEBUG's memprofilerate the rate became %d", runtime.MemProfileRate)
	}
	quietMemProfile("gctrace=1")
	if runtime.MemProfileRate != 0 {
		t.Fatalf("without GODEBUG's memprofilerate the rate is %d, want 0", runtime.MemProfileRate)
	}
	stop, err := serveDebug(freeAddr(t), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	stop()
	if runtime.MemProfileRate != heapProfileRate {
		t.Fatalf("with the debug listener on the rate is %d, want %d", runtime.MemProfileRate, heapProfileRate)
	}
}
