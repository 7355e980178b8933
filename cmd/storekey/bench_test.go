package main

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
)

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

	for _, path := range []string{"/api/v1/store", "/api/v1/products"} {
		out, stderr, err := runCLI(t, noEnv, "bench", "--url", base, "--database", db, "--json",
			"-d", "300ms", "--warmup", "0s", "--tokens", "20", "--api-tokens", "4", "--api-path", path)
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
		if len(report.Results) != 4 {
			t.Fatalf("bench ran %d scenarios, want 4: %s", len(report.Results), out)
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
