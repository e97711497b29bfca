-- Migration "blob": Blob Storage's containers, blobs and blocks.
--
-- Everything is keyed by the storage account's ARM id folded as migration 2 folds ARM ids
-- (ASCII lower case, computed in Rust), so the cascade of an account's (or its group's)
-- `Deletion` is an index range scan "at or below" the folded id, as for Key Vault secrets.
-- Container and blob names are case-sensitive and compared byte-wise (BINARY), which is
-- also the order listings page in: `(account_id_folded, container, name)` is the listing
-- index, and a marker is the last name returned.
--
-- * `generation` is incremented by every write of a row: conditional writes compare it.
-- * `metadata` is a JSON array of [name, value] pairs; `lease` is JSON or NULL.
-- * `blob_blocks` is a committed blob's content in order, each row a whole extent of the
--   content store; `blob_uncommitted_blocks` are Put Block's blocks, keyed by blob name
--   (a blob need not exist yet) and block id. Extent ids are indexed in both, to answer
--   "is this extent still referenced" when a write drops a reference.

CREATE TABLE blob_containers (
    seq INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    account_id_folded TEXT NOT NULL,
    name TEXT NOT NULL,
    metadata TEXT NOT NULL,
    public_access TEXT,
    etag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    lease TEXT,
    generation INTEGER NOT NULL,
    UNIQUE (account_id_folded, name)
) STRICT;

CREATE TABLE blobs (
    seq INTEGER PRIMARY KEY,
    account_id_folded TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    content_length INTEGER NOT NULL,
    headers TEXT NOT NULL,
    metadata TEXT NOT NULL,
    etag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_modified INTEGER NOT NULL,
    lease TEXT,
    generation INTEGER NOT NULL,
    UNIQUE (account_id_folded, container, name)
) STRICT;

CREATE TABLE blob_blocks (
    blob_seq INTEGER NOT NULL REFERENCES blobs (seq) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    block_id TEXT,
    extent TEXT NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (blob_seq, ordinal)
) STRICT, WITHOUT ROWID;
CREATE INDEX blob_blocks_by_extent ON blob_blocks (extent);

CREATE TABLE blob_uncommitted_blocks (
    seq INTEGER PRIMARY KEY,
    account_id_folded TEXT NOT NULL,
    container TEXT NOT NULL,
    name TEXT NOT NULL,
    block_id TEXT NOT NULL,
    extent TEXT NOT NULL,
    length INTEGER NOT NULL,
    uploaded_at INTEGER NOT NULL,
    UNIQUE (account_id_folded, container, name, block_id)
) STRICT;
CREATE INDEX blob_uncommitted_blocks_by_extent ON blob_uncommitted_blocks (extent);
CREATE INDEX blob_uncommitted_blocks_by_age ON blob_uncommitted_blocks (uploaded_at);
