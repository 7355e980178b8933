package bench

import (
	"context"
	"fmt"
	"net/http"
	"strings"
)

// Baseline runs the api scenario's load against a server that does no work
// of its own (`storekey bench-baseline`: net/http with Storekey's server
// settings and a handler that answers a fixed body). Measured by the same
// load generator on the same machine minutes apart from the validation
// scenarios, it tells what share of their rate and latency is Storekey's
// and what share is net/http's and the machine's: the machines are shared
// and noisy, and their speed swings by half or more from one hour to the
// next.
//
// The requests have the api scenario's shape: GET with a bearer token of an
// access token's length, and the same default of 64 workers. base is the
// server's URL; o's Concurrency, Warmup, Duration, PID and Rate apply as in
// Run.
func Baseline(ctx context.Context, base string, o Options) (*Result, error) {
	wire, err := NewWire(strings.TrimRight(base, "/"), "")
	if err != nil {
		return nil, err
	}
	if o.Duration <= 0 {
		o.Duration = defaultDuration
	}
	workers := o.Concurrency
	if workers <= 0 {
		workers = DefaultConcurrency("api")
	}
	if o.Log != nil {
		fmt.Fprintf(o.Log, "baseline: %d workers%s, %s warmup, %s measured\n", workers, paced(o.Rate, "answers"), o.Warmup, o.Duration)
	}
	// An access token is its four-character prefix and 43 characters of
	// base64url (256 bits).
	auth := "Bearer ska_" + strings.Repeat("A", 43)
	var conns []*Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	return Run(ctx, Plan{
		Name: "baseline", Unit: "answers", Step: "baseline", Concurrency: workers,
		Warmup: o.Warmup, Duration: o.Duration, PID: o.PID, Rate: o.Rate,
	}, func(int) Op {
		c := wire.Conn()
		conns = append(conns, c)
		return func(ctx context.Context, _ *Recorder) error {
			r, err := c.Get(ctx, DefaultAPIPath, auth, "baseline")
			if err != nil {
				return err
			}
			if r.status != http.StatusOK || len(r.body) == 0 {
				return statusError("baseline", r)
			}
			return nil
		}
	})
}
