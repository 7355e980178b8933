package store

import (
	"context"
	"errors"
	"time"
)

// CountAttempt counts one attempt under key in the fixed window that
// contains now (windows are aligned on multiples of window since the zero
// time, so minute or hour windows start on the minute or hour), and returns
// the count so far in that window. It is one upsert, atomic across
// processes: the stored count restarts at 1 when the stored window is not
// the current one.
func (db *DB) CountAttempt(ctx context.Context, key string, now time.Time, window time.Duration) (int, error) {
	if window <= 0 {
		return 0, errors.New("store: count attempt: window must be positive")
	}
	var n int
	err := db.write(ctx, func(h handle) error {
		return h.QueryRowContext(ctx, `INSERT INTO attempts (name, window_start, hits) VALUES ($1, $2, 1)
		ON CONFLICT (name) DO UPDATE SET
			hits = CASE WHEN attempts.window_start = excluded.window_start THEN attempts.hits + 1 ELSE 1 END,
			window_start = excluded.window_start
		RETURNING hits`, key, now.Truncate(window).UnixMicro()).Scan(&n)
	})
	if err != nil {
		return 0, fail("count attempt", err)
	}
	return n, nil
}

// ResetAttempts forgets the attempts under key.
func (db *DB) ResetAttempts(ctx context.Context, key string) error {
	err := db.write(ctx, func(h handle) error {
		_, err := h.ExecContext(ctx, `DELETE FROM attempts WHERE name = $1`, key)
		return err
	})
	return fail("reset attempts", err)
}
