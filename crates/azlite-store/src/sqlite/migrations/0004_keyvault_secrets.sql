-- Migration 4: Key Vault secrets.
--
-- A secret is keyed by its vault's ARM id, folded as migration 2 folds ARM ids (ASCII lower
-- case, computed in Rust), and its name folded the same way (Key Vault names are ASCII
-- letters, digits and hyphens, compared case-insensitively). The vault's id leads both
-- unique keys, so the cascade of a vault's (or its group's) `Deletion`, "at or below" the
-- folded id as in migration 2, is an index range scan.
--
-- * `deleted_at` / `scheduled_purge_at` are NULL while the secret is active; a deleted
--   (soft-deleted) secret keeps its row and versions until it is recovered or purged.
-- * `sealed_value` is the value encrypted by the Key Vault service (AES-256-GCM, key outside
--   the database); the store never sees the plaintext.
-- * The newest version of a secret is the one with the highest `seq`.

CREATE TABLE keyvault_secrets (
    seq INTEGER PRIMARY KEY,
    vault_id TEXT NOT NULL,
    vault_id_folded TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    deleted_at INTEGER,
    scheduled_purge_at INTEGER,
    UNIQUE (vault_id_folded, name_folded)
) STRICT;

CREATE TABLE keyvault_secret_versions (
    seq INTEGER PRIMARY KEY,
    vault_id_folded TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    version TEXT NOT NULL,
    sealed_value BLOB NOT NULL,
    content_type TEXT,
    tags TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    not_before INTEGER,
    expires INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (vault_id_folded, name_folded, version)
) STRICT;
CREATE INDEX keyvault_secret_versions_by_age
    ON keyvault_secret_versions (vault_id_folded, name_folded, seq);
