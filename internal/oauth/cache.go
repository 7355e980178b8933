package oauth

import (
	"context"
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
	syncMu sync.Mutex // one sync at a time
	ttl    time.Duration
	max    int
	mu     sync.RWMutex
	byID   map[string]cacheEntry // key: token hash
	seq    int64                 // last revocation log entry applied
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
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.seq != seenSeq {
		return
	}
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
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.seq
}

// apply drops what the revocation log entries revoked.
func (c *tokenCache) apply(revs []Revocation) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, r := range revs {
		if r.Seq <= c.seq {
			continue
		}
		c.seq = r.Seq
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
	}
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
