//! Maintaining the index: insertion rules (idempotence by id, `RoleAssignmentExists`,
//! unknown roles, invalid and non-assignable scopes), custom roles, and the effective
//! permissions listing.

use azlite_authz::{
    Action, Assignment, AssignmentIndex, AuthzError, Inserted, Permission, RoleAssignmentId,
    RoleCatalog, RoleDefinition, RoleDefinitionId, RoleType,
};
use azlite_types::{ObjectId, Scope};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const OTHER_SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000002";

const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const STORAGE_BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";

fn scope(text: &str) -> Scope {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn group(name: &str) -> Scope {
    scope(&format!("{SUB}/resourceGroups/{name}"))
}

fn vm(group: &str, name: &str) -> Scope {
    scope(&format!(
        "{SUB}/resourceGroups/{group}/providers/Microsoft.Compute/virtualMachines/{name}"
    ))
}

fn principal(n: u128) -> ObjectId {
    ObjectId::from_uuid(uuid::Uuid::from_u128(n))
}

fn assign(index: &mut AssignmentIndex, who: ObjectId, role: &str, at: &Scope) -> RoleAssignmentId {
    let id = RoleAssignmentId::new_random();
    let assignment = Assignment {
        id,
        principal_id: who,
        role_definition_id: role.parse().unwrap(),
        scope: at.clone(),
    };
    assert_eq!(index.insert(assignment), Ok(Inserted::Created));
    id
}

fn allowed(index: &AssignmentIndex, who: ObjectId, at: &Scope, action: &Action) -> bool {
    index.check(who, at, action).is_allowed()
}

#[test]
fn inserting_validates_and_is_idempotent_by_id() {
    let mut index = AssignmentIndex::default();
    let who = principal(1);
    let reader: RoleDefinitionId = READER.parse().unwrap();
    let assignment = Assignment {
        id: RoleAssignmentId::new_random(),
        principal_id: who,
        role_definition_id: reader,
        scope: group("rg1"),
    };
    assert_eq!(index.insert(assignment.clone()), Ok(Inserted::Created));
    assert_eq!(index.insert(assignment.clone()), Ok(Inserted::Unchanged));
    let same_triple = Assignment {
        id: RoleAssignmentId::new_random(),
        scope: group("RG1"),
        ..assignment.clone()
    };
    assert_eq!(
        index.insert(same_triple),
        Err(AuthzError::AssignmentExists {
            existing: assignment.id
        })
    );
    let moved = Assignment {
        scope: group("rg2"),
        ..assignment.clone()
    };
    assert_eq!(
        index.insert(moved),
        Err(AuthzError::AssignmentIdConflict(assignment.id))
    );

    let unknown = RoleDefinitionId::new_random();
    let bad_role = Assignment {
        id: RoleAssignmentId::new_random(),
        role_definition_id: unknown,
        ..assignment.clone()
    };
    assert_eq!(
        index.insert(bad_role),
        Err(AuthzError::RoleDefinitionNotFound(unknown))
    );
    let namespace = scope(&format!("{SUB}/providers/Microsoft.Compute"));
    let bad_scope = Assignment {
        id: RoleAssignmentId::new_random(),
        scope: namespace.clone(),
        ..assignment.clone()
    };
    assert_eq!(
        index.insert(bad_scope),
        Err(AuthzError::InvalidScope(namespace))
    );
    let management_group = scope("/providers/Microsoft.Management/managementGroups/mg1");
    let at_mg = Assignment {
        id: RoleAssignmentId::new_random(),
        scope: management_group,
        ..assignment
    };
    assert_eq!(index.insert(at_mg), Ok(Inserted::Created));
    assert_eq!(index.len(), 2);
}

fn vm_starter(assignable: &str) -> RoleDefinition {
    RoleDefinition {
        id: RoleDefinitionId::new_random(),
        name: "Virtual Machine Starter".into(),
        description: "Starts VMs.".into(),
        role_type: RoleType::CustomRole,
        permissions: vec![Permission {
            actions: vec![
                "Microsoft.Compute/virtualMachines/*/action".into(),
                "*/read".into(),
            ],
            not_actions: vec!["Microsoft.Compute/virtualMachines/runCommand/action".into()],
            ..Permission::default()
        }],
        assignable_scopes: vec![scope(assignable)],
    }
}

#[test]
fn custom_roles_resolve_update_and_stay_while_assigned() {
    let mut index = AssignmentIndex::new(RoleCatalog::with_builtins());
    let role = vm_starter(SUB);
    let role_id = role.id;
    assert_eq!(index.put_custom_role(role.clone()), Ok(None));
    let gina = principal(1);
    let id = assign(&mut index, gina, &role_id.to_string(), &group("rg1"));
    let target = vm("rg1", "vm1");
    let start = Action::control("Microsoft.Compute/virtualMachines/start/action");
    let run = Action::control("Microsoft.Compute/virtualMachines/runCommand/action");
    assert!(allowed(&index, gina, &target, &start));
    assert!(!allowed(&index, gina, &target, &run));
    assert_eq!(
        index
            .check(gina, &target, &start)
            .into_result()
            .unwrap()
            .role_name(),
        "Virtual Machine Starter"
    );

    let mut narrowed = role.clone();
    narrowed.permissions[0].actions.truncate(1);
    narrowed.permissions[0].not_actions =
        vec!["Microsoft.Compute/virtualMachines/start/action".into()];
    assert_eq!(index.put_custom_role(narrowed), Ok(Some(role)));
    assert!(
        !allowed(&index, gina, &target, &start),
        "an updated role applies at once"
    );

    assert_eq!(
        index.remove_custom_role(role_id),
        Err(AuthzError::RoleDefinitionHasAssignments(role_id))
    );
    index.remove(id);
    assert_eq!(index.remove_custom_role(role_id).unwrap().id, role_id);
    assert!(index.roles().get(role_id).is_none());
}

#[test]
fn custom_roles_are_assignable_only_within_their_scopes() {
    let mut index = AssignmentIndex::default();
    let role = vm_starter(SUB);
    let role_id = role.id;
    index.put_custom_role(role).unwrap();
    let elsewhere = scope(&format!("{OTHER_SUB}/resourceGroups/rg1"));
    let assignment = Assignment {
        id: RoleAssignmentId::new_random(),
        principal_id: principal(1),
        role_definition_id: role_id,
        scope: elsewhere.clone(),
    };
    assert_eq!(
        index.insert(assignment),
        Err(AuthzError::NotAssignableAtScope {
            role: role_id,
            scope: elsewhere
        })
    );
}

#[test]
fn effective_permissions_list_each_applicable_role_once() {
    let mut index = AssignmentIndex::default();
    let hank = principal(1);
    assign(&mut index, hank, READER, &scope(SUB));
    assign(&mut index, hank, READER, &group("rg1"));
    assign(&mut index, hank, STORAGE_BLOB_DATA_READER, &group("rg1"));
    assign(&mut index, hank, OWNER, &group("rg2"));
    let blocks = index.effective_permissions(hank, &vm("rg1", "vm1"));
    let mut actions: Vec<&str> = blocks
        .iter()
        .flat_map(|b| b.actions.iter().chain(&b.data_actions))
        .map(String::as_str)
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            "*/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ]
    );
    assert!(
        index
            .effective_permissions(principal(2), &vm("rg1", "vm1"))
            .is_empty()
    );
}
