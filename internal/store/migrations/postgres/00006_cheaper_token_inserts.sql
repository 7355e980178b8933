-- Codes, grants and tokens name their app without a foreign key.
--
-- PostgreSQL checks a foreign key by locking the referenced row (FOR KEY
-- SHARE) in every inserting transaction. An app's tokens are inserted by
-- many transactions at once, so they all lock the one app row, and shared
-- locks held by several transactions turn into multixacts: a fifth of the
-- token endpoint's throughput went there. Integrity is kept without it:
-- the inserts check that the app exists (a plain read), DeleteApp deletes
-- the app's codes, grants and tokens itself, and token reads join the app,
-- so that a row left behind by an insert racing the deletion is never
-- found. Tokens keep their foreign key to their grant, which no two flows
-- share.

-- +goose Up
ALTER TABLE codes DROP CONSTRAINT codes_app_id_fkey;
ALTER TABLE grants DROP CONSTRAINT grants_app_id_fkey;
ALTER TABLE tokens DROP CONSTRAINT tokens_app_id_fkey;

-- +goose Down
DELETE FROM tokens WHERE app_id NOT IN (SELECT id FROM apps);
DELETE FROM grants WHERE app_id NOT IN (SELECT id FROM apps);
DELETE FROM codes WHERE app_id NOT IN (SELECT id FROM apps);
ALTER TABLE codes ADD CONSTRAINT codes_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id) ON DELETE CASCADE;
ALTER TABLE grants ADD CONSTRAINT grants_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id) ON DELETE CASCADE;
ALTER TABLE tokens ADD CONSTRAINT tokens_app_id_fkey FOREIGN KEY (app_id) REFERENCES apps (id) ON DELETE CASCADE;
