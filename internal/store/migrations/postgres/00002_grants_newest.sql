-- Consent checks and the merchant's pages read an app's newest grants on a
-- store: index them in that order.

-- +goose Up
DROP INDEX grants_app_store;
CREATE INDEX grants_app_store_created ON grants (app_id, store_id, created_at);

-- +goose Down
DROP INDEX grants_app_store_created;
CREATE INDEX grants_app_store ON grants (app_id, store_id);
