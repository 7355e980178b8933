package oauth

import (
	"context"
	"math/rand/v2"
	"time"
)

// PrunePlan is what PruneExpired deletes: each kind of row that expired (or,
// for throttle counters, whose window started; for revocation log entries,
// that was written) before its cutoff. A zero cutoff leaves its kind alone.
type PrunePlan struct {
	CodesBefore       time.Time
	TokensBefore      time.Time
	SessionsBefore    time.Time
	AttemptsBefore    time.Time
	RevocationsBefore time.Time
	Batch             int // rows deleted per statement; 0: DefaultPruneBatch
}

// DefaultPruneBatch is the rows one pruning statement deletes at most: a
// few milliseconds of the writer's time.
const DefaultPruneBatch = 200

// Pruned counts the rows a prune deleted, by kind.
type Pruned struct {
	Codes, Tokens, Sessions, Attempts, Revocations int64
}

// Total is the number of rows deleted.
func (p Pruned) Total() int64 {
	return p.Codes + p.Tokens + p.Sessions + p.Attempts + p.Revocations
}

// DefaultPruneRetention is how long expired rows are kept by default.
const DefaultPruneRetention = 24 * time.Hour

// ExpiredBefore is the plan that prunes every kind of row that expired
// more than retention before now (DefaultPruneRetention when retention is
// 0 or less). See Service.Prune for why rows are kept that long.
func ExpiredBefore(now time.Time, retention time.Duration) PrunePlan {
	if retention <= 0 {
		retention = DefaultPruneRetention
	}
	cut := now.Add(-retention)
	return PrunePlan{
		CodesBefore:       cut,
		TokensBefore:      cut,
		SessionsBefore:    cut,
		AttemptsBefore:    cut,
		RevocationsBefore: cut,
	}
}

// Prune deletes what expired more than retention ago: codes, access and
// refresh tokens, browser sessions, login throttle counters, and the
// revocation log's entries. Nothing expired is ever accepted, so the
// retention only keeps evidence: within it, an expired code or refresh
// token presented again is still known (a replayed code still revokes its
// grant), and the rows are there for support to look at. Revocation log
// entries are needed for seconds (a validated token stays in the cache for
// TokenCacheTTL at most, and a starting process reads the whole log, which
// pruning keeps short), so any retention is ample for them.
//
// The retention must be longer than the login throttle's window, so that
// pruning never resets a counter within its window.
func (s *Service) Prune(ctx context.Context, retention time.Duration) (Pruned, error) {
	return s.st.PruneExpired(ctx, ExpiredBefore(s.now(), retention))
}

// RunPruner prunes (Prune) every interval, give or take a tenth so that
// processes sharing a database spread their runs, until ctx ends. It logs
// what each run deleted, and a failed run as a warning; the next run picks
// up where it stopped.
func (s *Service) RunPruner(ctx context.Context, interval, retention time.Duration) {
	for {
		jitter := time.Duration(rand.Int64N(int64(interval)/5+1)) - interval/10 //nolint:gosec // G404: spreads timers, guards nothing
		t := time.NewTimer(interval + jitter)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
		n, err := s.Prune(ctx, retention)
		switch {
		case err != nil && ctx.Err() == nil:
			s.log.WarnContext(ctx, "pruning expired rows", "err", err, "deleted", n.Total())
		case n.Total() > 0:
			s.log.InfoContext(ctx, "pruned expired rows", "codes", n.Codes, "tokens", n.Tokens,
				"sessions", n.Sessions, "attempts", n.Attempts, "revocations", n.Revocations)
		}
	}
}
