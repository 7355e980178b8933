-- PostgreSQL's migration 00006 drops the foreign keys from codes, grants and
-- tokens to apps, whose checks lock the app's row in every inserting
-- transaction. SQLite's checks take no row locks (its one writer excludes
-- the others anyway), so its tables keep them; this version exists so that
-- both dialects stand at the same schema version.

-- +goose Up
SELECT 1;

-- +goose Down
SELECT 1;
