-- Migration "blob inline content": a small blob's bytes in its row.
--
-- A block blob written whole by one Put Blob (or a Copy Blob of one) of at most the
-- service's inline threshold keeps its content in `blobs.content` instead of an extent of
-- the content store: one write is then one row in one (group-committed) transaction, with
-- no file to create, fsync and rename. Such a blob has no `blob_blocks` rows. NULL: the
-- content is the blob's blocks, as before.

ALTER TABLE blobs ADD COLUMN content BLOB;
