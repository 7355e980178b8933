// Package store is the database/sql implementation of oauth.Storage and
// oauth.SampleData, for SQLite (modernc.org/sqlite, pure Go) and PostgreSQL
// (pgx).
//
// Every query is written once, with $N placeholders that both drivers
// accept; the dialects differ only in the migrations (migrations/sqlite and
// migrations/postgres, applied by goose) and in one lock statement that
// keeps PostgreSQL's revocation log in commit order. Values are encoded
// alike on both (value.go): times as microseconds since the epoch, scopes as
// space-joined text.
//
// It also implements oauth.PartnerStorage, oauth.AuditLog and oauth.Outbox:
// partner accounts, logos, the append-only audit trail, and the webhook
// outbox, whose rows RevokeGrant, RevokeGrants and DeleteApp write in the
// same transaction as the change they announce. storetest.RunPortal is
// their suite.
//
// The rules the core relies on, single use of a code and single rotation of
// a grant's generation, are conditional updates that only one transaction
// can win; every other gets oauth.ErrConflict and writes nothing. The
// storetest package is the behaviour suite every backend passes; dbtest
// gives other packages' tests a fresh database of each kind.
//
// It imports oauth and the drivers; nothing but cmd and tests import it.
package store
