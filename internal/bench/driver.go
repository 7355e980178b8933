package bench

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Target is the server under test and the fixtures prepared for the bench
// in its database: a confidential app, and a merchant who owns one store.
type Target struct {
	URL          string // base URL, such as http://127.0.0.1:8080
	ClientID     string
	ClientSecret string
	RedirectURI  string // registered for the app; never contacted
	Scope        string // space-separated; must include read_products for the api scenario
	Email        string // the merchant's sign-in
	Password     string
	StoreID      string // the merchant's only store
}

// Options are the knobs of a run. Zero values take the defaults given.
type Options struct {
	Concurrency int           // workers; 0: the scenario's default
	Warmup      time.Duration // default none
	Duration    time.Duration // default 10 s
	PID         int           // server process to sample RSS from; 0: none
	Rate        float64       // ops per second for all workers together (Plan.Rate); 0: a closed loop
	Tokens      int           // access tokens the introspect scenario cycles through; default 1000
	APITokens   int           // store-bound tokens the api scenario cycles through; default 200
	// APIPath is what the api scenario GETs with each token; default
	// DefaultAPIPath, which answers from the validated token alone, so that
	// the figure measures the middleware, not a query behind it.
	APIPath string
	Log     io.Writer // setup progress; nil: none
}

// DefaultAPIPath is the sample API's endpoint the api scenario calls by
// default: the middleware, the store-binding check and a JSON answer made
// from the token. /api/v1/products adds a read of the store's products.
const DefaultAPIPath = "/api/v1/store"

// RateLimitHint is the advice shown when the server answered 429.
const RateLimitHint = "the server rate-limits /oauth/token: start it with STOREKEY_RATE_LIMIT_TOKEN_PER_SECOND=0"

// scenario is one kind of load.
type scenario struct {
	name, unit, step string
	concurrency      int
	// prepare does the scenario's setup and returns the op of each worker.
	prepare func(d *Driver, ctx context.Context, workers int) (func(worker int, c *Conn) Op, error)
}

// scenarios, in the order "all" runs them. The authorization flows come last
// because each one adds a grant to the bench store.
var scenarios = []scenario{
	{"client-credentials", "tokens", "token", 16, (*Driver).prepareClientCredentials},
	{"introspect", "validations", "introspect", 64, (*Driver).prepareIntrospect},
	{"api", "validations", "api", 64, (*Driver).prepareAPI},
	{"flow", "flows", "flow", 16, (*Driver).prepareFlow},
}

// Scenarios returns the scenario names in the order "all" runs them.
func Scenarios() []string {
	out := make([]string, len(scenarios))
	for i, s := range scenarios {
		out[i] = s.name
	}
	return out
}

// DefaultConcurrency returns a scenario's default number of workers: 16
// for the token-issuing scenarios, 64 for the validating ones; 0 for an
// unknown name.
func DefaultConcurrency(name string) int {
	for _, s := range scenarios {
		if s.name == name {
			return s.concurrency
		}
	}
	return 0
}

// Driver runs scenarios against one server. It keeps what setup prepared
// (the merchant's session, the token pools) from one scenario to the next.
// It is not safe for concurrent use; the ops it hands the runner are.
type Driver struct {
	t    Target
	o    Options
	base string
	auth string // client_secret_basic
	jar  http.CookieJar
	wire *Wire // every request but the sign-in's; it sends the session cookie once signed in

	signedIn  bool
	ccTokens  []string
	apiTokens []string
}

