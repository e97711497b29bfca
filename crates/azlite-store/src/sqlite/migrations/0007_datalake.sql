-- Migration 8: Data Lake Store Gen1 file trees.
--
-- An item is keyed by its account's ARM id, folded as migration 2 folds ARM ids, and its
-- absolute path, compared exactly (Data Lake paths are case-sensitive). `parent` is the
-- parent's path (NULL for the root), so a listing is an index range on (account, parent,
-- path); a subtree is the range of paths that start with `path/` (`'0'` is the byte after
-- `'/'`), as ARM's "at or below" ranges. The account's id leads every key, so the cascade
-- of an account's (or its group's) deletion is an index range scan.
--
-- A file's content is a list of extents (ids of the content store's immutable byte runs)
-- keyed by the file's `id`, which a rename does not change.

CREATE TABLE datalake_items (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL,
    account_id_folded TEXT NOT NULL,
    path TEXT NOT NULL,
    parent TEXT,
    is_dir INTEGER NOT NULL,
    owner TEXT NOT NULL,
    grp TEXT NOT NULL,
    acl TEXT NOT NULL,
    sticky INTEGER NOT NULL,
    length INTEGER NOT NULL,
    access_time INTEGER NOT NULL,
    modification_time INTEGER NOT NULL,
    UNIQUE (account_id_folded, path)
) STRICT;
CREATE INDEX datalake_items_by_parent ON datalake_items (account_id_folded, parent, path);

CREATE TABLE datalake_extents (
    file_id INTEGER NOT NULL,
    account_id_folded TEXT NOT NULL,
    offset INTEGER NOT NULL,
    extent_id TEXT NOT NULL,
    length INTEGER NOT NULL,
    PRIMARY KEY (file_id, offset)
) STRICT;
CREATE INDEX datalake_extents_by_account ON datalake_extents (account_id_folded);
