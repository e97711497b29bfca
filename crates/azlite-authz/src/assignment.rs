//! Role assignments and the index that answers "may this principal do this here?"
//! (reference §3.3).
//!
//! The index is keyed by principal, then by lower-cased scope. A check looks only at the
//! principal's own assignments at the target scope and its ancestors, never at anyone
//! else's, so its cost does not grow with the number of assignments in the cloud:
//!
//! * a principal with few assignment scopes (at most [`SCAN_LIMIT`], the common case: an
//!   identity with a handful of roles) has them compared against the target by
//!   case-insensitive segment prefix, with no allocation;
//! * a principal with more has each ancestor of the target looked up in its map, so the
//!   cost is the depth of the target, not the number of assignments.
//!
//! Both give the same answer: assignments whose scope is the target or an ancestor by whole
//! segments (`rg1` never covers `rg10`), the union of what their roles grant, and as proof
//! the assignment at the most specific scope (first inserted among equals).

use std::borrow::Cow;
use std::collections::HashMap;
use std::collections::hash_map;

use azlite_types::{ObjectId, Scope};
use serde::{Deserialize, Serialize};

use crate::{
    Action, Authorized, AuthzError, CompiledRole, Decision, DenyReason, Permission,
    RoleAssignmentId, RoleCatalog, RoleDefinition, RoleDefinitionId,
};

/// Up to this many distinct assignment scopes, a principal's scopes are scanned rather than
/// looked up ancestor by ancestor. A scan step is one short case-insensitive comparison; a
/// lookup step hashes a prefix, and targets are 4 to 6 levels deep.
pub const SCAN_LIMIT: usize = 8;

/// A role assignment: `principal_id` has `role_definition_id` at `scope` and below.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Assignment {
    /// The assignment's GUID (its ARM `name`).
    pub id: RoleAssignmentId,
    /// The object id of the user, group or service principal.
    pub principal_id: ObjectId,
    /// The role granted.
    pub role_definition_id: RoleDefinitionId,
    /// Where: the root `/`, a management group, a subscription, a group or a resource.
    pub scope: Scope,
}

/// What [`AssignmentIndex::insert`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Inserted {
    /// A new assignment (ARM answers 201).
    Created,
    /// The same assignment was already there under this id (ARM answers 200).
    Unchanged,
}

#[derive(Debug, Clone, Copy)]
struct Grant {
    assignment: RoleAssignmentId,
    role: RoleDefinitionId,
}

/// One principal's assignments at one scope.
#[derive(Debug, Clone)]
struct ScopeGrants {
    /// The scope as first assigned (the proof shows this casing).
    scope: Scope,
    /// Length of the lower-cased key: longer is more specific among covering scopes.
    key_len: usize,
    grants: Vec<Grant>,
}

/// One principal's assignments by lower-cased scope.
#[derive(Debug, Clone, Default)]
struct PrincipalGrants {
    by_scope: HashMap<Box<str>, ScopeGrants>,
}

/// Whether the lower-cased scope `key` is `target` or an ancestor of it by whole segments.
fn key_covers(key: &str, target: &str) -> bool {
    if key == "/" {
        return true;
    }
    let (key, target) = (key.as_bytes(), target.as_bytes());
    target.len() >= key.len()
        && target[..key.len()].eq_ignore_ascii_case(key)
        && (target.len() == key.len() || target[key.len()] == b'/')
}

/// The covering scopes of a target among one principal's, in one of the two ways above.
enum Applicable<'g> {
    Scan {
        target: &'g str,
        entries: hash_map::Iter<'g, Box<str>, ScopeGrants>,
    },
    /// Most specific first: the target, then each prefix ending before a `/`, then the root.
    Walk {
        grants: &'g PrincipalGrants,
        folded: String,
        next_end: Option<usize>,
    },
}

impl<'g> Applicable<'g> {
    fn new(grants: &'g PrincipalGrants, target: &'g Scope) -> Self {
        if grants.by_scope.len() <= SCAN_LIMIT {
            Self::Scan {
                target: target.as_str(),
                entries: grants.by_scope.iter(),
            }
        } else {
            let folded = target.as_str().to_ascii_lowercase();
            Self::Walk {
                grants,
                next_end: Some(folded.len()),
                folded,
            }
        }
    }

    fn most_specific_first(&self) -> bool {
        matches!(self, Self::Walk { .. })
    }
}

impl<'g> Iterator for Applicable<'g> {
    type Item = &'g ScopeGrants;

