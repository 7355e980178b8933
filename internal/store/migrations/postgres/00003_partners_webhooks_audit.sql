-- Partner accounts, app logos, the webhook outbox and signing secrets, and
-- the audit trail. The SQLite migration of the same number creates the same
-- tables, column for column. Encodings as in 00001 (see value.go).

-- +goose Up
CREATE TABLE partners (
	id            text   PRIMARY KEY,
	email         text   COLLATE "C" NOT NULL,
	name          text   NOT NULL DEFAULT '',
	company       text   NOT NULL DEFAULT '',
	password_hash text   NOT NULL,
	created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX partners_email ON partners (lower(email));

-- Logos are small (the web layer resizes them to 256 px at most).
CREATE TABLE app_logos (
	app_id       text   PRIMARY KEY REFERENCES apps (id) ON DELETE CASCADE,
	content_type text   NOT NULL,
	data         bytea  NOT NULL,
	width        bigint NOT NULL,
	height       bigint NOT NULL,
	updated_at   bigint NOT NULL
);

-- The sealed client secret that signs an app's webhooks. No foreign key:
-- the deliveries that an app's deletion causes still need it; the worker
-- prunes it once none is pending.
CREATE TABLE webhook_secrets (
	app_id       text   PRIMARY KEY,
	key_id       text   NOT NULL,
	sealed       bytea  NOT NULL,
	prev_key_id  text   NOT NULL DEFAULT '',
	prev_sealed  bytea,
	prev_expires bigint,
	updated_at   bigint NOT NULL
);

-- The outbox: written in the same transaction as the change that causes a
-- delivery; workers claim due rows with FOR UPDATE SKIP LOCKED and a lease
-- (lease_until, leased_by) and record each attempt's outcome. No foreign
-- keys: a deleted app's deliveries live on.
CREATE TABLE webhook_outbox (
	id              text   PRIMARY KEY,
	app_id          text   NOT NULL,
	partner_id      text   NOT NULL DEFAULT '',
	store_id        text   NOT NULL DEFAULT '',
	event           text   NOT NULL,
	url             text   NOT NULL,
	payload         bytea  NOT NULL,
	status          text   NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
	attempts        bigint NOT NULL DEFAULT 0,
	created_at      bigint NOT NULL,
	next_attempt_at bigint,
	lease_until     bigint,
	leased_by       text   NOT NULL DEFAULT '',
	last_attempt_at bigint,
	last_status     bigint NOT NULL DEFAULT 0,
	last_error      text   NOT NULL DEFAULT '',
	delivered_at    bigint
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX webhook_outbox_app ON webhook_outbox (app_id, created_at);

-- The audit trail: append-only, enforced by a trigger.
CREATE TABLE audit_log (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at         bigint NOT NULL,
	action     text   NOT NULL,
	actor_kind text   NOT NULL DEFAULT '',
	actor_id   text   NOT NULL DEFAULT '',
	partner_id text   NOT NULL DEFAULT '',
	app_id     text   NOT NULL DEFAULT '',
	store_id   text   NOT NULL DEFAULT '',
	user_id    text   NOT NULL DEFAULT '',
	grant_id   text   NOT NULL DEFAULT '',
	ip         text   NOT NULL DEFAULT '',
	user_agent text   NOT NULL DEFAULT '',
	detail     text   NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_store ON audit_log (store_id, seq) WHERE store_id <> '';
CREATE INDEX audit_log_user ON audit_log (user_id, seq) WHERE user_id <> '';
CREATE INDEX audit_log_partner ON audit_log (partner_id, seq) WHERE partner_id <> '';

-- +goose StatementBegin
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only';
END;
$$;
-- +goose StatementEnd
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

-- +goose Down
DROP TABLE audit_log;
DROP FUNCTION audit_log_append_only();
DROP TABLE webhook_outbox;
DROP TABLE webhook_secrets;
DROP TABLE app_logos;
DROP TABLE partners;
