package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

// pruneCmd deletes expired rows once: what `serve` does every
// prune.interval, for a cron job or an operator.
func pruneCmd(e *env) *cobra.Command {
	var retention string
	c := &cobra.Command{
		Use:   "prune",
		Short: "Delete codes, tokens, sessions and throttle counters that expired more than the retention ago",
		Long: `Delete what expired more than the retention ago (prune.retention, default 24h): authorization
codes, access and refresh tokens, browser sessions, login throttle counters, and old revocation
log entries. A running server does it every prune.interval (default 10m); this command does it
once, in batches that leave room for the server's own writes.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withDB(cmd, e, func(ctx context.Context, cfg Config, db *store.DB) error {
				keep := cfg.Prune.Retention
				if retention != "" {
					if err := keep.set(retention); err != nil {
						return fmt.Errorf("--retention: %w", err)
					}
				}
				if keep <= 0 || keep < cfg.Login.Window {
					return fmt.Errorf("the retention must be at least the login window (%s)", cfg.Login.Window)
				}
				t := now()
				before := t.Add(-time.Duration(keep))
				n, err := db.PruneExpired(ctx, oauth.ExpiredBefore(t, time.Duration(keep)))
				if err != nil {
					return fmt.Errorf("%w (deleted %d rows before that)", err, n.Total())
				}
				if e.json {
					return printJSON(e.stdout, map[string]int64{
						"codes": n.Codes, "tokens": n.Tokens, "sessions": n.Sessions,
						"attempts": n.Attempts, "revocations": n.Revocations,
					})
				}
				_, err = fmt.Fprintf(e.stdout, "deleted %d codes, %d tokens, %d sessions, %d throttle counters, %d revocation log entries (expired before %s)\n",
					n.Codes, n.Tokens, n.Sessions, n.Attempts, n.Revocations, before.Format(time.RFC3339))
				return err
			})
		},
	}
	c.Flags().StringVar(&retention, "retention", "", "keep expired rows this long, such as 1h or 72h (default: the config's prune.retention, 24h unless set)")
	return c
}
