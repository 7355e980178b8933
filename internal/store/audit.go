package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/storekey/storekey/internal/oauth"
)

const auditColumns = `seq, at, action, actor_kind, actor_id, partner_id, app_id, store_id, user_id,
	grant_id, ip, user_agent, detail`

// AppendAudit appends records in order, in one transaction. The table is
// append-only: triggers refuse updates and deletes on both dialects.
func (db *DB) AppendAudit(ctx context.Context, recs []oauth.AuditRecord) error {
	if len(recs) == 0 {
		return nil
	}
	var steps []*step
	for len(recs) > 0 {
		n := auditChunk(len(recs))
		args := make([]any, 0, n*auditFields)
		for _, r := range recs[:n] {
			args = append(args, r.At.UnixMicro(), r.Action, r.ActorKind, r.ActorID, r.PartnerID, r.AppID,
				r.StoreID, r.UserID, r.GrantID, clip(r.IP, 64), clip(r.UserAgent, 256), clip(r.Detail, 512))
		}
		steps = append(steps, &step{query: auditInserts[n], args: args})
		recs = recs[n:]
	}
	// On PostgreSQL: BEGIN, the inserts and COMMIT in one round trip.
	return fail("append audit records", db.pipelineTx(ctx, steps, nil))
}

// AppendAudit writes a batch in multi-row statements of these sizes, the
// largest that fits first: few statements per batch, and few statement
// texts for the prepared-statement caches.
var auditChunks = []int{64, 16, 4, 1}

const auditFields = 12

// auditInserts holds the INSERT statement for each chunk size.
var auditInserts = func() map[int]string {
	m := map[int]string{}
	for _, n := range auditChunks {
		var b strings.Builder
		b.WriteString(`INSERT INTO audit_log (at, action, actor_kind, actor_id, partner_id,
			app_id, store_id, user_id, grant_id, ip, user_agent, detail) VALUES `)
		for i := range n {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteByte('(')
			for j := range auditFields {
				if j > 0 {
					b.WriteString(", ")
				}
				fmt.Fprintf(&b, "$%d", i*auditFields+j+1)
			}
			b.WriteByte(')')
		}
		m[n] = b.String()
	}
	return m
}()

func auditChunk(left int) int {
	for _, n := range auditChunks {
		if left >= n {
			return n
		}
	}
	return 1
}

// AuditRecords returns the records matching f, newest first (oldest first
// when f.Oldest is set).
func (db *DB) AuditRecords(ctx context.Context, f oauth.AuditFilter) ([]oauth.AuditRecord, error) {
	var (
		where []string
		args  []any
	)
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= "+arg(f.Since.UnixMicro()))
	}
	if f.Before > 0 {
		where = append(where, "seq < "+arg(f.Before))
	}
	if f.PartnerID != "" {
		where = append(where, "partner_id = "+arg(f.PartnerID))
	}
	if f.AppID != "" {
		where = append(where, "app_id = "+arg(f.AppID))
	}
	// A merchant sees their stores' records and their own.
	var anyOf []string
	for _, id := range f.StoreIDs {
		anyOf = append(anyOf, "store_id = "+arg(id))
	}
	if f.UserID != "" {
		anyOf = append(anyOf, "user_id = "+arg(f.UserID))
	}
	if len(anyOf) > 0 {
		where = append(where, "("+strings.Join(anyOf, " OR ")+")")
	}
	q := `SELECT ` + auditColumns + ` FROM audit_log`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, " AND ")
	}
	if f.Oldest {
		q += ` ORDER BY seq`
	} else {
		q += ` ORDER BY seq DESC`
	}
	if f.Limit > 0 {
		q += " LIMIT " + arg(f.Limit) //nolint:gosec // G202: only $N placeholders are put in the text; values are arguments
	}
	// Dynamic text: not worth a prepared statement per combination.
	rows, err := db.r.QueryContext(ctx, q, args...)
	recs, err := collect(rows, err, func(r *sql.Rows, v *oauth.AuditRecord) error {
		return r.Scan(&v.Seq, at(&v.At), &v.Action, &v.ActorKind, &v.ActorID, &v.PartnerID, &v.AppID,
			&v.StoreID, &v.UserID, &v.GrantID, &v.IP, &v.UserAgent, &v.Detail)
	})
	if err != nil {
		return nil, fail("audit records", err)
	}
	return recs, nil
}

// clip bounds a free-text value, cutting on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && n < len(s) && s[n]&0xc0 == 0x80 {
		n--
	}
	return s[:n]
}
