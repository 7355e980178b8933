package bench

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"
)

// fakeTokenEndpoint answers client_credentials after delay; every failEvery-th
// request is refused with 429 slow_down, as Storekey's rate limit does.
type fakeTokenEndpoint struct {
	delay     time.Duration
	failEvery int64
	n         atomic.Int64
	conns     atomic.Int64
}

func (f *fakeTokenEndpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/oauth/token" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" {
		http.Error(w, `{"error":"invalid_request"}`, http.StatusBadRequest)
		return
	}
	if id, secret, ok := r.BasicAuth(); !ok || id != "app_bench" || secret != "s3cret" {
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"error":"invalid_client","error_description":"client authentication failed"}`))
		return
	}
	time.Sleep(f.delay)
	w.Header().Set("Content-Type", "application/json")
	if f.failEvery > 0 && f.n.Add(1)%f.failEvery == 0 {
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(`{"error":"slow_down","error_description":"too many token requests; slow down"}`))
		return
	}
	_, _ = w.Write([]byte(`{"access_token":"sk_at_x","token_type":"Bearer","expires_in":3600,"scope":"read_products"}`))
}

func newFakeTokenServer(t testing.TB, f *fakeTokenEndpoint) *httptest.Server {
	srv := httptest.NewUnstartedServer(f)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			f.conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

// TestRunAgainstTokenEndpoint runs the engine for about a second against an
// HTTP endpoint and checks its accounting: every op started in the window is
// counted once, as a success or by its failure's key; latencies are those of
// the endpoint; connections are kept alive.
func TestRunAgainstTokenEndpoint(t *testing.T) {
	f := &fakeTokenEndpoint{delay: 2 * time.Millisecond, failEvery: 10}
	srv := newFakeTokenServer(t, f)
	const workers = 8
	wire, err := NewWire(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	auth := BasicAuth("app_bench", "s3cret")
	var inWindow, succeeded atomic.Int64
	newOp := func(int) Op {
		c := wire.Conn()
		t.Cleanup(c.Close)
		return func(ctx context.Context, rec *Recorder) error {
			r, err := c.PostForm(ctx, "/oauth/token", auth, "grant_type=client_credentials", "token")
			if rec.on {
				inWindow.Add(1)
			}
			if err != nil {
				return err
			}
			if _, err := readToken("token", r); err != nil {
				return err
			}
			if rec.on {
				succeeded.Add(1)
			}
			return nil
		}
	}
	start := time.Now()
	res, err := Run(context.Background(), Plan{
		Name: "client-credentials", Unit: "tokens", Step: "token",
		Concurrency: workers, Warmup: 200 * time.Millisecond, Duration: time.Second,
	}, newOp)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 1200*time.Millisecond || took > 5*time.Second {
		t.Errorf("the run took %v, want about 1.2 s", took)
	}
	if res.Interrupted || res.Elapsed != time.Second {
		t.Errorf("Interrupted, Elapsed = %v, %v", res.Interrupted, res.Elapsed)
	}
	if res.Requests != inWindow.Load() || res.OK() != succeeded.Load() {
		t.Errorf("requests, ok = %d, %d; the ops saw %d, %d", res.Requests, res.OK(), inWindow.Load(), succeeded.Load())
	}
	// 8 workers, 2 ms per request: at most 4000 in a second, and well above
	// 500 even under -race unless something serialises them.
	if res.Requests < 500 || res.Requests > 4100 {
		t.Errorf("requests = %d, want between 500 and 4100", res.Requests)
	}
	if len(res.Errors) != 1 || res.Errors[0].Key != "token 429 slow_down" || res.Errors[0].Sample != "too many token requests; slow down" {
		t.Fatalf("errors = %+v, want only token 429 slow_down", res.Errors)
	}
	if got, want := res.Failed(), res.Requests/10; got < want-2*workers || got > want+2*workers {
		t.Errorf("failed = %d, want about a tenth of %d", got, res.Requests)
	}
	if len(res.Steps) != 1 || res.Steps[0].Name != "token" {
		t.Fatalf("steps = %+v", res.Steps)
	}
	l := res.Steps[0].Latency
	if l.Count != res.OK() {
		t.Errorf("latency count %d, want one per success (%d)", l.Count, res.OK())
	}
	// The endpoint sleeps 2 ms: no latency can be shorter. (No upper bound:
	// the machines are shared, and timing is measured, never asserted.)
	if l.Min < 2*time.Millisecond || l.P50 < 2*time.Millisecond {
		t.Errorf("min %v, p50 %v: want at least the endpoint's 2 ms", l.Min, l.P50)
	}
	if !(l.P50 <= l.P90 && l.P90 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("percentiles out of order: %+v", l)
	}
	// Keep-alive: connections are reused, so there are about as many as
	// workers (a busy machine may make the transport dial one more now and
	// then), and far fewer than requests.
	if n := f.conns.Load(); n > 2*workers || int64(res.OK()) < 10*n {
		t.Errorf("%d connections for %d workers and %d requests: keep-alive is not working", n, workers, res.OK())
	}
}

func TestRunCountsEveryOpInTheWindowExactly(t *testing.T) {
	errBoom := &Error{Step: "op", Status: 500, Code: "server_error", Detail: "boom"}
	var inWindow, failed atomic.Int64
	var calls atomic.Int64
	res, err := Run(context.Background(), Plan{Name: "fake", Unit: "ops", Step: "op", Concurrency: 4, Warmup: 50 * time.Millisecond, Duration: 300 * time.Millisecond},
		func(worker int) Op {
			return func(_ context.Context, rec *Recorder) error {
				time.Sleep(time.Millisecond)
				rec.Step("half", 500*time.Microsecond)
				if rec.on {
					inWindow.Add(1)
				}
				if calls.Add(1)%3 == 0 {
					if rec.on {
						failed.Add(1)
					}
					return errBoom
				}
				if worker == 0 {
					return errors.New("not a bench error")
				}
				return nil
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != inWindow.Load() {
		t.Errorf("requests = %d, want %d", res.Requests, inWindow.Load())
	}
	var boom, other int64
	for _, e := range res.Errors {
		switch e.Key {
		case "op 500 server_error":
			boom = e.Count
		case "other":
			other = e.Count
			if e.Sample != "not a bench error" {
				t.Errorf("sample of other = %q", e.Sample)
			}
		default:
			t.Errorf("unexpected error key %q", e.Key)
		}
	}
	if boom != failed.Load() || other == 0 {
		t.Errorf("server_error %d (want %d), other %d", boom, failed.Load(), other)
	}
	if res.Steps[0].Name != "op" || res.Steps[0].Latency.Count != res.OK() {
		t.Errorf("whole-op step = %+v, want %d values", res.Steps[0], res.OK())
	}
	// The op's own step is kept for every op in the window, failed or not.
	if len(res.Steps) != 2 || res.Steps[1].Name != "half" || res.Steps[1].Latency.Count != res.Requests || res.Steps[1].Latency.P50 != 500*time.Microsecond {
		t.Errorf("steps = %+v", res.Steps)
	}
}

// A paced run starts the ops its schedule puts in the window, no more and
// no fewer, whatever the op's speed.
func TestRunPacedKeepsTheSchedule(t *testing.T) {
	var calls atomic.Int64
	// 4 workers at 2,000/s: each every 2 ms, staggered by 0.5 ms, so 250
	// each in 500 ms.
	p := Plan{Name: "paced", Unit: "ops", Step: "op", Concurrency: 4, Rate: 2000, Warmup: 20 * time.Millisecond, Duration: 500 * time.Millisecond}
	res, err := Run(context.Background(), p, func(int) Op {
		return func(context.Context, *Recorder) error {
			calls.Add(1)
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Requests != 1000 || res.OK() != 1000 || res.Offered != 2000 {
		t.Errorf("requests %d, ok %d, offered %v; want 1000, 1000, 2000", res.Requests, res.OK(), res.Offered)
	}
	// 10 ops of each worker fall in the warmup.
	if n := calls.Load(); n != 1040 {
		t.Errorf("%d ops run, want 1040", n)
	}
	if len(res.Steps) != 2 || res.Steps[1].Name != "late" || res.Steps[1].Latency.Count != 1000 {
		t.Errorf("steps = %+v", res.Steps)
	}
}

// A paced worker that falls behind runs every op it owes, without
// skipping, and each op's latency counts from when it was due.
func TestRunPacedChargesTheWait(t *testing.T) {
	const work = 30 * time.Millisecond
	// One worker due every 10 ms for 100 ms: 10 ops, the k-th started at
	// least 30k ms after the run began, though due at 10k ms.
	p := Plan{Name: "behind", Unit: "ops", Step: "op", Concurrency: 1, Rate: 100, Duration: 100 * time.Millisecond}
	res, err := Run(context.Background(), p, func(int) Op {
		return func(context.Context, *Recorder) error {
			time.Sleep(work)
			return nil
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	// The ten ops took at least 300 ms: the rate achieved is at most a
	// third of the rate offered, and is reported so.
	if res.Requests != 10 || res.Elapsed < 10*work || res.Rate() > 34 {
		t.Errorf("requests %d in %v, rate %v; want 10 in at least 300ms, at most 34/s", res.Requests, res.Elapsed, res.Rate())
	}
	op, late := res.Steps[0].Latency, res.Steps[1].Latency
	if op.Min < work || op.Max < 9*20*time.Millisecond+work {
		t.Errorf("op latency min %v, max %v: the wait behind schedule is not counted", op.Min, op.Max)
	}
	if late.Max < 9*20*time.Millisecond {
		t.Errorf("latest start %v behind schedule, want at least 180ms", late.Max)
	}
}

func TestPacerInterval(t *testing.T) {
	begin := time.Now()
	for _, tc := range []struct {
		rate float64
		want time.Duration
	}{
		{20000, 3200 * time.Microsecond}, // 64 workers: each every 3.2 ms
		{1e-12, 1 << 62},                 // beyond what a Duration holds: clamped
		{1e18, 1},                        // under a nanosecond: at least one
	} {
		pc := newPacer(Plan{Concurrency: 64, Rate: tc.rate}, 32, begin)
		if pc.interval != tc.want {
			t.Errorf("rate %g: interval %v, want %v", tc.rate, pc.interval, tc.want)
		}
		if off := pc.due.Sub(begin); off != tc.want/2 {
			t.Errorf("rate %g: worker 32 of 64 starts %v after the others' first, want %v", tc.rate, off, tc.want/2)
		}
	}
	if newPacer(Plan{Concurrency: 64}, 0, begin) != nil {
		t.Error("a plan without a rate is paced")
	}
}

func TestRunStopsWhenTheContextEnds(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, Plan{Name: "fake", Unit: "ops", Step: "op", Concurrency: 2, Warmup: 100 * time.Millisecond, Duration: time.Minute},
		func(int) Op {
			return func(ctx context.Context, _ *Recorder) error {
				select {
				case <-ctx.Done():
					return ctx.Err()
				case <-time.After(5 * time.Millisecond):
					return nil
				}
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Run took %v after its context ended", took)
	}
	if !res.Interrupted || res.Elapsed < 100*time.Millisecond || res.Elapsed > 3*time.Second {
		t.Errorf("Interrupted, Elapsed = %v, %v", res.Interrupted, res.Elapsed)
	}
	if res.Failed() != 0 {
		t.Errorf("ops cut by the cancellation counted as failures: %+v", res.Errors)
	}
	if res.Requests == 0 || res.Steps[0].Latency.Count != res.Requests {
		t.Errorf("requests %d, latencies %d", res.Requests, res.Steps[0].Latency.Count)
	}
}

func TestRunBacksOffOnTransportFailures(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	wire, err := NewWire(srv.URL, "")
	if err != nil {
		t.Fatal(err)
	}
	srv.Close() // nothing listens there any more
	res, err := Run(context.Background(), Plan{Name: "dead", Unit: "ops", Step: "get", Concurrency: 2, Duration: 300 * time.Millisecond},
		func(int) Op {
			c := wire.Conn()
			return func(ctx context.Context, _ *Recorder) error {
				_, err := c.Get(ctx, "/healthz", "", "get")
				return err
			}
		})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errors) != 1 || res.Errors[0].Key != "get transport" {
		t.Fatalf("errors = %+v", res.Errors)
	}
	// 2 workers × 300 ms / 10 ms backoff ≈ 60.
	if res.Requests > 100 {
		t.Errorf("%d attempts in 300 ms: no backoff", res.Requests)
	}
}

func TestRunRefusesBadPlans(t *testing.T) {
	for _, p := range []Plan{{Concurrency: 0, Duration: time.Second}, {Concurrency: 1}} {
		if _, err := Run(context.Background(), p, func(int) Op { return nil }); err == nil {
			t.Errorf("Run(%+v) succeeded", p)
		}
	}
}

// BenchmarkRunnerOp measures the client side of one client_credentials op
// against an in-process endpoint: the bench's own cost per request.
func BenchmarkRunnerOp(b *testing.B) {
	srv := newFakeTokenServer(b, &fakeTokenEndpoint{})
	wire, err := NewWire(srv.URL, "")
	if err != nil {
		b.Fatal(err)
	}
	c := wire.Conn()
	defer c.Close()
	auth := BasicAuth("app_bench", "s3cret")
	b.ReportAllocs()
	for b.Loop() {
		r, err := c.PostForm(context.Background(), "/oauth/token", auth, "grant_type=client_credentials", "token")
		if err != nil || r.status != http.StatusOK {
			b.Fatal(err, r.status)
		}
	}
}
