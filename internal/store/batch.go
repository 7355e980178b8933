package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
)

// committer is SQLite's group commit. SQLite has one writer at a time and,
// with synchronous=FULL, every commit waits for an fsync: committed one by
// one, concurrent writes queue behind each other's fsyncs. The committer
// runs every write waiting at the moment in one transaction, each inside a
// savepoint of its own (a single statement needs none: SQLite undoes a
// failed statement by itself), and commits them with one fsync. A write
// that fails is rolled back to its savepoint and fails alone; a failed
// commit fails them all; none waits for a batch to fill: a lone write
// commits at once.
type committer struct {
	db *DB
	gatherer[*job]
}

type job struct {
	ctx context.Context
	fn  func(h handle) error
	// single: fn runs one statement. SQLite undoes a statement that fails
	// by itself, keeping the transaction, so such a job needs no savepoint.
	single bool
	done   chan error
}

// maxBatch bounds a group commit: enough to amortise the fsync, small
// enough that one commit stays short.
const maxBatch = 128

var errClosed = errors.New("store: database is closed")

func newCommitter(db *DB) *committer {
	c := &committer{db: db}
	c.start(1, maxBatch, c.commit)
	return c
}

// do runs fn in a write transaction shared with whatever other writes are
// waiting, and returns its error once the transaction is durably committed.
// single says that fn runs one statement.
func (c *committer) do(ctx context.Context, fn func(h handle) error, single bool) error {
	j := &job{ctx: ctx, fn: fn, single: single, done: make(chan error, 1)}
	if err := c.submit(ctx, j); err != nil {
		return err
	}
	// Once taken, the job runs to its end whatever ctx does: the caller
	// must learn whether it was committed.
	return <-j.done
}

// gatherer hands the jobs submitted to it to runners that commit them in
// batches: every job waiting at the moment, up to a limit. None waits for
// a batch to fill: a lone job is committed at once. SQLite's group commit
// (committer) and PostgreSQL's step batcher (stepBatcher) are gatherers.
type gatherer[J any] struct {
	jobs chan J
	quit chan struct{}
	stop sync.Once
	wg   sync.WaitGroup
}

// start starts runners goroutines, each calling commit with batches of at
// most limit jobs.
func (g *gatherer[J]) start(runners, limit int, commit func([]J)) {
	g.jobs, g.quit = make(chan J), make(chan struct{})
	for range runners {
		g.wg.Go(func() { g.run(limit, commit) })
	}
}

// run is one runner. The slice commit receives is reused for the next batch.
func (g *gatherer[J]) run(limit int, commit func([]J)) {
	batch := make([]J, 0, limit)
	for {
		select {
		case j := <-g.jobs:
			batch = append(batch[:0], j)
		case <-g.quit:
			return
		}
	fill:
		for len(batch) < limit {
			select {
			case j := <-g.jobs:
				batch = append(batch, j)
			default:
				break fill
			}
		}
		commit(batch)
	}
}

// submit hands j to a runner, unless ctx ends or the gatherer closes first.
func (g *gatherer[J]) submit(ctx context.Context, j J) error {
	select {
	case g.jobs <- j:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-g.quit:
		return errClosed
	}
}

// close stops the runners once their batches are committed. Jobs submitted
// afterwards fail with errClosed.
func (g *gatherer[J]) close() {
	g.stop.Do(func() { close(g.quit) })
	g.wg.Wait()
}

func (c *committer) commit(batch []*job) {
	errs := make([]error, len(batch))
	err := c.db.runTx(context.Background(), func(tx handle) error {
		// A job's statements run to their end whatever its caller's context
		// does: SQLite answers an interrupted write inside a transaction by
		// rolling the whole transaction back, every other job's writes with
		// it.
		tx.detached = true
		if len(batch) == 1 {
			errs[0] = batch[0].fn(tx)
			return errs[0]
		}
		for i, j := range batch {
			if errs[i] = j.ctx.Err(); errs[i] != nil {
				continue // given up on before it ran: nothing to write
			}
			if j.single {
				errs[i] = j.fn(tx)
				continue
			}
			if _, err := tx.tx.ExecContext(context.Background(), "SAVEPOINT job"); err != nil {
				return fmt.Errorf("savepoint: %w", err)
			}
			if errs[i] = j.fn(tx); errs[i] != nil {
				if _, err := tx.tx.ExecContext(context.Background(), "ROLLBACK TO job"); err != nil {
					return fmt.Errorf("rollback to savepoint: %w", err)
				}
			}
			if _, err := tx.tx.ExecContext(context.Background(), "RELEASE job"); err != nil {
				return fmt.Errorf("release savepoint: %w", err)
			}
		}
		return nil
	})
	for i, j := range batch {
		switch {
		case errs[i] != nil:
			j.done <- errs[i]
		case err != nil:
			j.done <- err
		default:
			j.done <- nil
		}
	}
}
