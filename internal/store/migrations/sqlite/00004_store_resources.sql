-- Catalogs and customer lists: the resources within a store that some
-- platforms' consent lets the merchant pick (HubRise binds a connection to
-- one location, one catalog and one customer list).

-- +goose Up
CREATE TABLE catalogs (
	id       TEXT NOT NULL PRIMARY KEY,
	store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	name     TEXT NOT NULL
) STRICT;
CREATE INDEX catalogs_store ON catalogs (store_id);

CREATE TABLE customer_lists (
	id       TEXT NOT NULL PRIMARY KEY,
	store_id TEXT NOT NULL REFERENCES stores (id) ON DELETE CASCADE,
	name     TEXT NOT NULL
) STRICT;
CREATE INDEX customer_lists_store ON customer_lists (store_id);

-- +goose Down
DROP TABLE customer_lists;
DROP TABLE catalogs;
