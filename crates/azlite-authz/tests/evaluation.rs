//! Evaluation rules of reference §3.3 through the public API: inheritance down the scope
//! tree, `notActions` per role, control and data planes apart, removal, case-insensitivity
//! and the proof an allowed check returns.

use azlite_authz::{
    Action, Assignment, AssignmentIndex, DenyReason, Inserted, RoleAssignmentId, RoleDefinitionId,
    SCAN_LIMIT,
};
use azlite_types::{ObjectId, Scope};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const OTHER_SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000002";

const OWNER: &str = "8e3af657-a8ff-443c-a75c-2fe8c4bcb635";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const USER_ACCESS_ADMINISTRATOR: &str = "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9";
const STORAGE_BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
const MANAGED_IDENTITY_OPERATOR: &str = "f1a07417-d97a-45cb-824c-7a7467783830";

const VM_READ: &str = "Microsoft.Compute/virtualMachines/read";
const VM_WRITE: &str = "Microsoft.Compute/virtualMachines/write";
const ROLE_ASSIGNMENT_WRITE: &str = "Microsoft.Authorization/roleAssignments/write";
const BLOB_READ: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
const BLOB_WRITE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";

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
fn a_reader_on_a_group_reads_what_is_in_it_and_nothing_beside_it() {
    let mut index = AssignmentIndex::default();
    let alice = principal(1);
    assign(&mut index, alice, READER, &group("rg1"));
    let read = Action::control(VM_READ);
    assert!(allowed(&index, alice, &vm("rg1", "vm1"), &read));
    assert!(allowed(
        &index,
        alice,
        &group("rg1"),
        &Action::control("Microsoft.Resources/subscriptions/resourceGroups/read")
    ));
    assert!(!allowed(
        &index,
        alice,
        &vm("rg1", "vm1"),
        &Action::control(VM_WRITE)
    ));
    assert!(
        !allowed(&index, alice, &vm("rg2", "vm1"), &read),
        "a sibling group"
    );
    assert!(
        !allowed(&index, alice, &vm("rg10", "vm1"), &read),
        "rg1 must not cover rg10"
    );
    assert!(
        !allowed(&index, alice, &scope(SUB), &read),
        "nor its parent"
    );
}

#[test]
fn a_subscription_assignment_covers_every_group_and_the_root_covers_everything() {
    let mut index = AssignmentIndex::default();
    let (sub_reader, root_reader) = (principal(1), principal(2));
    assign(&mut index, sub_reader, READER, &scope(SUB));
    assign(&mut index, root_reader, READER, &Scope::root());
    let read = Action::control(VM_READ);
    for target in [vm("rg1", "a"), vm("other", "b"), group("rg3"), scope(SUB)] {
        assert!(allowed(&index, sub_reader, &target, &read), "{target}");
        assert!(allowed(&index, root_reader, &target, &read), "{target}");
    }
    let elsewhere = scope(&format!("{OTHER_SUB}/resourceGroups/rg1"));
    assert!(!allowed(&index, sub_reader, &elsewhere, &read));
    assert!(allowed(&index, root_reader, &elsewhere, &read));
    assert!(allowed(&index, root_reader, &Scope::root(), &read));
}

#[test]
fn not_actions_only_narrow_their_own_role() {
    let mut index = AssignmentIndex::default();
    let bob = principal(1);
    let write_assignment = Action::control(ROLE_ASSIGNMENT_WRITE);
    let rg1 = group("rg1");
    assign(&mut index, bob, CONTRIBUTOR, &scope(SUB));
    assert!(allowed(&index, bob, &rg1, &Action::control(VM_WRITE)));
    let decision = index.check(bob, &rg1, &write_assignment);
    assert!(matches!(
        decision.into_result(),
        Err(DenyReason::NotGranted { assignments: 1 })
    ));

    assign(&mut index, bob, USER_ACCESS_ADMINISTRATOR, &rg1);
    let proof = index
        .check(bob, &rg1, &write_assignment)
        .into_result()
        .unwrap();
    assert_eq!(proof.role_name(), "User Access Administrator");
    assert!(
        !allowed(&index, bob, &group("rg2"), &write_assignment),
        "UAA is on rg1 only"
    );
}

#[test]
fn control_and_data_planes_are_separate() {
    let mut index = AssignmentIndex::default();
    let (owner, data_reader) = (principal(1), principal(2));
    let account = scope(&format!(
        "{SUB}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/sa1"
    ));
    assign(&mut index, owner, OWNER, &scope(SUB));
    assign(&mut index, data_reader, STORAGE_BLOB_DATA_READER, &account);
    let container = scope(&format!("{account}/blobServices/default/containers/c1"));

    assert!(allowed(
        &index,
        owner,
        &account,
        &Action::control("Microsoft.Storage/storageAccounts/listkeys/action")
    ));
    assert!(
        !allowed(&index, owner, &container, &Action::data(BLOB_READ)),
        "Owner has no data actions"
    );
    // The same string as a control-plane action is something else entirely.
    assert!(allowed(
        &index,
        owner,
        &container,
        &Action::control(BLOB_READ)
    ));

    assert!(allowed(
        &index,
        data_reader,
        &container,
        &Action::data(BLOB_READ)
    ));
    assert!(!allowed(
        &index,
        data_reader,
        &container,
        &Action::data(BLOB_WRITE)
    ));
    assert!(!allowed(
        &index,
        data_reader,
        &container,
        &Action::control(BLOB_READ)
    ));
}

