package store

import (
	"context"
	"time"

	"github.com/storekey/storekey/internal/oauth"
)

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

// ErrNotQuick is redeemSteps' refusal.
var ErrNotQuick = errNotQuick

// RedeemQuick runs RedeemCode's one-round-trip path alone, without the
// general path it falls back to.
func (db *DB) RedeemQuick(ctx context.Context, c *oauth.Code, now time.Time, g *oauth.Grant, tokens []*oauth.Token) error {
	return db.pipelineTx(ctx, redeemSteps(c, now, g, tokens), nil)
}

// CreateTokensInOneBatch runs the inserts of tokens as one batch of
// PostgreSQL's step batcher, whatever else is waiting, and returns what
// CreateToken would have answered for each. The insert of tokens[i] is
// made under ctxs[i], if given, else context.Background().
func (db *DB) CreateTokensInOneBatch(tokens []*oauth.Token, ctxs ...context.Context) []error {
	jobs := make([]*stepJob, len(tokens))
	for i, t := range tokens {
		ctx := context.Background()
		if i < len(ctxs) && ctxs[i] != nil {
			ctx = ctxs[i]
		}
		jobs[i] = &stepJob{ctx: ctx, s: tokenStep(t), done: make(chan error, 1)}
	}
	db.steps.commit(jobs)
	errs := make([]error, len(tokens))
	for i, j := range jobs {
		errs[i] = tokenCreated(tokens[i], j.s, <-j.done)
	}
	return errs
}
