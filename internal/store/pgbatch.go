package store

import (
	"context"
	"time"
)

// stepBatcher is PostgreSQL's group commit for independent one-statement
// writes (app-level token inserts). Committed one by one, each write costs a
// round trip and a commit: at 16 concurrent token requests the server, the
// database and their wake-ups, not the CPU, set the pace. The batcher sends
// the writes waiting at the moment as one pgx batch, BEGIN, the statements
// and COMMIT, in one round trip and one commit. None waits for a batch to
// fill: a lone write runs at once, in autocommit, as before.
//
// The writes of a batch share its transaction, so a statement that fails
// would take the others down with it. Should that happen (it does not in
// practice: the statements insert rows under fresh random keys and report
// a missing parent by matching nothing), the batch is rolled back and each
// write runs again alone, so that each fails or succeeds on its own.
type stepBatcher struct {
	db *DB
	gatherer[*stepJob]
}

type stepJob struct {
	ctx  context.Context
	s    *step
	done chan error
}

// batchRunners is how many batches may be in flight at once: enough that a
// batch is being gathered while another waits for its commit, few enough
// to leave most of the pool to reads and transactions. (On two cores, two
// and three measured alike at 16 clients, six a tenth slower.)
const batchRunners = 3

// maxStepBatch bounds one batch, like maxBatch on SQLite.
const maxStepBatch = 64

func newStepBatcher(db *DB) *stepBatcher {
	b := &stepBatcher{db: db}
	b.start(batchRunners, maxStepBatch, b.commit)
	return b
}

// do runs s, alone or in a batch, and returns once it is committed (or has
// failed). s.n holds its row count afterwards.
func (b *stepBatcher) do(ctx context.Context, s *step) error {
	j := &stepJob{ctx: ctx, s: s, done: make(chan error, 1)}
	if err := b.submit(ctx, j); err != nil {
		return err
	}
	return <-j.done
}

// batchTimeout bounds a batch, retries included, as the server's write
// timeout bounds a request: a database that stops answering fails the
// batch's callers instead of holding them forever.
const batchTimeout = 30 * time.Second

func (b *stepBatcher) commit(batch []*stepJob) {
	// A caller that gave up before its batch started has nothing written.
	live := make([]*stepJob, 0, len(batch))
	for _, j := range batch {
		if err := j.ctx.Err(); err != nil {
			j.done <- err
			continue
		}
		live = append(live, j)
	}
	// Once the batch starts, its writes run to their end whatever their
	// callers' contexts do: each caller must learn whether it committed.
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	if len(live) > 1 {
		if err := b.commitBatch(ctx, live); err == nil {
			for _, j := range live {
				j.done <- nil
			}
			return
		}
		// Rolled back: each runs again on its own.
	}
	for _, j := range live {
		j.done <- j.s.run(ctx, b.db.wr)
	}
}

func (b *stepBatcher) commitBatch(ctx context.Context, batch []*stepJob) error {
	conn, err := b.db.w.Conn(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = conn.Close() }()
	steps := make([]*step, len(batch))
	for i, j := range batch {
		steps[i] = j.s
	}
	if err = sendSteps(ctx, conn, steps, true); err != nil {
		// PostgreSQL skipped what followed the failure, COMMIT included.
		// Should the rollback fail too, pgx discards the connection.
		_, _ = conn.ExecContext(ctx, "ROLLBACK")
	}
	return err
}