// New returns a Driver for t. It checks t.URL (CheckURL is the caller's
// loopback guard) and fills in the defaults of o.
func New(t Target, o Options) (*Driver, error) {
	u, err := url.Parse(strings.TrimRight(t.URL, "/"))
	if err != nil || u.Host == "" {
		return nil, fmt.Errorf("bench: bad server URL %q", t.URL)
	}
	if o.Duration <= 0 {
		o.Duration = defaultDuration
	}
	if o.Tokens <= 0 {
		o.Tokens = 1000
	}
	if o.APITokens <= 0 {
		o.APITokens = 200
	}
	if o.APIPath == "" {
		o.APIPath = DefaultAPIPath
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	wire, err := NewWire(u.String(), "")
	if err != nil {
		return nil, err
	}
	return &Driver{t: t, o: o, base: u.String(), auth: BasicAuth(t.ClientID, t.ClientSecret), jar: jar, wire: wire}, nil
}

// defaultDuration is the measured time of a scenario unless Options say.
const defaultDuration = 10 * time.Second

// setupWorkers is how many requests setup keeps in flight.
const setupWorkers = 16

// Check makes sure the server answers and knows the bench app, which it
// does only if it runs on the database the fixtures were written to.
func (d *Driver) Check(ctx context.Context) error {
	c := d.wire.Conn()
	defer c.Close()
	r, err := c.Get(ctx, "/healthz", "", "healthz")
	if err != nil {
		return fmt.Errorf("no server at %s: %w", d.base, err)
	}
	if r.status != http.StatusOK {
		return fmt.Errorf("%s/healthz answered %d: is this a Storekey server?", d.base, r.status)
	}
	_, err = d.clientCredentials(ctx, c)
	var e *Error
	switch {
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		return fmt.Errorf("the server at %s does not know the bench app %s: is it running on the database given to the bench (--database)?", d.base, d.t.ClientID)
	case err != nil:
		return setupError("check the token endpoint", err)
	}
	return nil
}

// Run runs the named scenario: its setup, unless an earlier run did it,
// then the load.
func (d *Driver) Run(ctx context.Context, name string) (*Result, error) {
	var sc *scenario
	for i := range scenarios {
		if scenarios[i].name == name {
			sc = &scenarios[i]
		}
	}
	if sc == nil {
		return nil, fmt.Errorf("bench: unknown scenario %q (known: %s)", name, strings.Join(Scenarios(), ", "))
	}
	workers := d.o.Concurrency
	if workers <= 0 {
		workers = sc.concurrency
	}
	newOp, err := sc.prepare(d, ctx, workers)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(d.o.Log, "%s: %d workers%s, %s warmup, %s measured\n", sc.name, workers, paced(d.o.Rate, sc.unit), d.o.Warmup, d.o.Duration)
	var conns []*Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	return Run(ctx, Plan{
		Name: sc.name, Unit: sc.unit, Step: sc.step, Concurrency: workers,
		Warmup: d.o.Warmup, Duration: d.o.Duration, PID: d.o.PID, Rate: d.o.Rate,
	}, func(worker int) Op {
		c := d.wire.Conn()
		conns = append(conns, c)
		return newOp(worker, c)
	})
}

// setupError words a failure of setup, with the rate-limit advice when the
// server answered 429.
func setupError(what string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Status == http.StatusTooManyRequests {
		return fmt.Errorf("%s: %w (%s)", what, err, RateLimitHint)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// parallel calls fn(i) for i in [0, n) on up to workers goroutines, each
// with a connection of its own, and returns the first error, after which it
// starts no more calls.
func (d *Driver) parallel(ctx context.Context, n, workers int, fn func(ctx context.Context, i int, c *Conn) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		next     atomic.Int64
		once     sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range min(n, workers) {
		wg.Go(func() {
			c := d.wire.Conn()
			defer c.Close()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				if err := fn(ctx, i, c); err != nil {
					once.Do(func() { firstErr = err; cancel() })
					return
				}
			}
		})
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return firstErr
}

// clientCredentials asks for an app-level token (RFC 6749 §4.4.2),
// authenticating with client_secret_basic.
func (d *Driver) clientCredentials(ctx context.Context, c *Conn) (string, error) {
	r, err := c.PostForm(ctx, "/oauth/token", d.auth, "grant_type=client_credentials", "token")
	if err != nil {
		return "", err
	}
	t, err := readToken("token", r)
	return t.AccessToken, err
}

func (d *Driver) prepareClientCredentials(context.Context, int) (func(int, *Conn) Op, error) {
	accessToken := []byte(`"access_token"`)
	return func(_ int, c *Conn) Op {
		return func(ctx context.Context, _ *Recorder) error {
			r, err := c.PostForm(ctx, "/oauth/token", d.auth, "grant_type=client_credentials", "token")
			if err != nil {
				return err
			}
			if r.status != http.StatusOK {
				return statusError("token", r)
			}
			if !bytes.Contains(r.body, accessToken) {
				return unexpected("token", "no access_token in %s", truncate(string(r.body), 120))
			}
			return nil
		}
	}, nil
}

func (d *Driver) prepareIntrospect(ctx context.Context, _ int) (func(int, *Conn) Op, error) {
	if len(d.ccTokens) < d.o.Tokens {
		fmt.Fprintf(d.o.Log, "introspect: issuing %d access tokens (client_credentials)\n", d.o.Tokens)
		tokens := make([]string, d.o.Tokens)
		err := d.parallel(ctx, len(tokens), setupWorkers, func(ctx context.Context, i int, c *Conn) error {
			var err error
			tokens[i], err = d.clientCredentials(ctx, c)
			return err
		})
		if err != nil {
			return nil, setupError("introspect: issue tokens", err)
		}
		d.ccTokens = tokens
	}
	bodies := make([]string, len(d.ccTokens))
	for i, t := range d.ccTokens {
		bodies[i] = url.Values{"token": {t}, "token_type_hint": {"access_token"}}.Encode()
	}
	active := []byte(`"active":true`)
	return cycle(bodies, func(ctx context.Context, c *Conn, body string) error {
		r, err := c.PostForm(ctx, "/oauth/introspect", d.auth, body, "introspect")
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return statusError("introspect", r)
		}
		if !bytes.Contains(r.body, active) {
			return unexpected("introspect", "the token is reported inactive: %s", truncate(string(r.body), 120))
		}
		return nil
	}), nil
}

func (d *Driver) prepareAPI(ctx context.Context, _ int) (func(int, *Conn) Op, error) {
	if len(d.apiTokens) < d.o.APITokens {
		if err := d.ensureConsent(ctx); err != nil {
			return nil, err
		}
		fmt.Fprintf(d.o.Log, "api: running %d authorization flows for store-bound tokens\n", d.o.APITokens)
		tokens := make([]string, d.o.APITokens)
		err := d.parallel(ctx, len(tokens), min(setupWorkers, 8), func(ctx context.Context, i int, c *Conn) error {
			var err error
			tokens[i], err = d.flow(ctx, c, nil)
			return err
		})
		if err != nil {
			return nil, setupError("api: authorization flows", err)
		}
		d.apiTokens = tokens
	}
	headers := make([]string, len(d.apiTokens))
	for i, t := range d.apiTokens {
		headers[i] = "Bearer " + t
	}
	path := d.o.APIPath
	return cycle(headers, func(ctx context.Context, c *Conn, auth string) error {
		r, err := c.Get(ctx, path, auth, "api")
		if err != nil {
			return err
		}
		if r.status != http.StatusOK {
			return statusError("api", r)
		}
		return nil
	}), nil
}

// cycle makes ops that go round the items, each worker starting at its own
// offset so that the workers spread over the whole set.
func cycle(items []string, call func(ctx context.Context, c *Conn, item string) error) func(int, *Conn) Op {
	return func(worker int, c *Conn) Op {
		i := worker * 7919 // a prime stride spreads the starting points
		return func(ctx context.Context, _ *Recorder) error {
			item := items[i%len(items)]
			i++
			return call(ctx, c, item)
		}
	}
}
