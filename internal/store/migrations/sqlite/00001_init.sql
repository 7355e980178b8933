-- Storekey's schema for SQLite. The PostgreSQL migration of the same number
-- creates the same tables, column for column.
--
-- Encodings (see value.go): every *_at column and window_start is INTEGER
-- microseconds since the Unix epoch in UTC, NULL for "never"; *_ttl columns
-- are INTEGER nanoseconds; scopes are space-joined; booleans are 0 or 1;
-- hashes are the raw SHA-256 bytes. Tables are STRICT so that a value of the
-- wrong type is refused instead of stored. Tables keyed by a hash are
-- WITHOUT ROWID: the lookup by hash is then one B-tree search, not two.

-- +goose Up
CREATE TABLE apps (
	id            TEXT    PRIMARY KEY,
	name          TEXT    NOT NULL,
	logo_url      TEXT    NOT NULL DEFAULT '',
	developer     TEXT    NOT NULL DEFAULT '',
	redirect_uris TEXT    NOT NULL DEFAULT '[]', -- JSON array of strings
	scopes        TEXT    NOT NULL DEFAULT '',
	public        INTEGER NOT NULL DEFAULT 0,
	secret_hash   BLOB,
	prev_secret   BLOB,
	prev_expires  INTEGER,
	profile       TEXT    NOT NULL DEFAULT '',
	access_ttl    INTEGER NOT NULL DEFAULT 0,
	refresh_ttl   INTEGER NOT NULL DEFAULT 0,
	no_refresh    INTEGER NOT NULL DEFAULT 0,
	partner_id    TEXT    NOT NULL DEFAULT '',
	webhook_url   TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL,
	updated_at    INTEGER
) STRICT;
CREATE INDEX apps_partner ON apps (partner_id, created_at);

CREATE TABLE users (
	id            TEXT    PRIMARY KEY,
	email         TEXT    NOT NULL,
	name          TEXT    NOT NULL DEFAULT '',
	password_hash TEXT    NOT NULL DEFAULT '',
	created_at    INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE stores (
	id         TEXT    PRIMARY KEY,
	name       TEXT    NOT NULL,
	slug       TEXT    NOT NULL UNIQUE,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE members (
	user_id  TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	role     TEXT NOT NULL,
	PRIMARY KEY (user_id, store_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX members_store ON members (store_id);

CREATE TABLE locations (
	id       TEXT PRIMARY KEY,
	store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	name     TEXT NOT NULL
) STRICT;
CREATE INDEX locations_store ON locations (store_id);

-- sessions.user_id names a merchant or a partner account, so it has no
-- foreign key.
CREATE TABLE sessions (
	hash       BLOB    PRIMARY KEY,
	user_id    TEXT    NOT NULL,
	kind       TEXT    NOT NULL,
	created_at INTEGER NOT NULL,
	expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

CREATE TABLE codes (
	hash             BLOB    PRIMARY KEY,
	app_id           TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id         TEXT    NOT NULL,
	user_id          TEXT    NOT NULL,
	redirect_uri     TEXT    NOT NULL DEFAULT '',
	scopes           TEXT    NOT NULL DEFAULT '',
	challenge        TEXT    NOT NULL DEFAULT '',
	challenge_method TEXT    NOT NULL DEFAULT '',
	location_id      TEXT    NOT NULL DEFAULT '',
	catalog_id       TEXT    NOT NULL DEFAULT '',
	customer_list_id TEXT    NOT NULL DEFAULT '',
	device_id        TEXT    NOT NULL DEFAULT '',
	created_at       INTEGER NOT NULL,
	expires_at       INTEGER NOT NULL,
	used_at          INTEGER,
	grant_id         TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX codes_app ON codes (app_id);

CREATE TABLE grants (
	id               TEXT    PRIMARY KEY,
	app_id           TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id         TEXT    NOT NULL,
	user_id          TEXT    NOT NULL,
	scopes           TEXT    NOT NULL DEFAULT '',
	location_id      TEXT    NOT NULL DEFAULT '',
	catalog_id       TEXT    NOT NULL DEFAULT '',
	customer_list_id TEXT    NOT NULL DEFAULT '',
	device_id        TEXT    NOT NULL DEFAULT '',
	generation       INTEGER NOT NULL,
	key_id           TEXT    NOT NULL DEFAULT '',
	rotated_at       INTEGER,
	successor_used   INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	last_used_at     INTEGER,
	revoked_at       INTEGER
) STRICT;
CREATE INDEX grants_app_store ON grants (app_id, store_id);
CREATE INDEX grants_store ON grants (store_id);

CREATE TABLE tokens (
	hash       BLOB    PRIMARY KEY,
	kind       TEXT    NOT NULL CHECK (kind IN ('access', 'refresh')),
	grant_id   TEXT    REFERENCES grants (id) ON DELETE CASCADE,
	app_id     TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id   TEXT,
	user_id    TEXT    NOT NULL DEFAULT '',
	scopes     TEXT    NOT NULL DEFAULT '',
	generation INTEGER NOT NULL DEFAULT 0,
	created_at INTEGER NOT NULL,
	expires_at INTEGER,
	revoked_at INTEGER
) STRICT, WITHOUT ROWID;
CREATE INDEX tokens_grant ON tokens (grant_id);
CREATE INDEX tokens_app ON tokens (app_id);

-- The revocation log outlives what it names, so it has no foreign keys.
-- AUTOINCREMENT: a seq is never reused, even after the newest rows are
-- deleted, so a follower's high-water mark stays valid.
CREATE TABLE revocations (
	seq        INTEGER PRIMARY KEY AUTOINCREMENT,
	grant_id   TEXT,
	app_id     TEXT,
	token_hash BLOB,
	at         INTEGER NOT NULL
) STRICT;

CREATE TABLE server_keys (
	id         TEXT    PRIMARY KEY,
	secret     BLOB    NOT NULL,
	created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE attempts (
	name         TEXT    PRIMARY KEY,
	window_start INTEGER NOT NULL,
	hits         INTEGER NOT NULL
) STRICT, WITHOUT ROWID;

-- The sample commerce API.
CREATE TABLE products (
	id          TEXT    PRIMARY KEY,
	store_id    TEXT    NOT NULL,
	name        TEXT    NOT NULL,
	sku         TEXT    NOT NULL DEFAULT '',
	price_cents INTEGER NOT NULL,
	currency    TEXT    NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX products_store ON products (store_id, created_at, id);

CREATE TABLE customers (
	id         TEXT    PRIMARY KEY,
	store_id   TEXT    NOT NULL,
	name       TEXT    NOT NULL,
	email      TEXT    NOT NULL DEFAULT '',
	created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX customers_store ON customers (store_id, created_at, id);

CREATE TABLE orders (
	id          TEXT    PRIMARY KEY,
	store_id    TEXT    NOT NULL,
	customer_id TEXT    NOT NULL DEFAULT '',
	status      TEXT    NOT NULL,
	total_cents INTEGER NOT NULL,
	currency    TEXT    NOT NULL,
	created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX orders_store ON orders (store_id, created_at, id);

-- +goose Down
DROP TABLE orders;
DROP TABLE customers;
DROP TABLE products;
DROP TABLE attempts;
DROP TABLE server_keys;
DROP TABLE revocations;
DROP TABLE tokens;
DROP TABLE grants;
DROP TABLE codes;
DROP TABLE sessions;
DROP TABLE locations;
DROP TABLE members;
DROP TABLE stores;
DROP TABLE users;
DROP TABLE apps;
