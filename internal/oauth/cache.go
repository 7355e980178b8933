package oauth

import (
	"context"
	"slices"
	"sync"
	"time"
)

// tokenCache keeps recently validated access tokens in memory so that the
// validation path (the sample API, resource servers, introspection) needs
// no database round trip. Entries are immutable snapshots, replaced whole.
//
// Revocation is pushed, not waited out: every revocation appends to the
// database's revocation log, and the cache follows that log (sync), so a
// revocation made through this process ends the token at once and one made
// by another process within the poll interval. ttl bounds how long any
// snapshot lives regardless.
type tokenCache struct {
	logPos
	syncMu sync.Mutex // one sync at a time
	ttl    time.Duration
	max    int
	byID   map[string]cacheEntry // key: token hash
}

// logPos is how far a cache has followed the revocation log, with the lock
// over what the cache holds.
type logPos struct {
	mu  sync.RWMutex
	seq int64 // last revocation log entry applied
}

// keep runs fn under p's lock if the log is still where it was when the
// caller read what fn stores (seen): else that may predate a revocation.
func (p *logPos) keep(seen int64, fn func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.seq == seen {
		fn()
	}
}

// advance moves p past the entries it has not seen, in order, calling fn
// for each under p's lock.
func (p *logPos) advance(revs []Revocation, fn func(Revocation)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, r := range revs {
		if r.Seq > p.seq {
			p.seq = r.Seq
			fn(r)
		}
	}
}

func (p *logPos) at() int64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.seq
}

type cacheEntry struct {
	info    *TokenInfo
	fetched time.Time
}

func newTokenCache(ttl time.Duration, max int) *tokenCache {
	return &tokenCache{ttl: ttl, max: max, byID: make(map[string]cacheEntry)}
}

func (c *tokenCache) get(hash []byte, now time.Time) (*TokenInfo, bool) {
	if c == nil {
		return nil, false
	}
	c.mu.RLock()
	e, ok := c.byID[string(hash)]
	c.mu.RUnlock()
	if !ok || now.Sub(e.fetched) > c.ttl {
		return nil, false
	}
	return e.info, true
}

// put stores a snapshot unless the revocation log moved past seenSeq while
// it was being read, in which case the snapshot may predate a revocation.
func (c *tokenCache) put(info *TokenInfo, now time.Time, seenSeq int64) {
	if c == nil {
		return
	}
	c.keep(seenSeq, func() {
		if len(c.byID) >= c.max {
			// Drop an arbitrary tenth: cheap, and the hot tokens come back.
			n := c.max / 10
			for k := range c.byID {
				delete(c.byID, k)
				if n--; n <= 0 {
					break
				}
			}
		}
		c.byID[string(info.Hash)] = cacheEntry{info: info, fetched: now}
	})
}

