package oauth

import (
	"context"
	"sync"
	"time"
)

// appCache keeps apps in memory for the token, introspection and
// authorization endpoints, which look the client up on every request.
// Entries live ttl at most; an app's deletion reaches it through the
// revocation log like a token's, and a failed client authentication
// against a cached app reads the app again before refusing, so a secret
// rotated by another process is honoured at once.
type appCache struct {
	ttl  time.Duration
	mu   sync.RWMutex
	byID map[string]appEntry
}

type appEntry struct {
	app     *App
	fetched time.Time
}

const appCacheMax = 10_000

func newAppCache(ttl time.Duration) *appCache {
	return &appCache{ttl: ttl, byID: make(map[string]appEntry)}
}

// App returns the app with the id as the service sees it: from its cache,
// at most a few seconds old (the audit trail names the app's partner from
// it). Callers must not change the returned App: it is shared.
func (s *Service) App(ctx context.Context, id string) (*App, error) { return s.app(ctx, id) }

// app returns the app with the id, from the cache when fresh. Callers must
// not change the returned App: it is shared.
func (s *Service) app(ctx context.Context, id string) (*App, error) {
	c := s.apps
	if c == nil {
		return s.st.App(ctx, id)
	}
	now := time.Now()
	c.mu.RLock()
	e, ok := c.byID[id]
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) <= c.ttl {
		return e.app, nil
	}
	return s.reloadApp(ctx, id)
}

// reloadApp reads the app from storage and caches it.
func (s *Service) reloadApp(ctx context.Context, id string) (*App, error) {
	a, err := s.st.App(ctx, id)
	if err != nil {
		return nil, err
	}
	if c := s.apps; c != nil {
		c.mu.Lock()
		if len(c.byID) >= appCacheMax {
			clear(c.byID)
		}
		c.byID[id] = appEntry{app: a, fetched: time.Now()}
		c.mu.Unlock()
	}
	return a, nil
}

// ForgetApp drops an app from this process's cache; call it after changing
// the app through storage.
func (s *Service) ForgetApp(id string) {
	if c := s.apps; c != nil {
		c.mu.Lock()
		delete(c.byID, id)
		c.mu.Unlock()
	}
}
