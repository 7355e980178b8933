package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// step is one statement of a pipelined transaction: an Exec, or, when dest
// is set, a query of at most one row scanned into dest.
type step struct {
	query string
	args  []any
	dest  []any
	// orFail, when set, is the error the transaction fails with (and rolls
	// back) if the statement affects or finds no row.
	orFail error
	// guarded says that every later step checks in SQL that this one
	// matched, so that when it matches nothing the transaction has nothing
	// to roll back: its orFail then needs no round trip before COMMIT.
	guarded bool

	n int64 // after the run: rows affected, or 1 if the query found its row, else 0
}

// pipelineTx runs steps in order in one write transaction, then (unless it
// is nil) then, in the same transaction, and commits if nothing failed.
//
// The steps cannot use each other's results in Go: a statement that must
// not take effect when an earlier one matched nothing says so in SQL, or
// the earlier one's orFail rolls the whole transaction back. That is what
// lets PostgreSQL receive BEGIN and every step in one round trip (a pgx
// batch, which its extended protocol runs in order) and COMMIT in a second,
// where a transaction of one statement per round trip would take as many
// round trips as statements plus two: on the hot path of the code exchange
// that is two round trips instead of six, and as many fewer wake-ups of
// the server and the database. When no step has an orFail that is not
// guarded, and there is no then, COMMIT goes in the same batch: one round
// trip (redeemSteps). On SQLite, in process, the steps simply run one
// after another within db.tx.
func (db *DB) pipelineTx(ctx context.Context, steps []*step, then func(tx handle) error) error {
	if db.dialect != Postgres {
		return db.tx(ctx, func(tx handle) error {
			for _, s := range steps {
				if err := s.run(ctx, tx); err != nil {
					return err
				}
				if s.n == 0 && s.orFail != nil {
					return s.orFail
				}
			}
			if then == nil {
				return nil
			}
			return then(tx)
		})
	}
	// With nothing left to decide (no step that can fail the transaction
	// by matching nothing, nothing to run after), COMMIT goes in the same
	// round trip: should a statement fail, PostgreSQL skips what follows
	// it in the batch, COMMIT included, and the transaction is rolled back
	// below.
	final := then == nil
	for _, s := range steps {
		if s.orFail != nil && !s.guarded {
			final = false
		}
	}
	conn, err := db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	err = sendSteps(ctx, conn, steps, final)
	var missed error // the first orFail of a step that matched nothing
	for _, s := range steps {
		if missed == nil && s.n == 0 && s.orFail != nil {
			missed = s.orFail
		}
	}
	if err == nil && final {
		// COMMIT ran in the batch. Had a (guarded) step matched nothing,
		// the steps after it wrote nothing, and neither did it.
		return missed
	}
	if err == nil {
		err = missed
	}
	if err == nil && then != nil {
		err = then(handle{pool: db.w, conn: conn})
	}
	if err == nil {
		if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
			return nil
		}
	}
	// Whatever failed, end the transaction here. Should the rollback fail
	// too, the connection is not reused: pgx's ResetSession discards a
	// connection still inside a transaction when it goes back to the pool.
	_, _ = conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK")
	return err
}

// sendSteps sends BEGIN and steps on conn in one pgx batch, and COMMIT too
// if final, then reads their results (readBatch). Unless COMMIT ran, the
// transaction is left open, or failed, for the caller to end.
func sendSteps(ctx context.Context, conn *sql.Conn, steps []*step, final bool) error {
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("pipeline: unexpected driver connection %T", dc)
		}
		b := &pgx.Batch{}
		b.Queue("BEGIN")
		for _, s := range steps {
			b.Queue(s.query, s.args...)
		}
		if final {
			b.Queue("COMMIT")
		}
		return readBatch(c.Conn().SendBatch(ctx, b), steps, final)
	})
}

// readBatch reads the results of BEGIN, the steps and, if final, COMMIT,
// in order, recording each step's row count, and closes the batch.
func readBatch(br pgx.BatchResults, steps []*step, final bool) error {
	_, err := br.Exec()
	for _, s := range steps {
		if err != nil {
			break
		}
		if s.dest != nil {
			err = br.QueryRow().Scan(s.dest...)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				s.n, err = 0, nil
			case err == nil:
				s.n = 1
			}
			continue
		}
		tag, e := br.Exec()
		s.n, err = tag.RowsAffected(), e
	}
	if final && err == nil {
		_, err = br.Exec()
	}
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	return err
}

// run runs the step on h (SQLite's path).
func (s *step) run(ctx context.Context, h handle) error {
	if s.dest != nil {
		err := h.QueryRowContext(ctx, s.query, s.args...).Scan(s.dest...)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			s.n = 0
			return nil
		case err != nil:
			return err
		}
		s.n = 1
		return nil
	}
	res, err := h.ExecContext(ctx, s.query, s.args...)
	if err != nil {
		return err
	}
	s.n, err = res.RowsAffected()
	return err
}