    fn next(&mut self) -> Option<&'g ScopeGrants> {
        match self {
            Self::Scan { target, entries } => entries
                .find(|(key, _)| key_covers(key, target))
                .map(|(_, at_scope)| at_scope),
            Self::Walk {
                grants,
                folded,
                next_end,
            } => {
                let grants: &'g PrincipalGrants = grants;
                loop {
                    let end = (*next_end)?;
                    // `end == 0` stands for the root, which has no prefix of its own.
                    let key = if end == 0 { "/" } else { &folded[..end] };
                    *next_end = if key == "/" {
                        None
                    } else {
                        Some(folded[..end].rfind('/').unwrap_or(0))
                    };
                    if let Some(found) = grants.by_scope.get(key) {
                        return Some(found);
                    }
                }
            }
        }
    }
}

/// All role assignments, indexed for checks, with the role catalog they refer to.
#[derive(Debug, Clone, Default)]
pub struct AssignmentIndex {
    roles: RoleCatalog,
    by_id: HashMap<RoleAssignmentId, Assignment>,
    by_principal: HashMap<ObjectId, PrincipalGrants>,
    /// How many assignments use each role, so a custom role in use cannot be deleted.
    uses: HashMap<RoleDefinitionId, usize>,
}

impl AssignmentIndex {
    /// An empty index resolving roles through `roles`.
    pub fn new(roles: RoleCatalog) -> Self {
        Self {
            roles,
            ..Self::default()
        }
    }

    /// The role catalog.
    pub fn roles(&self) -> &RoleCatalog {
        &self.roles
    }

    /// Adds or replaces a custom role (see [`RoleCatalog::put_custom`]). Assignments of a
    /// replaced role see the new permissions at once.
    pub fn put_custom_role(
        &mut self,
        definition: RoleDefinition,
    ) -> Result<Option<RoleDefinition>, AuthzError> {
        self.roles.put_custom(definition)
    }

    /// Deletes a custom role that no assignment uses.
    pub fn remove_custom_role(
        &mut self,
        id: RoleDefinitionId,
    ) -> Result<RoleDefinition, AuthzError> {
        if self.uses.get(&id).is_some_and(|&n| n > 0) {
            return Err(AuthzError::RoleDefinitionHasAssignments(id));
        }
        self.roles.remove_custom(id)
    }

    /// What [`insert`](Self::insert) would do with `assignment`, without changing anything:
    /// callers that persist assignments ask this before writing, so the store never holds
    /// an assignment the index refuses.
    pub fn check_insert(&self, assignment: &Assignment) -> Result<Inserted, AuthzError> {
        let role_id = assignment.role_definition_id;
        let role = self
            .roles
            .get(role_id)
            .ok_or(AuthzError::RoleDefinitionNotFound(role_id))?;
        if !assignment.scope.is_rbac_scope() {
            return Err(AuthzError::InvalidScope(assignment.scope.clone()));
        }
        if !role.is_assignable_at(&assignment.scope) {
            return Err(AuthzError::NotAssignableAtScope {
                role: role_id,
                scope: assignment.scope.clone(),
            });
        }
        if let Some(existing) = self.by_id.get(&assignment.id) {
            return if existing == assignment {
                Ok(Inserted::Unchanged)
            } else {
                Err(AuthzError::AssignmentIdConflict(assignment.id))
            };
        }
        let key = assignment.scope.as_str().to_ascii_lowercase();
        let duplicate = self
            .by_principal
            .get(&assignment.principal_id)
            .and_then(|grants| grants.by_scope.get(key.as_str()))
            .and_then(|at_scope| at_scope.grants.iter().find(|g| g.role == role_id));
        if let Some(duplicate) = duplicate {
            return Err(AuthzError::AssignmentExists {
                existing: duplicate.assignment,
            });
        }
        Ok(Inserted::Created)
    }

    /// Adds an assignment. Re-adding the same one under the same id is a no-op; the same
    /// (principal, role, scope) under another id is `AssignmentExists` (reference §3.6).
    /// Refuses exactly what [`check_insert`](Self::check_insert) refuses.
    pub fn insert(&mut self, assignment: Assignment) -> Result<Inserted, AuthzError> {
        if self.check_insert(&assignment)? == Inserted::Unchanged {
            return Ok(Inserted::Unchanged);
        }
        let role_id = assignment.role_definition_id;
        let key: Box<str> = assignment.scope.as_str().to_ascii_lowercase().into();
        let grants = self
            .by_principal
            .entry(assignment.principal_id)
            .or_default();
        let at_scope = grants
            .by_scope
            .entry(key)
            .or_insert_with_key(|key| ScopeGrants {
                scope: assignment.scope.clone(),
                key_len: key.len(),
                grants: Vec::new(),
            });
        at_scope.grants.push(Grant {
            assignment: assignment.id,
            role: role_id,
        });
        *self.uses.entry(role_id).or_default() += 1;
        self.by_id.insert(assignment.id, assignment);
        Ok(Inserted::Created)
    }

