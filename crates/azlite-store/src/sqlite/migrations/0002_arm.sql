-- Migration 2: the ARM control plane: resource groups, resources and role assignments.
--
-- Conventions of migration 1 hold, with one difference in folding: ARM keys (ids, scopes,
-- group names, resource types) are folded by ASCII lower case, computed in Rust, exactly
-- as `azlite_types::ResourceId` compares ids and `azlite-authz` keys scopes. Folding them
-- any other way would let the store merge or cascade over two ids that the rest of azlite
-- holds distinct.
--
-- * Tags and provider bodies are JSON text: the store keeps them, it never queries inside.
-- * "At or below" a folded id X is `x_folded = X OR (x_folded >= 'X/' AND x_folded < 'X0')`,
--   bounds computed in Rust: '0' is the byte after '/', so the range holds exactly the
--   texts that start with `X/`. Unlike LIKE it has no wildcards to escape (a group may be
--   named `rg_1`), and it is an index range scan.
-- * Upserts keep `seq` and `created_at` of the first insert, so a replaced object keeps
--   its place in "oldest first".
-- * No foreign keys, as in migration 1: that a group exists before a resource is put in it
--   is the ARM service's check. Cascades are explicit: a `Deletion` of a group or resource
--   deletes what lies below it in the same transaction.

CREATE TABLE resource_groups (
    seq INTEGER PRIMARY KEY,
    subscription_id TEXT NOT NULL,
    name TEXT NOT NULL,
    name_folded TEXT NOT NULL,
    location TEXT NOT NULL,
    tags TEXT NOT NULL,
    managed_by TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    UNIQUE (subscription_id, name_folded)
) STRICT;
CREATE INDEX resource_groups_by_subscription_age
    ON resource_groups (subscription_id, created_at, seq);

-- `resource_group` and `resource_type` are as created; their folded copies are the filter
-- keys of list_resources, one index per filter (both filters use the group's index).
CREATE TABLE resources (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL,
    id_folded TEXT NOT NULL UNIQUE,
    subscription_id TEXT NOT NULL,
    resource_group TEXT NOT NULL,
    resource_group_folded TEXT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_type_folded TEXT NOT NULL,
    name TEXT NOT NULL,
    location TEXT NOT NULL,
    tags TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) STRICT;
CREATE INDEX resources_by_subscription_age ON resources (subscription_id, created_at, seq);
CREATE INDEX resources_by_group_age
    ON resources (subscription_id, resource_group_folded, created_at, seq);
CREATE INDEX resources_by_type_age
    ON resources (subscription_id, resource_type_folded, created_at, seq);

-- One (scope, role, principal) per assignment, as ARM answers 409 RoleAssignmentExists to
-- a second name for the same triple (reference §3.6) and the authz index refuses it.
CREATE TABLE role_assignments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    scope TEXT NOT NULL,
    scope_folded TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    role_definition_id TEXT NOT NULL,
    description TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    created_by TEXT,
    UNIQUE (scope_folded, role_definition_id, principal_id)
) STRICT;
CREATE INDEX role_assignments_by_age ON role_assignments (created_at, seq);
CREATE INDEX role_assignments_by_principal_age
    ON role_assignments (principal_id, created_at, seq);
