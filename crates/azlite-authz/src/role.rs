//! The role definition model (reference §3.1) and its compiled, checkable form.
//!
//! [`RoleDefinition`] is the stored model: plain strings, as a client writes them, with the
//! field names of the ARM `properties` object. [`CompiledRole`] is what evaluation uses: every
//! pattern parsed once into an [`ActionPattern`].

use azlite_types::Scope;
use serde::{Deserialize, Serialize};

use crate::{Action, ActionKind, ActionPattern, AuthzError, RoleDefinitionId};

/// `properties.type` of a role definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum RoleType {
    /// Defined by Azure; identical GUID and permissions in every cloud; read-only.
    BuiltInRole,
    /// Defined by a tenant.
    CustomRole,
}

/// One block of `permissions`. A role grants an operation if any block grants it, and a
/// block grants it when one of its `actions` matches and none of its `notActions` does (for
/// data-plane operations: `dataActions` and `notDataActions`). `notActions` only narrows its
/// own block; it is not a deny (reference §3.3.4).
///
/// ABAC `condition`/`conditionVersion` are not modelled: §3.3.6 allows an emulator to ignore
/// them, and none of the built-ins here carries one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Permission {
    /// Control-plane operations granted.
    pub actions: Vec<String>,
    /// Control-plane operations removed from `actions` of this block.
    pub not_actions: Vec<String>,
    /// Data-plane operations granted.
    pub data_actions: Vec<String>,
    /// Data-plane operations removed from `data_actions` of this block.
    pub not_data_actions: Vec<String>,
}

/// A role definition as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleDefinition {
    /// The GUID (the ARM `name`).
    pub id: RoleDefinitionId,
    /// The display name, e.g. `Reader` (ARM `roleName`).
    #[serde(rename = "roleName")]
    pub name: String,
    /// What the role is for.
    pub description: String,
    /// Built-in or custom (ARM `properties.type`; the SDK calls it `role_type`).
    pub role_type: RoleType,
    /// The permission blocks.
    pub permissions: Vec<Permission>,
    /// Where the role may be assigned: `["/"]` for built-ins.
    pub assignable_scopes: Vec<Scope>,
}

/// A permission block with every pattern parsed.
#[derive(Debug, Clone)]
struct CompiledPermission {
    actions: Vec<ActionPattern>,
    not_actions: Vec<ActionPattern>,
    data_actions: Vec<ActionPattern>,
    not_data_actions: Vec<ActionPattern>,
}

fn compile_all(patterns: &[String]) -> Result<Vec<ActionPattern>, AuthzError> {
    patterns.iter().map(|p| ActionPattern::parse(p)).collect()
}

impl CompiledPermission {
    fn compile(permission: &Permission) -> Result<Self, AuthzError> {
        Ok(Self {
            actions: compile_all(&permission.actions)?,
            not_actions: compile_all(&permission.not_actions)?,
            data_actions: compile_all(&permission.data_actions)?,
            not_data_actions: compile_all(&permission.not_data_actions)?,
        })
    }

    fn grants(&self, action: &Action) -> bool {
        let (grant, except) = match action.kind() {
            ActionKind::Control => (&self.actions, &self.not_actions),
            ActionKind::Data => (&self.data_actions, &self.not_data_actions),
        };
        let operation = action.folded();
        grant.iter().any(|p| p.matches_folded(operation))
            && !except.iter().any(|p| p.matches_folded(operation))
    }
}

/// A role definition with its patterns compiled, ready for checks.
#[derive(Debug, Clone)]
pub struct CompiledRole {
    definition: RoleDefinition,
    blocks: Vec<CompiledPermission>,
}

impl CompiledRole {
    /// Parses every pattern of the definition.
    pub fn compile(definition: RoleDefinition) -> Result<Self, AuthzError> {
        let blocks = definition
            .permissions
            .iter()
            .map(CompiledPermission::compile)
            .collect::<Result<_, _>>()?;
        Ok(Self { definition, blocks })
    }

    /// The definition this was compiled from.
    pub fn definition(&self) -> &RoleDefinition {
        &self.definition
    }

    /// The role's id.
    pub fn id(&self) -> RoleDefinitionId {
        self.definition.id
    }

    /// The role's display name.
    pub fn name(&self) -> &str {
        &self.definition.name
    }

    /// Whether the role, on its own, grants the operation: some block grants it and the same
    /// block does not exclude it. Control-plane operations are checked against `actions`
    /// only, data-plane operations against `dataActions` only.
    pub fn permits(&self, action: &Action) -> bool {
        self.blocks.iter().any(|block| block.grants(action))
    }

    /// Whether the role may be assigned at `scope`: one of its assignable scopes is `scope`
    /// or an ancestor of it.
    pub fn is_assignable_at(&self, scope: &Scope) -> bool {
        self.definition
            .assignable_scopes
            .iter()
            .any(|s| s.contains(scope))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(permissions: Vec<Permission>) -> CompiledRole {
        CompiledRole::compile(RoleDefinition {
            id: RoleDefinitionId::new_random(),
            name: "test".into(),
            description: String::new(),
            role_type: RoleType::CustomRole,
            permissions,
            assignable_scopes: vec![Scope::root()],
        })
        .unwrap()
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn not_actions_narrow_only_their_own_block() {
        let role = role(vec![
            Permission {
                actions: strings(&["*"]),
                not_actions: strings(&["Microsoft.Authorization/*/Write"]),
                ..Default::default()
            },
            Permission {
                actions: strings(&["Microsoft.Authorization/roleAssignments/write"]),
                ..Default::default()
            },
        ]);
        assert!(role.permits(&Action::control(
            "Microsoft.Authorization/roleAssignments/write"
        )));
        assert!(!role.permits(&Action::control(
            "Microsoft.Authorization/roleDefinitions/write"
        )));
    }

    #[test]
    fn actions_never_grant_data_actions_and_back() {
        let role = role(vec![Permission {
            actions: strings(&["*"]),
            data_actions: strings(&["Microsoft.KeyVault/vaults/secrets/getSecret/action"]),
            ..Default::default()
        }]);
        assert!(!role.permits(&Action::data(
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
        )));
        assert!(role.permits(&Action::data(
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        )));
        assert!(role.permits(&Action::control(
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        )));
    }

    #[test]
    fn serde_uses_the_arm_field_names() {
        let json = serde_json::json!({
            "id": "acdd72a7-3385-48ef-bd42-f606fba81ae7",
            "roleName": "Reader",
            "description": "View all resources, but does not allow you to make any changes.",
            "roleType": "BuiltInRole",
            "permissions": [{"actions": ["*/read"], "notActions": [], "dataActions": [], "notDataActions": []}],
            "assignableScopes": ["/"]
        });
        let role: RoleDefinition = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(role.name, "Reader");
        assert_eq!(role.permissions[0].actions, ["*/read"]);
        assert_eq!(serde_json::to_value(&role).unwrap(), json);
    }

    #[test]
    fn compiling_reports_the_bad_pattern() {
        let err = CompiledRole::compile(RoleDefinition {
            id: RoleDefinitionId::new_random(),
            name: "bad".into(),
            description: String::new(),
            role_type: RoleType::CustomRole,
            permissions: vec![Permission {
                data_actions: strings(&[""]),
                ..Default::default()
            }],
            assignable_scopes: vec![Scope::root()],
        })
        .unwrap_err();
        assert!(matches!(err, AuthzError::InvalidActionPattern { .. }));
    }
}
