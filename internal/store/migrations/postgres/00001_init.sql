-- Storekey's schema for PostgreSQL. The SQLite migration of the same number
-- creates the same tables, column for column.
--
-- Encodings (see value.go): every *_at column and window_start is bigint
-- microseconds since the Unix epoch in UTC, NULL for "never" (read one with
-- to_timestamp(created_at / 1e6)); *_ttl columns are bigint nanoseconds;
-- scopes are space-joined; hashes are the raw SHA-256 bytes. One encoding
-- for both dialects lets every query be written once.
--
-- Columns that are sorted by or compared case-insensitively use the "C"
-- collation, under which ORDER BY compares bytes and lower() folds ASCII
-- only, exactly as SQLite does: both backends then list and match alike.

-- +goose Up
CREATE TABLE apps (
	id            text    PRIMARY KEY,
	name          text    NOT NULL,
	logo_url      text    NOT NULL DEFAULT '',
	developer     text    NOT NULL DEFAULT '',
	redirect_uris text    NOT NULL DEFAULT '[]', -- JSON array of strings
	scopes        text    NOT NULL DEFAULT '',
	public        boolean NOT NULL DEFAULT false,
	secret_hash   bytea,
	prev_secret   bytea,
	prev_expires  bigint,
	profile       text    NOT NULL DEFAULT '',
	access_ttl    bigint  NOT NULL DEFAULT 0,
	refresh_ttl   bigint  NOT NULL DEFAULT 0,
	no_refresh    boolean NOT NULL DEFAULT false,
	partner_id    text    NOT NULL DEFAULT '',
	webhook_url   text    NOT NULL DEFAULT '',
	created_at    bigint  NOT NULL,
	updated_at    bigint
);
CREATE INDEX apps_partner ON apps (partner_id, created_at);

CREATE TABLE users (
	id            text   PRIMARY KEY,
	email         text   COLLATE "C" NOT NULL,
	name          text   NOT NULL DEFAULT '',
	password_hash text   NOT NULL DEFAULT '',
	created_at    bigint NOT NULL
);
CREATE UNIQUE INDEX users_email ON users (lower(email));

CREATE TABLE stores (
	id         text   PRIMARY KEY,
	name       text   COLLATE "C" NOT NULL,
	slug       text   NOT NULL UNIQUE,
	created_at bigint NOT NULL
);

CREATE TABLE members (
	user_id  text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
	store_id text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	role     text NOT NULL,
	PRIMARY KEY (user_id, store_id)
);
CREATE INDEX members_store ON members (store_id);

CREATE TABLE locations (
	id       text PRIMARY KEY,
	store_id text NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	name     text COLLATE "C" NOT NULL
);
CREATE INDEX locations_store ON locations (store_id);

-- sessions.user_id names a merchant or a partner account, so it has no
-- foreign key.
CREATE TABLE sessions (
	hash       bytea  PRIMARY KEY,
	user_id    text   NOT NULL,
	kind       text   NOT NULL,
	created_at bigint NOT NULL,
	expires_at bigint NOT NULL
);

CREATE TABLE codes (
	hash             bytea  PRIMARY KEY,
	app_id           text   NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id         text   NOT NULL,
	user_id          text   NOT NULL,
	redirect_uri     text   NOT NULL DEFAULT '',
	scopes           text   NOT NULL DEFAULT '',
	challenge        text   NOT NULL DEFAULT '',
	challenge_method text   NOT NULL DEFAULT '',
	location_id      text   NOT NULL DEFAULT '',
	catalog_id       text   NOT NULL DEFAULT '',
	customer_list_id text   NOT NULL DEFAULT '',
	device_id        text   NOT NULL DEFAULT '',
	created_at       bigint NOT NULL,
	expires_at       bigint NOT NULL,
	used_at          bigint,
	grant_id         text
);
CREATE INDEX codes_app ON codes (app_id);

CREATE TABLE grants (
	id               text    PRIMARY KEY,
	app_id           text    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id         text    NOT NULL,
	user_id          text    NOT NULL,
	scopes           text    NOT NULL DEFAULT '',
	location_id      text    NOT NULL DEFAULT '',
	catalog_id       text    NOT NULL DEFAULT '',
	customer_list_id text    NOT NULL DEFAULT '',
	device_id        text    NOT NULL DEFAULT '',
	generation       bigint  NOT NULL,
	key_id           text    NOT NULL DEFAULT '',
	rotated_at       bigint,
	successor_used   boolean NOT NULL DEFAULT false,
	created_at       bigint  NOT NULL,
	last_used_at     bigint,
	revoked_at       bigint
);
CREATE INDEX grants_app_store ON grants (app_id, store_id);
CREATE INDEX grants_store ON grants (store_id);

CREATE TABLE tokens (
	hash       bytea  PRIMARY KEY,
	kind       text   NOT NULL CHECK (kind IN ('access', 'refresh')),
	grant_id   text   REFERENCES grants (id) ON DELETE CASCADE,
	app_id     text   NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
	store_id   text,
	user_id    text   NOT NULL DEFAULT '',
	scopes     text   NOT NULL DEFAULT '',
	generation bigint NOT NULL DEFAULT 0,
	created_at bigint NOT NULL,
	expires_at bigint,
	revoked_at bigint
);
CREATE INDEX tokens_grant ON tokens (grant_id);
CREATE INDEX tokens_app ON tokens (app_id);

-- The revocation log outlives what it names, so it has no foreign keys.
CREATE TABLE revocations (
	seq        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	grant_id   text,
	app_id     text,
	token_hash bytea,
	at         bigint NOT NULL
);

CREATE TABLE server_keys (
	id         text   PRIMARY KEY,
	secret     bytea  NOT NULL,
	created_at bigint NOT NULL
);

CREATE TABLE attempts (
	name         text   PRIMARY KEY,
	window_start bigint NOT NULL,
	hits         bigint NOT NULL
);

-- The sample commerce API.
CREATE TABLE products (
	id          text   PRIMARY KEY,
	store_id    text   NOT NULL,
	name        text   NOT NULL,
	sku         text   NOT NULL DEFAULT '',
	price_cents bigint NOT NULL,
	currency    text   NOT NULL,
	created_at  bigint NOT NULL
);
CREATE INDEX products_store ON products (store_id, created_at, id);

CREATE TABLE customers (
	id         text   PRIMARY KEY,
	store_id   text   NOT NULL,
	name       text   NOT NULL,
	email      text   NOT NULL DEFAULT '',
	created_at bigint NOT NULL
);
CREATE INDEX customers_store ON customers (store_id, created_at, id);

CREATE TABLE orders (
	id          text   PRIMARY KEY,
	store_id    text   NOT NULL,
	customer_id text   NOT NULL DEFAULT '',
	status      text   NOT NULL,
	total_cents bigint NOT NULL,
	currency    text   NOT NULL,
	created_at  bigint NOT NULL
);
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
