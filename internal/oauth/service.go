package oauth

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config holds the protocol settings of a Service. The zero value of a field
// means its default, given by Defaults.
type Config struct {
	Issuer             string        // the issuer identifier (RFC 8414 §2), sent as iss (RFC 9207)
	CodeTTL            time.Duration // authorization code lifetime; default 10 minutes
	AccessTTL          time.Duration // default access token lifetime; default 1 hour
	RefreshTTL         time.Duration // default refresh token lifetime; default 90 days; NoExpiry: never
	RefreshRetryWindow time.Duration // how long a rotated refresh token may be retried; default 60 s
	AllowPlainPKCE     bool          // accept code_challenge_method=plain (RFC 7636 §4.2)
	SkipKnownConsent   bool          // skip consent when an active grant already covers the request
	Scopes             ScopeCatalog  // the scopes apps may ask for
	ResourceServers    []string      // client ids allowed to introspect any token (RFC 7662 §2.1)
	// TokenCacheTTL bounds how long a validated access token is served from
	// memory; revocations reach the cache through the revocation log sooner.
	// Default 30 s; negative disables the cache.
	TokenCacheTTL  time.Duration
	TokenCacheSize int // default 100,000 tokens
}

// Defaults returns c with every unset field given its default.
func (c Config) Defaults() Config {
	if c.CodeTTL == 0 {
		c.CodeTTL = 10 * time.Minute
	}
	if c.AccessTTL == 0 {
		c.AccessTTL = time.Hour
	}
	if c.RefreshTTL == 0 {
		c.RefreshTTL = 90 * 24 * time.Hour
	}
	if c.RefreshRetryWindow == 0 {
		c.RefreshRetryWindow = 60 * time.Second
	}
	if c.TokenCacheTTL == 0 {
		c.TokenCacheTTL = 30 * time.Second
	}
	if c.TokenCacheSize <= 0 {
		c.TokenCacheSize = 100_000
	}
	if c.Scopes == nil {
		c.Scopes = DefaultCatalog()
	}
	return c
}

// Service carries out the protocol: it validates authorization requests,
// issues codes, runs the token endpoint's grants, and validates, introspects
// and revokes tokens. It knows nothing of HTTP; the server and web packages
// parse requests into its types and render its results and errors.
type Service struct {
	cfg    Config
	st     Storage
	log    *slog.Logger
	Now    func() time.Time
	keysMu sync.RWMutex
	keys   map[string][]byte
	cur    string // id of the key new generations derive from
	// codeKeys seal authorization codes, one per server key (code.go).
	codeKeys map[string][]byte
	cache    *tokenCache
	consent  *consentCache
	apps     *appCache
	events   Recorder
	// dialects are the platforms' rules by profile name.
	dialects map[string]Dialect
}

// NewService returns a Service on st. keys are the server secrets token
// values derive from; the last one is current, the others still derive the
// tokens of grants that last rotated under them. At least one is required.
func NewService(cfg Config, st Storage, keys []Key, log *slog.Logger) (*Service, error) {
	if len(keys) == 0 {
		return nil, errors.New("oauth: at least one server key is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg.Defaults(), st: st, log: log, Now: time.Now, keys: map[string][]byte{}}
	if s.cfg.TokenCacheTTL > 0 {
		s.cache = newTokenCache(s.cfg.TokenCacheTTL, s.cfg.TokenCacheSize)
		s.consent = newConsentCache(s.cfg.TokenCacheTTL)
		s.apps = newAppCache(5 * time.Second)
	}
	for _, k := range keys {
		if len(k.Secret) < 32 {
			return nil, fmt.Errorf("oauth: server key %q is shorter than 32 bytes", k.ID)
		}
		s.keys[k.ID] = k.Secret
		s.cur = k.ID
	}
	var err error
	if s.codeKeys, err = newCodeKeys(keys); err != nil {
		return nil, err
	}
	return s, nil
}

// Config returns the service's settings, defaults applied.
func (s *Service) Config() Config { return s.cfg }

// Storage returns the storage the service runs on.
func (s *Service) Storage() Storage { return s.st }

func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Microsecond) }

func (s *Service) currentKey() (string, []byte) {
	s.keysMu.RLock()
	defer s.keysMu.RUnlock()
	return s.cur, s.keys[s.cur]
}

func (s *Service) key(id string) ([]byte, bool) {
	s.keysMu.RLock()
	defer s.keysMu.RUnlock()
	k, ok := s.keys[id]
	return k, ok
}

// accessTTL and refreshTTL resolve an app's lifetimes against its
// dialect's and the server's defaults; 0 means the token never expires.
func (s *Service) accessTTL(a *App) time.Duration {
	return ttl(a.AccessTTL, s.dialects[a.Profile].AccessTTL, s.cfg.AccessTTL)
}

func (s *Service) refreshTTL(a *App) time.Duration {
	return ttl(a.RefreshTTL, s.dialects[a.Profile].RefreshTTL, s.cfg.RefreshTTL)
}

// issuesRefresh reports whether an app gets refresh tokens.
func (s *Service) issuesRefresh(a *App) bool { return !a.NoRefresh && !s.dialects[a.Profile].NoRefresh }

func ttl(choices ...time.Duration) time.Duration {
	for _, d := range choices {
		if d < 0 {
			return 0
		}
		if d > 0 {
			return d
		}
	}
	return 0
}

func expiry(now time.Time, d time.Duration) time.Time {
	if d == 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// ClientCredentials are the credentials a client presented (RFC 6749 §2.3).
type ClientCredentials struct {
	ID     string
	Secret string
	Basic  bool // sent in the Authorization header (client_secret_basic)
}

// AuthenticateClient returns the app the credentials authenticate. A
// confidential app must present its current secret, or its previous one
// within the rotation grace period; a public app must present none. Every
// failure is invalid_client (RFC 6749 §5.2), with no hint of which part was
// wrong.
func (s *Service) AuthenticateClient(ctx context.Context, c ClientCredentials) (*App, error) {
	if c.ID == "" {
		return nil, Errorf(ErrInvalidClient, "client authentication failed: no client_id")
	}
	app, err := s.app(ctx, c.ID)
	if errors.Is(err, ErrNotFound) {
		return nil, Errorf(ErrInvalidClient, "client authentication failed")
	}
	if err != nil {
		return nil, err
	}
	if ok, err := s.checkClient(app, c); ok || err != nil {
		return app, err
	}
	// The cached app may predate a secret rotation made elsewhere.
	if app, err = s.reloadApp(ctx, c.ID); err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, Errorf(ErrInvalidClient, "client authentication failed")
		}
		return nil, err
	}
	if ok, err := s.checkClient(app, c); ok || err != nil {
		return app, err
	}
	return nil, Errorf(ErrInvalidClient, "client authentication failed")
}

// checkClient checks presented credentials against an app: ok when they
// authenticate it, an error when they are wrong in a way a newer copy of
// the app could not fix.
func (s *Service) checkClient(app *App, c ClientCredentials) (bool, error) {
	if app.Public {
		if c.Secret != "" {
			return false, Errorf(ErrInvalidClient, "client authentication failed: public clients have no secret")
		}
		return true, nil
	}
	if c.Secret == "" {
		return false, Errorf(ErrInvalidClient, "client authentication failed: client_secret required")
	}
	if EqualHash(c.Secret, app.SecretHash) {
		return true, nil
	}
	if len(app.PrevSecret) > 0 && s.now().Before(app.PrevExpires) && EqualHash(c.Secret, app.PrevSecret) {
		return true, nil
	}
	return false, nil
}