// replace swaps in a newer snapshot of an entry still cached, keeping its
// age.
func (c *tokenCache) replace(info *TokenInfo) {
	if c == nil {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byID[string(info.Hash)]; ok {
		e.info = info
		c.byID[string(info.Hash)] = e
	}
}

func (c *tokenCache) currentSeq() int64 {
	if c == nil {
		return 0
	}
	return c.at()
}

// apply drops what the revocation log entries revoked.
func (c *tokenCache) apply(revs []Revocation) {
	c.advance(revs, func(r Revocation) {
		switch {
		case len(r.TokenHash) > 0:
			delete(c.byID, string(r.TokenHash))
		case r.GrantID != "" || r.AppID != "":
			for k, e := range c.byID {
				if (r.GrantID != "" && e.info.GrantID == r.GrantID) || (r.AppID != "" && e.info.AppID == r.AppID) {
					delete(c.byID, k)
				}
			}
		}
	})
}

// sync applies the revocation log entries the cache has not seen.
func (s *Service) syncRevocations(ctx context.Context) error {
	c := s.cache
	if c == nil {
		return nil
	}
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	for {
		revs, err := s.st.Revocations(ctx, c.currentSeq(), 500)
		if err != nil {
			return err
		}
		c.apply(revs)
		s.consent.apply(revs)
		for _, r := range revs {
			if r.AppID != "" {
				s.ForgetApp(r.AppID)
			}
		}
		if len(revs) < 500 {
			return nil
		}
	}
}

// WatchRevocations follows the revocation log until ctx ends, so that
// revocations made by other processes reach this one's cache within
// interval. The first pass reads the log from its start, 500 entries a
// query; the cache is empty meanwhile, so nothing stale can be served.
func (s *Service) WatchRevocations(ctx context.Context, interval time.Duration) {
	if s.cache == nil {
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := s.syncRevocations(ctx); err != nil && ctx.Err() == nil {
			s.log.WarnContext(ctx, "following the revocation log", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// consentCache remembers, per app and store, the scope sets of the app's
// active grants that CanSkipConsent last read, so that a merchant who keeps
// authorizing an app with remembered consent costs no database read. It
// only ever answers yes: a request its sets do not cover is read from the
// database again, so a grant made in another process is never missed.
//
// A yes must not outlive the grant behind it, and grants end through the
// revocation log: the cache follows it with the token cache, and an entry
// that names a grant (revoked, or rebound to other scopes) or an app drops
// every remembered set, because the log does not say which store a grant is
// on and such entries are rare. So a revocation made through this process
// ends remembered consent at once, and one made by another process within
// the log's poll interval, as it ends the grant's tokens. ttl bounds how
// long any entry lives regardless.
type consentCache struct {
	logPos
	ttl time.Duration
	m   map[consentKey]consentEntry
}

type consentKey struct{ app, store string }

type consentEntry struct {
	sets    []Scopes // never changed in place: readers hold them unlocked
	fetched time.Time
}

// consentCacheSize bounds the entries; maxConsentSets the sets an entry
// holds, as GrantedScopes bounds what it reads.
const (
	consentCacheSize = 10_000
	maxConsentSets   = 20
)

func newConsentCache(ttl time.Duration) *consentCache {
	return &consentCache{ttl: ttl, m: make(map[consentKey]consentEntry)}
}

// covers reports whether a remembered set covers want, and the revocation
// log position it answered at (for put).
func (c *consentCache) covers(app, store string, want Scopes, now time.Time) (bool, int64) {
	if c == nil {
		return false, 0
	}
	c.mu.RLock()
	e, ok := c.m[consentKey{app, store}]
	seq := c.seq
	c.mu.RUnlock()
	if ok && now.Sub(e.fetched) <= c.ttl {
		for _, sc := range e.sets {
			if sc.Covers(want) {
				return true, seq
			}
		}
	}
	return false, seq
}

// put remembers the sets read from the database unless the revocation log
// moved past seenSeq while they were read: they may predate a revocation.
func (c *consentCache) put(app, store string, sets []Scopes, now time.Time, seenSeq int64) {
	if c == nil || len(sets) == 0 || len(sets) > maxConsentSets {
		return
	}
	c.keep(seenSeq, func() {
		if len(c.m) >= consentCacheSize {
			clear(c.m)
		}
		c.m[consentKey{app, store}] = consentEntry{sets: slices.Clone(sets), fetched: now}
	})
}

// granted adds the scopes of a grant just created to its app and store's
// entry, if there is one, so that the next authorization needs no read. It
// does not if the revocation log has moved since seenSeq, taken before the
// grant was stored: the grant may have been revoked already.
func (c *consentCache) granted(app, store string, sc Scopes, seenSeq int64) {
	if c == nil {
		return
	}
	c.keep(seenSeq, func() {
		k := consentKey{app, store}
		e, ok := c.m[k]
		switch {
		case !ok || slices.ContainsFunc(e.sets, func(s Scopes) bool { return s.Covers(sc) }):
		case len(e.sets) >= maxConsentSets:
			delete(c.m, k)
		default:
			e.sets = append(slices.Clip(e.sets), sc)
			c.m[k] = e
		}
	})
}

// apply drops every remembered set when an entry names a grant or an app.
func (c *consentCache) apply(revs []Revocation) {
	if c == nil {
		return
	}
	c.advance(revs, func(r Revocation) {
		if r.GrantID != "" || r.AppID != "" {
			clear(c.m)
		}
	})
}

func (c *consentCache) currentSeq() int64 {
	if c == nil {
		return 0
	}
	return c.at()
}
