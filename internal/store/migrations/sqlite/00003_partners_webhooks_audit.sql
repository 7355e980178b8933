-- Partner accounts, app logos, the webhook outbox and signing secrets, and
-- the audit trail. The PostgreSQL migration of the same number creates the
-- same tables, column for column. Encodings as in 00001 (see value.go).

-- +goose Up
CREATE TABLE partners (
	id            TEXT    PRIMARY KEY,
	email         TEXT    NOT NULL,
	name          TEXT    NOT NULL DEFAULT '',
	company       TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL,
	created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX partners_email ON partners (lower(email));

-- Logos are small (the web layer resizes them to 256 px at most).
CREATE TABLE app_logos (
	app_id       TEXT    PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	content_type TEXT    NOT NULL,
	data         BLOB    NOT NULL,
	width        INTEGER NOT NULL,
	height       INTEGER NOT NULL,
	updated_at   INTEGER NOT NULL
) STRICT;

-- The sealed client secret that signs an app's webhooks. No foreign key:
-- the deliveries that an app's deletion causes still need it; the worker
-- prunes it once none is pending.
CREATE TABLE webhook_secrets (
	app_id       TEXT    PRIMARY KEY,
	key_id       TEXT    NOT NULL,
	sealed       BLOB    NOT NULL,
	prev_key_id  TEXT    NOT NULL DEFAULT '',
	prev_sealed  BLOB,
	prev_expires INTEGER,
	updated_at   INTEGER NOT NULL
) STRICT;

-- The outbox: written in the same transaction as the change that causes a
-- delivery; the worker leases due rows (lease_until, leased_by) and records
-- each attempt's outcome. No foreign keys: a deleted app's deliveries live on.
CREATE TABLE webhook_outbox (
	id              TEXT    PRIMARY KEY,
	app_id          TEXT    NOT NULL,
	partner_id      TEXT    NOT NULL DEFAULT '',
	store_id        TEXT    NOT NULL DEFAULT '',
	event           TEXT    NOT NULL,
	url             TEXT    NOT NULL,
	payload         BLOB    NOT NULL,
	status          TEXT    NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts        INTEGER NOT NULL DEFAULT 0,
	created_at      INTEGER NOT NULL,
	next_attempt_at INTEGER,
	lease_until     INTEGER,
	leased_by       TEXT    NOT NULL DEFAULT '',
	last_attempt_at INTEGER,
	last_status     INTEGER NOT NULL DEFAULT 0,
	last_error      TEXT    NOT NULL DEFAULT '',
	delivered_at    INTEGER
) STRICT;
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_app ON webhook_outbox (app_id, created_at);

-- The audit trail: append-only, enforced by triggers.
CREATE TABLE audit_log (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	at         INTEGER NOT NULL,
	action     TEXT    NOT NULL,
	actor_kind TEXT    NOT NULL DEFAULT '',
	actor_id   TEXT    NOT NULL DEFAULT '',
	partner_id TEXT    NOT NULL DEFAULT '',
	app_id     TEXT    NOT NULL DEFAULT '',
	store_id   TEXT    NOT NULL DEFAULT '',
	user_id    TEXT    NOT NULL DEFAULT '',
	grant_id   TEXT    NOT NULL DEFAULT '',
	ip         TEXT    NOT NULL DEFAULT '',
	user_agent TEXT    NOT NULL DEFAULT '',
	detail     TEXT    NOT NULL DEFAULT ''
) STRICT;
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_store ON audit_log (store_id, seq) WHERE store_id <> '';
CREATE INDEX audit_log_user ON audit_log (user_id, seq) WHERE user_id <> '';
CREATE INDEX audit_log_partner ON audit_log (partner_id, seq) WHERE partner_id <> '';

-- +goose StatementBegin
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd
-- +goose StatementBegin
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
	SELECT RAISE(ABORT, 'audit_log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TABLE audit_log;
DROP TABLE webhook_outbox;
DROP TABLE webhook_secrets;
DROP TABLE app_logos;
DROP TABLE partners;