#[test]
fn key_vault_secrets_user_reads_secrets_but_not_the_vault() {
    let mut index = AssignmentIndex::default();
    let app = principal(1);
    let vault = scope(&format!(
        "{SUB}/resourceGroups/rg1/providers/Microsoft.KeyVault/vaults/kv1"
    ));
    assign(&mut index, app, KEY_VAULT_SECRETS_USER, &vault);
    let secret = scope(&format!("{vault}/secrets/db-password"));
    assert!(allowed(
        &index,
        app,
        &secret,
        &Action::data("Microsoft.KeyVault/vaults/secrets/getSecret/action")
    ));
    assert!(allowed(
        &index,
        app,
        &vault,
        &Action::data("Microsoft.KeyVault/vaults/secrets/readMetadata/action")
    ));
    assert!(!allowed(
        &index,
        app,
        &secret,
        &Action::data("Microsoft.KeyVault/vaults/secrets/setSecret/action")
    ));
    assert!(!allowed(
        &index,
        app,
        &vault,
        &Action::control("Microsoft.KeyVault/vaults/read")
    ));
}

#[test]
fn managed_identity_operator_may_assign_the_identity() {
    let mut index = AssignmentIndex::default();
    let deployer = principal(1);
    let identity = scope(&format!(
        "{SUB}/resourceGroups/ids/providers/Microsoft.ManagedIdentity/userAssignedIdentities/app"
    ));
    assign(
        &mut index,
        deployer,
        MANAGED_IDENTITY_OPERATOR,
        &group("ids"),
    );
    let assign_action =
        Action::control("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action");
    assert!(allowed(&index, deployer, &identity, &assign_action));
    assert!(!allowed(
        &index,
        deployer,
        &identity,
        &Action::control("Microsoft.ManagedIdentity/userAssignedIdentities/write")
    ));
}

#[test]
fn removal_takes_effect_at_once() {
    let mut index = AssignmentIndex::default();
    let carol = principal(1);
    let id = assign(&mut index, carol, READER, &group("rg1"));
    let read = Action::control(VM_READ);
    assert!(allowed(&index, carol, &vm("rg1", "vm1"), &read));
    assert_eq!(index.remove(id).unwrap().id, id);
    assert!(matches!(
        index.check(carol, &vm("rg1", "vm1"), &read).into_result(),
        Err(DenyReason::NoAssignment)
    ));
    assert!(index.remove(id).is_none());
    assert!(index.is_empty());
}

#[test]
fn scopes_and_actions_compare_case_insensitively() {
    let mut index = AssignmentIndex::default();
    let dave = principal(1);
    assign(
        &mut index,
        dave,
        CONTRIBUTOR,
        &scope(&format!("{SUB}/resourceGroups/MyGroup")),
    );
    let target = scope(&format!(
        "{}/RESOURCEGROUPS/mygroup/providers/microsoft.compute/VIRTUALMACHINES/vm1",
        SUB.to_uppercase()
    ));
    assert!(allowed(
        &index,
        dave,
        &target,
        &Action::control("MICROSOFT.COMPUTE/virtualmachines/WRITE")
    ));
    // Contributor's `Microsoft.Authorization/*/Write` excludes a lower-case `write`.
    assert!(!allowed(
        &index,
        dave,
        &target,
        &Action::control("microsoft.authorization/roleassignments/write")
    ));
}

#[test]
fn the_proof_names_the_most_specific_assignment() {
    let mut index = AssignmentIndex::default();
    let erin = principal(1);
    assign(&mut index, erin, OWNER, &Scope::root());
    let near = assign(&mut index, erin, READER, &group("RG1"));
    let target = vm("rg1", "vm1");
    let read = Action::control(VM_READ);
    let proof = index.check(erin, &target, &read).into_result().unwrap();
    assert_eq!((proof.role_name(), proof.assignment_id()), ("Reader", near));
    assert_eq!(
        proof.assignment_scope().as_str(),
        format!("{SUB}/resourceGroups/RG1")
    );
    assert_eq!(
        proof.role_definition_id(),
        READER.parse::<RoleDefinitionId>().unwrap()
    );
    assert!(proof.covers(&target, &read));
    assert!(!proof.covers(&group("rg1"), &read));
    // A write is granted only by the farther Owner assignment.
    let write = Action::control(VM_WRITE);
    let owned = index
        .check(erin, &target, &write)
        .into_result()
        .unwrap()
        .into_owned();
    assert_eq!(
        (owned.role_name(), owned.assignment_scope()),
        ("Owner", &Scope::root())
    );
    assert_eq!(owned.principal(), erin);
}

#[test]
fn many_scopes_for_one_principal_use_lookups_with_the_same_answers() {
    let mut index = AssignmentIndex::default();
    let frank = principal(1);
    for i in 0..SCAN_LIMIT * 3 {
        assign(&mut index, frank, READER, &group(&format!("rg{i}")));
    }
    assign(&mut index, frank, OWNER, &vm("target", "vm1"));
    let write = Action::control(VM_WRITE);
    assert!(allowed(&index, frank, &vm("target", "vm1"), &write));
    assert!(allowed(
        &index,
        frank,
        &scope(&format!("{}/extensions/e1", vm("TARGET", "VM1"))),
        &write
    ));
    assert!(!allowed(&index, frank, &vm("target", "vm2"), &write));
    assert!(allowed(
        &index,
        frank,
        &vm("rg3", "x"),
        &Action::control(VM_READ)
    ));
    assert!(!allowed(&index, frank, &vm("rg3", "x"), &write));
    assert!(!allowed(
        &index,
        frank,
        &vm("rg1000", "x"),
        &Action::control(VM_READ)
    ));
    assert_eq!(index.assignments_of(frank).count(), SCAN_LIMIT * 3 + 1);
}
