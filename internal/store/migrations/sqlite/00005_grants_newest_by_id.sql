-- Lists of an app's grants on a store are ordered by creation time, then
-- id: index both, so that reading the newest few never sorts them all.

-- +goose Up
DROP INDEX grants_app_store_created;
CREATE INDEX grants_app_store_created_id ON grants (app_id, store_id, created_at, id);

-- +goose Down
DROP INDEX grants_app_store_created_id;
CREATE INDEX grants_app_store_created ON grants (app_id, store_id, created_at);
