package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/api"
	"github.com/storekey/storekey/internal/bench"
	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

// The bench fixtures' fixed parts. The redirect URI is never contacted: the
// bench reads the code from the Location header and follows no redirect.
const (
	benchRedirectURI = "http://127.0.0.1:1/cb"
	benchScopes      = "read_products write_products read_orders"
)

// benchOptions are the flags of `storekey bench`.
type benchOptions struct {
	url         string
	scenario    string
	concurrency int
	rate        float64
	duration    time.Duration
	warmup      time.Duration
	pid         int
	tokens      int
	apiTokens   int
	apiPath     string
	allowRemote bool
	keep        bool
	baseline    bool
}

func benchCmd(e *env) *cobra.Command {
	var o benchOptions
	c := &cobra.Command{
		Use:   "bench",
		Short: "Load-test a running Storekey over HTTP and print throughput, latency and memory",
		Long: `Drive a running Storekey over HTTP and print, per scenario, the requests, the
errors by status and OAuth error code, the rate, latency percentiles per step,
and the server's memory when --pid is given.

The bench writes its fixtures straight into the server's database (--database
or the configuration, as the other commands): a confidential app, a merchant
and a store. They are new at every run; the app, with every grant and token
issued to it, is deleted at the end unless --keep-fixtures is given.

Scenarios ("all" runs them in this order):
  client-credentials  POST /oauth/token grant_type=client_credentials (client_secret_basic)
  introspect          POST /oauth/introspect over --tokens access tokens issued first
  api                 GET --api-path (default /api/v1/store: the sample API's middleware
                      and an answer made from the token) with --api-tokens store-bound
                      bearer tokens; --api-path /api/v1/products adds a products read
  flow                authorization code flows with PKCE as a signed-in merchant whose
                      consent is remembered: GET /oauth/authorize, then the code exchange

--rate paces the workers to a fixed number of requests (flows) per second, all
together, each on a schedule; a request's latency counts from when it was due,
so a server that falls behind is charged for the wait. Without it each worker
sends its next request as soon as the last is answered: the most the server
can do, at the latency its queue of workers gives.

--baseline then runs the api scenario's load against a bare net/http handler
(storekey bench-baseline: Storekey's server settings, a fixed answer) in a
process of its own: the reference for this machine at this time, since shared
machines change speed from hour to hour.

Lift the server's token rate limit first, or the token scenarios measure it:
  STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND=0 STOREKEY_ACCESS_LOG=false storekey serve`,
		Example: `  STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND=0 STOREKEY_ACCESS_LOG=false storekey serve --database ./bench.db &
  storekey bench --database ./bench.db --pid $! --scenario all
  storekey bench --database ./bench.db --scenario introspect -c 128 -d 30s --json
  storekey bench --database ./bench.db --scenario api --rate 20000 --pid $!`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			names, err := o.validate()
			if err != nil {
				return err
			}
			return withDB(cmd, e, func(ctx context.Context, cfg Config, db *store.DB) error {
				return runBench(ctx, e, cfg, db, o, names)
			})
		},
	}
	f := c.Flags()
	f.StringVar(&o.url, "url", "http://127.0.0.1:8080", "base URL of the running server (loopback only, unless --allow-remote)")
	f.StringVar(&o.scenario, "scenario", "all", "the scenario: "+strings.Join(bench.Scenarios(), ", ")+", or all")
	f.IntVarP(&o.concurrency, "concurrency", "c", 0, "workers (default: 16 for client-credentials and flow, 64 for introspect and api)")
	f.Float64Var(&o.rate, "rate", 0, "pace each scenario's workers together to this many requests (flows) per second, latency counted from when each was due; 0: as fast as the server answers")
	f.DurationVarP(&o.duration, "duration", "d", 10*time.Second, "measured time per scenario")
	f.DurationVar(&o.warmup, "warmup", 2*time.Second, "unmeasured time before each scenario's measure")
	f.IntVar(&o.pid, "pid", 0, "the server's process id: sample its resident memory every second of the measured time, after the warmup, and report its CPU time and the bench's over that time (Linux)")
	f.IntVar(&o.tokens, "tokens", 1000, "access tokens the introspect scenario cycles through")
	f.IntVar(&o.apiTokens, "api-tokens", 200, "store-bound tokens, from as many flows, the api scenario cycles through")
	f.StringVar(&o.apiPath, "api-path", bench.DefaultAPIPath, "the sample API path the api scenario GETs (/api/v1/products adds a database read)")
	f.BoolVar(&o.allowRemote, "allow-remote", false, "allow a --url that is not a loopback address")
	f.BoolVar(&o.keep, "keep-fixtures", false, "keep the bench app and its tokens in the database after the run")
	f.BoolVar(&o.baseline, "baseline", false, "after the scenarios, run the api scenario's load against a bare net/http handler in a process of its own, as a reference for this machine at this time")
	return c
}

