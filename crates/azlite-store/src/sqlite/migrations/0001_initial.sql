-- Migration 1: the directory, signing keys and settings.
--
-- Conventions:
-- * GUIDs are lower-case hyphenated text, times are Unix seconds, bytes are BLOBs.
-- * `seq INTEGER PRIMARY KEY` is the insertion order: the tie-breaker of "oldest first".
--   It is the rowid, which VACUUM keeps stable only when it is declared like this; the
--   natural key (`id`, `object_id`, `kid`, ...) is a UNIQUE column beside it.
-- * A `*_folded` column holds the Unicode lower-case form of a case-insensitive key,
--   computed in Rust. SQLite's NOCASE and lower() fold ASCII only.
-- * There are no foreign keys between directory objects: the trait contract does not
--   promise referential integrity (a managed identity has no application object, and
--   credentials may be added for an app id that has only a service principal). The one
--   foreign key links identifier URIs to the application that owns them.

CREATE TABLE tenants (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    default_domain TEXT NOT NULL,
    default_domain_folded TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX tenants_by_age ON tenants (created_at, seq);

CREATE TABLE subscriptions (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;
CREATE INDEX subscriptions_by_age ON subscriptions (created_at, seq);

CREATE TABLE applications (
    seq INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    access_token_version INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

-- Identifier URIs are unique within a tenant, as in Entra; the unique index on
-- (tenant_id, uri_folded) is also the lookup path of find_application_by_identifier_uri.
CREATE TABLE application_identifier_uris (
    application_object_id TEXT NOT NULL
        REFERENCES applications (object_id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    tenant_id TEXT NOT NULL,
    uri TEXT NOT NULL,
    uri_folded TEXT NOT NULL,
    PRIMARY KEY (application_object_id, position),
    UNIQUE (tenant_id, uri_folded)
) STRICT, WITHOUT ROWID;

CREATE TABLE service_principals (
    seq INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    tenant_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('Application', 'ManagedIdentity')),
    managed_identity_resource_id TEXT,
    created_at INTEGER NOT NULL,
    UNIQUE (tenant_id, app_id)
) STRICT;
CREATE INDEX service_principals_by_tenant_age ON service_principals (tenant_id, created_at, seq);
CREATE INDEX service_principals_by_app ON service_principals (app_id);

-- Credentials belong to an app id, not to a row: see delete_service_principal.
CREATE TABLE password_credentials (
    seq INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    hint TEXT NOT NULL,
    salt BLOB NOT NULL,
    secret_hash BLOB NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL
) STRICT;
CREATE INDEX password_credentials_by_app ON password_credentials (app_id, seq);

CREATE TABLE key_credentials (
    seq INTEGER PRIMARY KEY,
    key_id TEXT NOT NULL UNIQUE,
    app_id TEXT NOT NULL,
    display_name TEXT NOT NULL,
    certificate_der BLOB NOT NULL,
    start_time INTEGER NOT NULL,
    end_time INTEGER NOT NULL
) STRICT;
CREATE INDEX key_credentials_by_app ON key_credentials (app_id, seq);

CREATE TABLE users (
    seq INTEGER PRIMARY KEY,
    object_id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    user_principal_name TEXT NOT NULL,
    user_principal_name_folded TEXT NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_salt BLOB NOT NULL,
    password_hash BLOB NOT NULL,
    created_at INTEGER NOT NULL
) STRICT;

CREATE TABLE signing_keys (
    seq INTEGER PRIMARY KEY,
    kid TEXT NOT NULL UNIQUE,
    certificate_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    retired_at INTEGER
) STRICT;
CREATE INDEX signing_keys_by_age ON signing_keys (created_at, seq);

CREATE TABLE settings (
    key TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) STRICT, WITHOUT ROWID;
