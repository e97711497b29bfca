-- Migration: storage account access keys (0006 in the plan of this release).
--
-- A key is keyed by its account's ARM id, folded as migration 2 folds ARM ids (ASCII lower
-- case, computed in Rust), and its name folded the same way. The account's id leads the
-- key, so reading an account's keys and the cascade of the account's (or its group's)
-- `Deletion`, "at or below" the folded id as in migration 2, are index range scans.
--
-- * `value` is the key's base64 text (64 random bytes), the shared secret of Shared Key and
--   SAS signatures, sealed under the store key (`sealed:1:…`, see `seal.rs`); the data
--   plane gets it opened through the store trait to compute HMACs.
-- * A regeneration replaces the row of that key name (upsert).

CREATE TABLE storage_account_keys (
    seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    account_id_folded TEXT NOT NULL,
    key_name TEXT NOT NULL,
    key_name_folded TEXT NOT NULL,
    value TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (account_id_folded, key_name_folded)
) STRICT;