    /// Removes an assignment; checks stop seeing it at once.
    pub fn remove(&mut self, id: RoleAssignmentId) -> Option<Assignment> {
        let assignment = self.by_id.remove(&id)?;
        let key = assignment.scope.as_str().to_ascii_lowercase();
        if let Some(grants) = self.by_principal.get_mut(&assignment.principal_id) {
            if let Some(at_scope) = grants.by_scope.get_mut(key.as_str()) {
                at_scope.grants.retain(|g| g.assignment != id);
                if at_scope.grants.is_empty() {
                    grants.by_scope.remove(key.as_str());
                }
            }
            if grants.by_scope.is_empty() {
                self.by_principal.remove(&assignment.principal_id);
            }
        }
        if let Some(n) = self.uses.get_mut(&assignment.role_definition_id) {
            *n -= 1;
        }
        Some(assignment)
    }

    /// The assignment with this id.
    pub fn get(&self, id: RoleAssignmentId) -> Option<&Assignment> {
        self.by_id.get(&id)
    }

    /// How many assignments there are.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Every assignment, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &Assignment> {
        self.by_id.values()
    }

    /// The assignments of one principal, at any scope, in no particular order.
    pub fn assignments_of(&self, principal: ObjectId) -> impl Iterator<Item = &Assignment> {
        self.by_principal
            .get(&principal)
            .into_iter()
            .flat_map(|grants| grants.by_scope.values())
            .flat_map(|at_scope| &at_scope.grants)
            .filter_map(|grant| self.by_id.get(&grant.assignment))
    }

    /// May `principal` perform `action` at `scope`? Allowed when some role assigned to the
    /// principal at `scope` or an ancestor grants it (each role on its own: its `notActions`
    /// narrow only its own permission block). Deny assignments do not exist in azlite
    /// (reference §3.3.3) and group membership is not modelled.
    pub fn check<'a>(
        &'a self,
        principal: ObjectId,
        scope: &'a Scope,
        action: &'a Action,
    ) -> Decision<'a> {
        let Some(grants) = self.by_principal.get(&principal) else {
            return Decision::Deny {
                reason: DenyReason::NoAssignment,
            };
        };
        let applicable = Applicable::new(grants, scope);
        let stop_at_first = applicable.most_specific_first();
        let mut considered = 0;
        let mut best: Option<(&ScopeGrants, Grant, &CompiledRole)> = None;
        for at_scope in applicable {
            considered += at_scope.grants.len();
            if best.is_some_and(|(b, ..)| b.key_len >= at_scope.key_len) {
                continue;
            }
            let granting = at_scope.grants.iter().find_map(|grant| {
                let role = self.roles.get(grant.role)?;
                role.permits(action).then_some((*grant, role))
            });
            if let Some((grant, role)) = granting {
                best = Some((at_scope, grant, role));
                if stop_at_first {
                    break;
                }
            }
        }
        match best {
            Some((at_scope, grant, role)) => Decision::Allow(Authorized {
                principal,
                scope: Cow::Borrowed(scope),
                action: Cow::Borrowed(action),
                role_name: Cow::Borrowed(role.name()),
                role_definition_id: grant.role,
                assignment_id: grant.assignment,
                assignment_scope: Cow::Borrowed(&at_scope.scope),
            }),
            None if considered == 0 => Decision::Deny {
                reason: DenyReason::NoAssignment,
            },
            None => Decision::Deny {
                reason: DenyReason::NotGranted {
                    assignments: considered,
                },
            },
        }
    }

    /// The permission blocks of every role the principal holds at `scope` or above, each role
    /// once: what ARM's `…/providers/Microsoft.Authorization/permissions` lists (§3.5).
    pub fn effective_permissions(&self, principal: ObjectId, scope: &Scope) -> Vec<&Permission> {
        let Some(grants) = self.by_principal.get(&principal) else {
            return Vec::new();
        };
        let mut seen: Vec<RoleDefinitionId> = Vec::new();
        let mut blocks = Vec::new();
        for at_scope in Applicable::new(grants, scope) {
            for grant in &at_scope.grants {
                if seen.contains(&grant.role) {
                    continue;
                }
                seen.push(grant.role);
                if let Some(role) = self.roles.get(grant.role) {
                    blocks.extend(&role.definition().permissions);
                }
            }
        }
        blocks
    }
}
