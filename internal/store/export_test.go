package store

import "context"

// ExecInOneTx runs queries (without arguments) as the steps of one
// pipelined transaction that has nothing left to decide, so that on
// PostgreSQL its COMMIT travels in the same batch.
func (db *DB) ExecInOneTx(ctx context.Context, queries ...string) error {
	steps := make([]*step, len(queries))
	for i, q := range queries {
		steps[i] = &step{query: q}
	}
	return fail("exec in one transaction", db.pipelineTx(ctx, steps, nil))
}
