-- Migration 3: resources found by type and name across every subscription.
--
-- Some resource names are global, as they are in Azure: a key vault's name is its host
-- name (`<name>.vault.azure.net`), a storage account's too. The data planes find the
-- resource from the name in the request's host, and ARM refuses a second resource of such a
-- type with a name already taken anywhere. `lower()` folds ASCII only (SQLite without ICU),
-- which is ARM's folding (migration 2).
CREATE INDEX resources_by_type_name ON resources (resource_type_folded, lower(name), seq);
