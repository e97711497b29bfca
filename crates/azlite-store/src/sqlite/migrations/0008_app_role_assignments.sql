-- Migration: app role assignments (Microsoft Graph's `appRoleAssignment`): a principal holds
-- one app role of a resource service principal (Microsoft Graph's `Application.Read.All`,
-- ...). The token service puts the role values in the `roles` claim of app-only tokens for
-- that resource; Graph enforces them.
--
-- * `id` is Graph's key of the assignment: base64url text, unique.
-- * One principal holds one role of one resource once: (principal, resource, role) is
--   unique, as Graph refuses a second identical assignment.
-- * Reads go by principal (the token service, `…/appRoleAssignments`) and by resource
--   (`…/appRoleAssignedTo`); a service principal's deletion removes the assignments it
--   holds and those granted on it, by the same two indexes.

CREATE TABLE app_role_assignments (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    tenant_id TEXT NOT NULL,
    principal_id TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    resource_id TEXT NOT NULL,
    app_role_id TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (principal_id, resource_id, app_role_id)
) STRICT;

CREATE INDEX app_role_assignments_by_principal ON app_role_assignments (principal_id, seq);
CREATE INDEX app_role_assignments_by_resource ON app_role_assignments (resource_id, seq);
