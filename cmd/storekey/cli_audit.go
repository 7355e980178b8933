package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/storekey/storekey/internal/oauth"
	"github.com/storekey/storekey/internal/store"
)

// auditJSON is an audit record as the export prints it.
type auditJSON struct {
	Seq       int64  `json:"seq"`
	At        string `json:"at"`
	Action    string `json:"action"`
	ActorKind string `json:"actor_kind,omitempty"`
	ActorID   string `json:"actor_id,omitempty"`
	PartnerID string `json:"partner_id,omitempty"`
	AppID     string `json:"app_id,omitempty"`
	StoreID   string `json:"store_id,omitempty"`
	UserID    string `json:"user_id,omitempty"`
	GrantID   string `json:"grant_id,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
	Detail    string `json:"detail,omitempty"`
}

func toAuditJSON(r oauth.AuditRecord) auditJSON {
	return auditJSON{
		Seq: r.Seq, At: r.At.Format(time.RFC3339Nano), Action: r.Action, ActorKind: r.ActorKind, ActorID: r.ActorID,
		PartnerID: r.PartnerID, AppID: r.AppID, StoreID: r.StoreID, UserID: r.UserID, GrantID: r.GrantID,
		IP: r.IP, UserAgent: r.UserAgent, Detail: r.Detail,
	}
}

// parseSince reads --since: a duration back from now ("24h", "7d" for
// days), an RFC 3339 time, or a date.
func parseSince(s string, now time.Time) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err == nil && days >= 0 && fmt.Sprint(days) == n {
			return now.AddDate(0, 0, -days), nil
		}
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("--since %q: use a duration (24h, 7d), an RFC 3339 time or a date (2026-01-31)", s)
}

func auditCmd(e *env) *cobra.Command {
	var since, format, storeID, partnerID, appID string
	c := &cobra.Command{
		Use:   "audit",
		Short: "Export the audit trail, oldest first (--since 24h --format json)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, err := parseSince(since, now())
			if err != nil {
				return err
			}
			if e.json {
				format = "json"
			}
			switch format {
			case "json", "jsonl", "text":
			default:
				return fmt.Errorf("--format %q: use json, jsonl or text", format)
			}
			return withDB(cmd, e, func(ctx context.Context, _ Config, db *store.DB) error {
				f := oauth.AuditFilter{Since: from, PartnerID: partnerID, AppID: appID, Oldest: true}
				if storeID != "" {
					f.StoreIDs = []string{storeID}
				}
				recs, err := db.AuditRecords(ctx, f)
				if err != nil {
					return err
				}
				w := bufio.NewWriter(e.stdout)
				switch format {
				case "json":
					out := make([]auditJSON, len(recs))
					for i, r := range recs {
						out[i] = toAuditJSON(r)
					}
					if err := printJSON(w, out); err != nil {
						return err
					}
				case "jsonl":
					enc := json.NewEncoder(w)
					for _, r := range recs {
						if err := enc.Encode(toAuditJSON(r)); err != nil {
							return err
						}
					}
				default:
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "SEQ\tAT\tACTION\tACTOR\tAPP\tSTORE\tDETAIL")
					for _, r := range recs {
						actor := strings.Trim(r.ActorKind+":"+r.ActorID, ":")
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", r.Seq, r.At.Format(time.RFC3339), r.Action, actor, r.AppID, r.StoreID, r.Detail)
					}
					if err := tw.Flush(); err != nil {
						return err
					}
				}
				return w.Flush()
			})
		},
	}
	f := c.Flags()
	f.StringVar(&since, "since", "", "only records from then on: a duration back from now (24h, 7d), an RFC 3339 time or a date")
	f.StringVar(&format, "format", "text", "json (an array), jsonl (one record per line) or text")
	f.StringVar(&storeID, "store", "", "only records of this store id")
	f.StringVar(&partnerID, "partner", "", "only records of this partner id")
	f.StringVar(&appID, "app", "", "only records of this app id")
	return c
}
