package store

import (
	"context"
	"fmt"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

// pruneSteps are PruneExpired's deletes, one kind of row each. A step
// deletes the first $2 rows past their cutoff $1 that a scan finds; no
// index serves the cutoffs, and none is needed: the rows are scanned oldest
// first (in insertion order), so a batch stops at the first $2 it finds,
// and an index would cost every insert on the hot paths.
var pruneSteps = []struct {
	kind string
	q    string
	of   func(*oauth.Pruned, oauth.PrunePlan) (*int64, time.Time) // the count to add to, and the cutoff
}{
	{"codes", `DELETE FROM codes WHERE hash IN (SELECT hash FROM codes WHERE expires_at < $1 LIMIT $2)`,
		func(n *oauth.Pruned, p oauth.PrunePlan) (*int64, time.Time) { return &n.Codes, p.CodesBefore }},
	{"tokens", `DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_at < $1 LIMIT $2)`,
		func(n *oauth.Pruned, p oauth.PrunePlan) (*int64, time.Time) { return &n.Tokens, p.TokensBefore }},
	{"sessions", `DELETE FROM sessions WHERE hash IN (SELECT hash FROM sessions WHERE expires_at < $1 LIMIT $2)`,
		func(n *oauth.Pruned, p oauth.PrunePlan) (*int64, time.Time) { return &n.Sessions, p.SessionsBefore }},
	{"attempts", `DELETE FROM attempts WHERE name IN (SELECT name FROM attempts WHERE window_start < $1 LIMIT $2)`,
		func(n *oauth.Pruned, p oauth.PrunePlan) (*int64, time.Time) { return &n.Attempts, p.AttemptsBefore }},
	{"revocations", `DELETE FROM revocations WHERE seq IN (SELECT seq FROM revocations WHERE at < $1 LIMIT $2)`,
		func(n *oauth.Pruned, p oauth.PrunePlan) (*int64, time.Time) {
			return &n.Revocations, p.RevocationsBefore
		}},
}

// PruneExpired deletes what has outlived its use, in batches of at most
// p.Batch rows a statement, each its own transaction (on SQLite, one write
// of the group commit, so token requests go on between batches), pausing
// after each full batch for as long as it took.
func (db *DB) PruneExpired(ctx context.Context, p oauth.PrunePlan) (oauth.Pruned, error) {
	var out oauth.Pruned
	batch := p.Batch
	if batch <= 0 {
		batch = oauth.DefaultPruneBatch
	}
	for _, step := range pruneSteps {
		count, before := step.of(&out, p)
		if before.IsZero() {
			continue
		}
		cut := before.UnixMicro()
		for {
			if err := ctx.Err(); err != nil {
				return out, err
			}
			var n int64
			began := time.Now()
			err := db.write(ctx, func(h handle) error {
				res, err := h.ExecContext(ctx, step.q, cut, batch)
				if err != nil {
					return err
				}
				n, err = res.RowsAffected()
				return err
			})
			if err != nil {
				return out, fail(fmt.Sprintf("prune %s", step.kind), err)
			}
			*count += n
			if n < int64(batch) {
				break
			}
			// Leave the writer to others for as long as the batch held
			// it, so that a large backlog takes at most half its time.
			pause := time.NewTimer(time.Since(began))
			select {
			case <-ctx.Done():
				pause.Stop()
				return out, ctx.Err()
			case <-pause.C:
			}
		}
	}
	return out, nil
}
