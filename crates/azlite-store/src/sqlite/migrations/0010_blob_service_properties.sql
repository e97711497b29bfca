-- Migration "blob service properties": the document of Set Blob Service Properties, one
-- per storage account, keyed like the account's containers (its folded ARM id) and deleted
-- with them when the account, its group or its subscription goes.
--
-- It used to be a setting (`blob-service-properties:<folded account id>`), which outlived
-- its account: an account created anew under the same name found the old document. The
-- settings of accounts that still exist move here; those of deleted accounts are dropped.

CREATE TABLE blob_service_properties (
    account_id_folded TEXT PRIMARY KEY,
    document TEXT NOT NULL
) STRICT;

INSERT INTO blob_service_properties (account_id_folded, document)
    SELECT substr(key, 25), value FROM settings
    WHERE substr(key, 1, 24) = 'blob-service-properties:'
      AND substr(key, 25) IN (SELECT id_folded FROM resources);

DELETE FROM settings WHERE substr(key, 1, 24) = 'blob-service-properties:';