// validate checks the flags before anything touches the database, and
// returns the scenarios to run.
func (o benchOptions) validate() ([]string, error) {
	if _, err := bench.CheckURL(o.url, o.allowRemote); err != nil {
		return nil, err
	}
	names := bench.Scenarios()
	if o.scenario != "all" {
		if !slices.Contains(names, o.scenario) {
			return nil, fmt.Errorf("--scenario %q is not one of %s, all", o.scenario, strings.Join(names, ", "))
		}
		names = []string{o.scenario}
	}
	switch {
	case o.concurrency < 0:
		return nil, errors.New("--concurrency must not be negative")
	case o.rate < 0 || math.IsNaN(o.rate) || math.IsInf(o.rate, 0):
		return nil, errors.New("--rate must be a number of requests per second, or 0")
	case o.duration <= 0:
		return nil, errors.New("--duration must be positive")
	case o.warmup < 0:
		return nil, errors.New("--warmup must not be negative")
	case o.tokens < 1 || o.apiTokens < 1:
		return nil, errors.New("--tokens and --api-tokens must be at least 1")
	case o.pid < 0:
		return nil, errors.New("--pid must be a process id")
	case !strings.HasPrefix(o.apiPath, api.Prefix):
		return nil, fmt.Errorf("--api-path must be a path under %s", api.Prefix)
	}
	if o.pid != 0 {
		if _, err := bench.ReadRSS(o.pid); err != nil {
			return nil, err
		}
	}
	return names, nil
}

// benchReport is the --json output.
type benchReport struct {
	URL      string          `json:"url"`
	Database string          `json:"database"`
	AppID    string          `json:"client_id"`
	StoreID  string          `json:"store_id"`
	Results  []*bench.Result `json:"results"`
}

func runBench(ctx context.Context, e *env, cfg Config, db *store.DB, o benchOptions, names []string) (err error) {
	target, err := benchFixtures(ctx, cfg, db)
	if err != nil {
		return fmt.Errorf("prepare the bench fixtures: %w", err)
	}
	target.URL = strings.TrimRight(o.url, "/")
	if !o.keep {
		defer func() {
			// The run's context may be cancelled (Ctrl-C): clean up regardless.
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
			defer cancel()
			if derr := db.DeleteApp(cctx, target.ClientID, now()); derr != nil {
				err = errors.Join(err, fmt.Errorf("delete the bench app %s: %w", target.ClientID, derr))
			}
		}()
	}
	d, err := bench.New(target, bench.Options{
		Concurrency: o.concurrency, Warmup: o.warmup, Duration: o.duration, PID: o.pid, Rate: o.rate,
		Tokens: o.tokens, APITokens: o.apiTokens, APIPath: o.apiPath, Log: e.stderr,
	})
	if err != nil {
		return err
	}
	if err := d.Check(ctx); err != nil {
		return err
	}
	report := benchReport{URL: target.URL, Database: db.Dialect(), AppID: target.ClientID, StoreID: target.StoreID, Results: []*bench.Result{}}
	if !e.json {
		fmt.Fprintf(e.stdout, "storekey bench: %s on %s (app %s, store %s)\n\n", target.URL, db.Dialect(), target.ClientID, target.StoreID)
	}
	runs := make([]func() (*bench.Result, error), 0, len(names)+1)
	for _, name := range names {
		runs = append(runs, func() (*bench.Result, error) { return d.Run(ctx, name) })
	}
	if o.baseline {
		runs = append(runs, func() (*bench.Result, error) { return runBaseline(ctx, e, o) })
	}
	for _, run := range runs {
		res, err := run()
		if err != nil {
			if ctx.Err() != nil {
				break // interrupted during setup
			}
			return err
		}
		report.Results = append(report.Results, res)
		if !e.json {
			if err := bench.WriteText(e.stdout, res); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout)
		}
		if res.Interrupted {
			break
		}
	}
	if e.json {
		if err := printJSON(e.stdout, report); err != nil {
			return err
		}
	}
	if ctx.Err() != nil {
		return errors.New("interrupted")
	}
	return nil
}

// benchFixtures creates, for one run, a confidential app allowed the bench
// scopes and a merchant who owns one store, and returns them as the bench's
// target (without its URL). Everything is new at every run, so that no grant
// of an earlier run changes what the flows do, and the merchant's password
// exists only in this process.
func benchFixtures(ctx context.Context, cfg Config, db *store.DB) (bench.Target, error) {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	run := hex.EncodeToString(b[:])

	app, secret, err := newApp(appSpec{
		name:      "Storekey bench " + run,
		developer: "storekey bench",
		profile:   "standard",
		redirects: []string{benchRedirectURI},
		scopes:    benchScopes,
	}, cfg.oauthConfig().Defaults().Scopes, now())
	if err != nil {
		return bench.Target{}, err
	}
	if err := db.CreateApp(ctx, app); err != nil {
		return bench.Target{}, err
	}
	password := oauth.RandomSecret("")
	u, err := newUser("bench-"+run+"@bench.storekey.test", "Storekey bench "+run, password)
	if err != nil {
		return bench.Target{}, err
	}
	if err := db.CreateUser(ctx, u); err != nil {
		return bench.Target{}, err
	}
	s, _, err := createStore(ctx, db, "Bench store "+run, "bench-"+run, u.ID, nil)
	if err != nil {
		return bench.Target{}, err
	}
	return bench.Target{
		ClientID:     app.ID,
		ClientSecret: secret,
		RedirectURI:  benchRedirectURI,
		Scope:        app.Scopes.String(),
		Email:        u.Email,
		Password:     password,
		StoreID:      s.ID,
	}, nil
}
