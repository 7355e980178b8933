package resource

import (
	"container/list"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// IntrospectorConfig configures an Introspector. Zero values take the
// defaults given.
type IntrospectorConfig struct {
	// Endpoint is the URL of the authorization server's introspection
	// endpoint (RFC 7662 §2).
	Endpoint string
	// ClientID and ClientSecret authenticate the resource server to the
	// endpoint with HTTP Basic (RFC 6749 §2.3.1).
	ClientID     string
	ClientSecret string
	// HTTPClient sends the requests. The default has a 10 s timeout and
	// follows no redirects, so that a token is never sent elsewhere.
	HTTPClient *http.Client
	// TTL is how long an answer that the token is active is reused; never
	// past the token's expiry. It bounds how long a revoked token keeps
	// working here. Default 5 s; negative disables caching.
	TTL time.Duration
	// NegativeTTL is how long an answer that the token is not active is
	// reused. Default 2 s; negative disables caching.
	NegativeTTL time.Duration
	// MaxEntries bounds the cache; the least recently used answers go first.
	// Default 10000.
	MaxEntries int
	// Timeout bounds one lookup, which concurrent callers share. Default 10 s.
	Timeout time.Duration
	// Now is the clock; default time.Now.
	Now func() time.Time
}

// Defaults of IntrospectorConfig.
const (
	DefaultIntrospectionTTL         = 5 * time.Second
	DefaultIntrospectionNegativeTTL = 2 * time.Second
	DefaultIntrospectionMaxEntries  = 10000
	defaultIntrospectionTimeout     = 10 * time.Second
	maxIntrospectionResponse        = 1 << 20
)

// Introspector is a Validator that asks an RFC 7662 introspection endpoint
// whether a token is active and caches the answers briefly. Concurrent
// lookups of one token share a single request. Only SHA-256 hashes of tokens
// are kept in memory. It is safe for concurrent use.
type Introspector struct {
	cfg IntrospectorConfig

	mu       sync.Mutex
	entries  map[[sha256.Size]byte]*list.Element // of *cacheEntry
	lru      *list.List                          // most recently used first
	inflight map[[sha256.Size]byte]*lookup
}

var _ Validator = (*Introspector)(nil)

type cacheEntry struct {
	key   [sha256.Size]byte
	p     *Principal // nil: the token is not active
	until time.Time
}

// lookup is one request to the endpoint, shared by every caller that wants
// the same token meanwhile.
type lookup struct {
	done chan struct{}
	p    *Principal
	err  error
}

// NewIntrospector returns an Introspector for cfg, filling in the defaults.
func NewIntrospector(cfg IntrospectorConfig) *Introspector {
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{
			Timeout: defaultIntrospectionTimeout,
			CheckRedirect: func(*http.Request, []*http.Request) error {
				return http.ErrUseLastResponse
			},
		}
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultIntrospectionTTL
	}
	if cfg.NegativeTTL == 0 {
		cfg.NegativeTTL = DefaultIntrospectionNegativeTTL
	}
	if cfg.MaxEntries <= 0 {
		cfg.MaxEntries = DefaultIntrospectionMaxEntries
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultIntrospectionTimeout
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Introspector{
		cfg:      cfg,
		entries:  make(map[[sha256.Size]byte]*list.Element),
		lru:      list.New(),
		inflight: make(map[[sha256.Size]byte]*lookup),
	}
}

// Validate returns the principal of an active token. It returns an error
// wrapping ErrInvalidToken when the endpoint says the token is not active or
// is a refresh token, and another error when the endpoint cannot be reached
// or answers something other than a well-formed RFC 7662 §2.2 response.
// Errors never contain the token.
func (in *Introspector) Validate(ctx context.Context, token string) (*Principal, error) {
	if token == "" {
		return nil, ErrInvalidToken
	}
	key := sha256.Sum256([]byte(token))
	now := in.cfg.Now()

	in.mu.Lock()
	if el, ok := in.entries[key]; ok {
		e := el.Value.(*cacheEntry)
		if now.Before(e.until) {
			in.lru.MoveToFront(el)
			in.mu.Unlock()
			if e.p == nil {
				return nil, ErrInvalidToken
			}
			return e.p.clone(), nil
		}
		in.lru.Remove(el)
		delete(in.entries, key)
	}
	l, ok := in.inflight[key]
	if !ok {
		l = &lookup{done: make(chan struct{})}
		in.inflight[key] = l
		// The lookup is shared, so one caller giving up must not cancel it
		// for the others; Timeout bounds it instead.
		go in.run(context.WithoutCancel(ctx), key, token, l)
	}
	in.mu.Unlock()

	select {
	case <-l.done:
		if l.err != nil {
			return nil, l.err
		}
		return l.p.clone(), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("introspect: %w", ctx.Err())
	}
}

func (in *Introspector) run(ctx context.Context, key [sha256.Size]byte, token string, l *lookup) {
	ctx, cancel := context.WithTimeout(ctx, in.cfg.Timeout)
	defer cancel()
	p, err := in.introspect(ctx, token)
	now := in.cfg.Now()

	in.mu.Lock()
	defer in.mu.Unlock()
	delete(in.inflight, key)
	l.p, l.err = p, err
	close(l.done)
	switch {
	case err == nil && in.cfg.TTL > 0:
		until := now.Add(in.cfg.TTL)
		if !p.ExpiresAt.IsZero() && p.ExpiresAt.Before(until) {
			until = p.ExpiresAt
		}
		in.store(key, p, now, until)
	case errors.Is(err, ErrInvalidToken) && in.cfg.NegativeTTL > 0:
		in.store(key, nil, now, now.Add(in.cfg.NegativeTTL))
	}
}

// store caches an answer until the given time; in.mu must be held.
func (in *Introspector) store(key [sha256.Size]byte, p *Principal, now, until time.Time) {
	if !now.Before(until) {
		return
	}
	if el, ok := in.entries[key]; ok {
		el.Value = &cacheEntry{key: key, p: p, until: until}
		in.lru.MoveToFront(el)
		return
	}
	in.entries[key] = in.lru.PushFront(&cacheEntry{key: key, p: p, until: until})
	for in.lru.Len() > in.cfg.MaxEntries {
		el := in.lru.Back()
		in.lru.Remove(el)
		delete(in.entries, el.Value.(*cacheEntry).key)
	}
}

// introspectionResponse is the RFC 7662 §2.2 response with Storekey's
// extension members.
type introspectionResponse struct {
	Active         *bool    `json:"active"`
	Scope          string   `json:"scope"`
	ClientID       string   `json:"client_id"`
	TokenType      string   `json:"token_type"`
	Exp            *float64 `json:"exp"`
	Sub            string   `json:"sub"`
	JTI            string   `json:"jti"`
	StoreID        string   `json:"store_id"`
	GrantID        string   `json:"grant_id"`
	LocationID     string   `json:"location_id"`
	CatalogID      string   `json:"catalog_id"`
	CustomerListID string   `json:"customer_list_id"`
}

// maxUnixTime is the last second of year 9999; later exp values are treated
// as no expiry.
const maxUnixTime = 253402300799

// introspect sends one introspection request (RFC 7662 §2.1).
func (in *Introspector) introspect(ctx context.Context, token string) (*Principal, error) {
	form := url.Values{"token": {token}, "token_type_hint": {"access_token"}}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.cfg.Endpoint, strings.NewReader(form.Encode())) //nolint:gosec // G704: the endpoint is the operator's configuration, not request input
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	// RFC 6749 §2.3.1: the id and secret are form-encoded before Basic.
	req.SetBasicAuth(url.QueryEscape(in.cfg.ClientID), url.QueryEscape(in.cfg.ClientSecret))

	resp, err := in.cfg.HTTPClient.Do(req) //nolint:gosec // G704: the endpoint is the operator's configuration, not request input
	if err != nil {
		return nil, fmt.Errorf("introspect: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxIntrospectionResponse+1))
	if err != nil {
		return nil, fmt.Errorf("introspect: read response: %w", err)
	}
	if len(body) > maxIntrospectionResponse {
		return nil, errors.New("introspect: response too large")
	}
	if resp.StatusCode != http.StatusOK {
		var e errorBody
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, fmt.Errorf("introspect: endpoint answered %s (%s)", resp.Status, quotable(e.Error))
		}
		return nil, fmt.Errorf("introspect: endpoint answered %s", resp.Status)
	}
	return parseIntrospection(body)
}

// parseIntrospection reads an RFC 7662 §2.2 response: the principal of an
// active access token, ErrInvalidToken for an inactive one or a refresh
// token, another error for a malformed response.
func parseIntrospection(body []byte) (*Principal, error) {
	var r introspectionResponse
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("introspect: malformed response: %w", err)
	}
	if r.Active == nil {
		return nil, errors.New("introspect: malformed response: no active member")
	}
	if !*r.Active {
		return nil, ErrInvalidToken
	}
	// A refresh token is no access token, whatever the endpoint says of it.
	if strings.EqualFold(r.TokenType, "refresh_token") {
		return nil, fmt.Errorf("%w: a refresh token was presented", ErrInvalidToken)
	}
	p := &Principal{
		Active:         true,
		TokenID:        r.JTI,
		AppID:          r.ClientID,
		StoreID:        r.StoreID,
		UserID:         r.Sub,
		GrantID:        r.GrantID,
		Scopes:         strings.Fields(r.Scope),
		LocationID:     r.LocationID,
		CatalogID:      r.CatalogID,
		CustomerListID: r.CustomerListID,
	}
	if r.Exp != nil && *r.Exp > 0 && *r.Exp <= maxUnixTime {
		p.ExpiresAt = time.Unix(int64(*r.Exp), 0)
	}
	return p, nil
}
