//! The role lookup evaluation resolves assignments through: every built-in role, compiled
//! once per process, plus the tenant's custom roles.

use std::collections::{BTreeMap, HashMap};
use std::sync::OnceLock;

use crate::{AuthzError, CompiledRole, RoleDefinition, RoleDefinitionId, RoleType, builtin_roles};

/// The built-ins, compiled once and shared by every catalog.
struct Builtins {
    roles: Vec<CompiledRole>,
    by_id: HashMap<RoleDefinitionId, usize>,
}

fn builtins() -> &'static Builtins {
    static BUILTINS: OnceLock<Builtins> = OnceLock::new();
    BUILTINS.get_or_init(|| {
        let roles: Vec<CompiledRole> = builtin_roles()
            .iter()
            .map(|def| {
                CompiledRole::compile(def.clone())
                    .unwrap_or_else(|e| panic!("built-in role {}: {e}", def.name))
            })
            .collect();
        let by_id = roles
            .iter()
            .enumerate()
            .map(|(i, role)| (role.id(), i))
            .collect();
        Builtins { roles, by_id }
    })
}

/// Role definitions by id: the built-ins (always present, read-only) and custom roles.
#[derive(Debug, Clone, Default)]
pub struct RoleCatalog {
    // A BTreeMap so listings come out in a stable order; there are few custom roles.
    custom: BTreeMap<RoleDefinitionId, CompiledRole>,
}

impl RoleCatalog {
    /// A catalog holding the built-in roles only.
    pub fn with_builtins() -> Self {
        Self::default()
    }

    /// Whether `id` is a built-in role's.
    pub fn is_builtin(id: RoleDefinitionId) -> bool {
        builtins().by_id.contains_key(&id)
    }

    /// The role with this id.
    pub fn get(&self, id: RoleDefinitionId) -> Option<&CompiledRole> {
        let builtins = builtins();
        match builtins.by_id.get(&id) {
            Some(&index) => Some(&builtins.roles[index]),
            None => self.custom.get(&id),
        }
    }

    /// The role with this display name, compared case-insensitively as ARM's
    /// `$filter=roleName eq '…'` and `az role assignment create --role Reader` do.
    pub fn find_by_name(&self, name: &str) -> Option<&CompiledRole> {
        self.iter()
            .find(|role| role.name().eq_ignore_ascii_case(name))
    }

    /// Every role: the built-ins in the order of reference §3.7, then custom roles by id.
    pub fn iter(&self) -> impl Iterator<Item = &CompiledRole> {
        builtins().roles.iter().chain(self.custom.values())
    }

    /// Adds a custom role, or replaces the custom role with the same id (ARM `PUT` of a role
    /// definition). Returns the definition it replaced.
    ///
    /// Refused: an id of a built-in role, a type other than `CustomRole`, no assignable
    /// scope, a name another role already has, or an invalid pattern.
    pub fn put_custom(
        &mut self,
        definition: RoleDefinition,
    ) -> Result<Option<RoleDefinition>, AuthzError> {
        let id = definition.id;
        if Self::is_builtin(id) {
            return Err(AuthzError::BuiltInRoleIsReadOnly(id));
        }
        if definition.role_type != RoleType::CustomRole {
            return Err(AuthzError::NotACustomRole(id));
        }
        if definition.assignable_scopes.is_empty() {
            return Err(AuthzError::NoAssignableScopes(id));
        }
        if self
            .iter()
            .any(|role| role.id() != id && role.name().eq_ignore_ascii_case(&definition.name))
        {
            return Err(AuthzError::RoleNameExists(definition.name));
        }
        let compiled = CompiledRole::compile(definition)?;
        Ok(self
            .custom
            .insert(id, compiled)
            .map(|old| old.definition().clone()))
    }

    /// Removes a custom role and returns its definition. The caller checks that no
    /// assignment uses it ([`crate::AssignmentIndex::remove_custom_role`] does).
    pub fn remove_custom(&mut self, id: RoleDefinitionId) -> Result<RoleDefinition, AuthzError> {
        if Self::is_builtin(id) {
            return Err(AuthzError::BuiltInRoleIsReadOnly(id));
        }
        self.custom
            .remove(&id)
            .map(|role| role.definition().clone())
            .ok_or(AuthzError::RoleDefinitionNotFound(id))
    }
}

#[cfg(test)]
mod tests {
    use azlite_types::Scope;

    use super::*;
    use crate::{Action, Permission};

    const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

    fn custom(name: &str) -> RoleDefinition {
        RoleDefinition {
            id: RoleDefinitionId::new_random(),
            name: name.into(),
            description: "test".into(),
            role_type: RoleType::CustomRole,
            permissions: vec![Permission {
                actions: vec!["Microsoft.Compute/virtualMachines/start/action".into()],
                ..Default::default()
            }],
            assignable_scopes: vec![Scope::root()],
        }
    }

    #[test]
    fn built_ins_are_always_there_and_read_only() {
        let mut catalog = RoleCatalog::with_builtins();
        let reader: RoleDefinitionId = READER.parse().unwrap();
        assert_eq!(catalog.get(reader).unwrap().name(), "Reader");
        assert_eq!(
            catalog
                .find_by_name("storage blob data READER")
                .unwrap()
                .name(),
            "Storage Blob Data Reader"
        );
        let mut changed = catalog.get(reader).unwrap().definition().clone();
        changed.role_type = RoleType::CustomRole;
        assert_eq!(
            catalog.put_custom(changed),
            Err(AuthzError::BuiltInRoleIsReadOnly(reader))
        );
        assert_eq!(
            catalog.remove_custom(reader),
            Err(AuthzError::BuiltInRoleIsReadOnly(reader))
        );
    }

    #[test]
    fn custom_roles_can_be_added_replaced_and_removed() {
        let mut catalog = RoleCatalog::with_builtins();
        let role = custom("VM Starter");
        let id = role.id;
        assert_eq!(catalog.put_custom(role.clone()), Ok(None));
        assert!(catalog.get(id).unwrap().permits(&Action::control(
            "microsoft.compute/virtualmachines/start/action"
        )));
        let mut renamed = role.clone();
        renamed.name = "VM Starter v2".into();
        assert_eq!(catalog.put_custom(renamed), Ok(Some(role)));
        assert_eq!(catalog.iter().count(), builtin_roles().len() + 1);
        assert_eq!(catalog.remove_custom(id).unwrap().name, "VM Starter v2");
        assert_eq!(
            catalog.remove_custom(id),
            Err(AuthzError::RoleDefinitionNotFound(id))
        );
    }

    #[test]
    fn custom_roles_are_validated() {
        let mut catalog = RoleCatalog::with_builtins();
        assert!(matches!(
            catalog.put_custom(custom("reader")),
            Err(AuthzError::RoleNameExists(_))
        ));
        let mut built_in_type = custom("x");
        built_in_type.role_type = RoleType::BuiltInRole;
        assert!(matches!(
            catalog.put_custom(built_in_type),
            Err(AuthzError::NotACustomRole(_))
        ));
        let mut nowhere = custom("y");
        nowhere.assignable_scopes.clear();
        assert!(matches!(
            catalog.put_custom(nowhere),
            Err(AuthzError::NoAssignableScopes(_))
        ));
        let mut bad = custom("z");
        bad.permissions[0].not_actions.push("with space".into());
        assert!(matches!(
            catalog.put_custom(bad),
            Err(AuthzError::InvalidActionPattern { .. })
        ));
    }
}
