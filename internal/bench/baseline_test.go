package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestBaseline runs the baseline's load against a stand-in for `storekey
// bench-baseline`: every op is an api-shaped request (GET, a bearer token of
// an access token's length), and an answer that is not 200 counts as a
// failure.
func TestBaseline(t *testing.T) {
	var bad, seen atomic.Int64
	fail := atomic.Bool{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Add(1)
		auth := r.Header.Get("Authorization")
		if r.Method != http.MethodGet || r.URL.Path != DefaultAPIPath || !strings.HasPrefix(auth, "Bearer ska_") || len(auth) != len("Bearer ")+47 {
			bad.Add(1)
		}
		if fail.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		_, _ = w.Write([]byte(`{"data":{}}`))
	}))
	defer srv.Close()

	o := Options{Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond}
	res, err := Baseline(context.Background(), srv.URL+"/", o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Scenario != "baseline" || res.Unit != "answers" || res.Concurrency != 4 {
		t.Errorf("result names %q %q with %d workers", res.Scenario, res.Unit, res.Concurrency)
	}
	if res.Requests == 0 || res.Failed() != 0 || bad.Load() != 0 {
		t.Errorf("requests %d, failed %d, malformed %d", res.Requests, res.Failed(), bad.Load())
	}
	if seen.Load() < res.Requests {
		t.Errorf("the server saw %d requests, the result counts %d", seen.Load(), res.Requests)
	}

	fail.Store(true)
	res, err = Baseline(context.Background(), srv.URL, o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests == 0 || res.Failed() != res.Requests || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Key, "503") {
		t.Errorf("refusals: requests %d, failed %d, errors %+v", res.Requests, res.Failed(), res.Errors)
	}

	if _, err := Baseline(context.Background(), "ftp://127.0.0.1:1", o); err == nil {
		t.Error("a non-HTTP URL was accepted")
	}
}
