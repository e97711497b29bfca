//! The checked-in role × operation matrix (house style rule 17): every built-in role against
//! a fixed list of the operations azlite enforces (reference §3.8) and a few neighbours. A
//! change to a role definition or to the matcher shows up as a diff of
//! `tests/golden/role_matrix.txt`.
//!
//! Regenerate after an intended change, then review the diff:
//! `AZLITE_BLESS=1 cargo test -p azlite-authz --test role_matrix`.

use std::fmt::Write as _;
use std::path::Path;

use azlite_authz::{
    Action, ActionKind, Assignment, AssignmentIndex, RoleAssignmentId, builtin_roles,
};
use azlite_types::{ObjectId, Scope};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

/// The operations of the matrix, grouped by service.
const OPERATIONS: &[(ActionKind, &str)] = &[
    // Resource groups and subscriptions.
    (
        ActionKind::Control,
        "Microsoft.Resources/subscriptions/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Resources/subscriptions/resourceGroups/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Resources/subscriptions/resourceGroups/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.Resources/subscriptions/resourceGroups/delete",
    ),
    // Virtual machines.
    (
        ActionKind::Control,
        "Microsoft.Compute/virtualMachines/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Compute/virtualMachines/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.Compute/virtualMachines/delete",
    ),
    (
        ActionKind::Control,
        "Microsoft.Compute/virtualMachines/start/action",
    ),
    // Authorization.
    (
        ActionKind::Control,
        "Microsoft.Authorization/roleAssignments/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Authorization/roleAssignments/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.Authorization/roleAssignments/delete",
    ),
    (
        ActionKind::Control,
        "Microsoft.Authorization/roleDefinitions/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.Authorization/elevateAccess/action",
    ),
    // User-assigned identities.
    (
        ActionKind::Control,
        "Microsoft.ManagedIdentity/userAssignedIdentities/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.ManagedIdentity/userAssignedIdentities/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
    ),
    (
        ActionKind::Control,
        "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action",
    ),
    // Storage accounts and containers (control plane).
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/write",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/listkeys/action",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/regeneratekey/action",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/listAccountSas/action",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/blobServices/containers/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.Storage/storageAccounts/blobServices/containers/write",
    ),
    // Blob data (ADLS Gen2 ACLs are the modifyPermissions data action).
    (
        ActionKind::Data,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
    ),
    (
        ActionKind::Data,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
    ),
    (
        ActionKind::Data,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
    ),
    (
        ActionKind::Data,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
    ),
    (
        ActionKind::Data,
        "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/modifyPermissions/action",
    ),
    // Key Vault (control plane).
    (ActionKind::Control, "Microsoft.KeyVault/vaults/read"),
    (ActionKind::Control, "Microsoft.KeyVault/vaults/write"),
    (
        ActionKind::Control,
        "Microsoft.KeyVault/vaults/secrets/read",
    ),
    (
        ActionKind::Control,
        "Microsoft.KeyVault/locations/deletedVaults/purge/action",
    ),
    // Key Vault secrets and keys (data plane).
    (
        ActionKind::Data,
        "Microsoft.KeyVault/vaults/secrets/getSecret/action",
    ),
    (
        ActionKind::Data,
        "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
    ),
    (
        ActionKind::Data,
        "Microsoft.KeyVault/vaults/secrets/setSecret/action",
    ),
    (ActionKind::Data, "Microsoft.KeyVault/vaults/secrets/delete"),
    (ActionKind::Data, "Microsoft.KeyVault/vaults/keys/read"),
    // Data Lake Store Gen1 accounts (its data plane uses POSIX ACLs, not RBAC: §2.7).
    (ActionKind::Control, "Microsoft.DataLakeStore/accounts/read"),
    (
        ActionKind::Control,
        "Microsoft.DataLakeStore/accounts/write",
    ),
];

/// Evaluates the matrix through the whole index: one principal per role, assigned at the
/// subscription, each operation checked at a resource group below it.
fn render() -> String {
    let mut index = AssignmentIndex::default();
    let subscription: Scope = SUB.parse().unwrap();
    let target: Scope = format!("{SUB}/resourceGroups/rg1").parse().unwrap();
    let mut out = String::from(
        "# Built-in role x operation -> verdict, as azlite-authz evaluates them.\n\
         # Each role is assigned at a subscription and checked at a resource group below it.\n\
         # Regenerate: AZLITE_BLESS=1 cargo test -p azlite-authz --test role_matrix\n",
    );
    for (n, role) in builtin_roles().iter().enumerate() {
        let principal = ObjectId::from_uuid(uuid::Uuid::from_u128(n as u128 + 1));
        let assignment = Assignment {
            id: RoleAssignmentId::new_random(),
            principal_id: principal,
            role_definition_id: role.id,
            scope: subscription.clone(),
        };
        index.insert(assignment).unwrap();
        writeln!(out, "\n## {} {}", role.name, role.id).unwrap();
        for (kind, operation) in OPERATIONS {
            let action = Action::new(*kind, operation);
            let verdict = if index.check(principal, &target, &action).is_allowed() {
                "allow"
            } else {
                "deny"
            };
            writeln!(out, "{verdict:<5}  {kind:<10}  {operation}").unwrap();
        }
    }
    out
}

#[test]
fn role_matrix_matches_the_golden_file() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/role_matrix.txt");
    let actual = render();
    if std::env::var_os("AZLITE_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}; generate it with AZLITE_BLESS=1", path.display()));
    if actual != expected {
        let mut role = "";
        let mut diff = String::new();
        for (want, got) in expected.lines().zip(actual.lines()) {
            if want.starts_with("## ") {
                role = want;
            }
            if want != got {
                writeln!(diff, "{role}\n  golden: {want}\n  now:    {got}").unwrap();
            }
        }
        panic!(
            "the role matrix changed ({} vs {} lines); if intended, rerun with AZLITE_BLESS=1 and \
             review the diff:\n{diff}",
            expected.lines().count(),
            actual.lines().count()
        );
    }
}

/// Spot checks that hold whatever the golden file says, so that blessing cannot enshrine a
/// regression in the facts the reference states outright.
#[test]
fn the_matrix_states_what_the_reference_says() {
    let matrix = render();
    let verdict = |role: &str, operation: &str| -> &str {
        let section = matrix
            .split("\n## ")
            .find(|s| s.starts_with(&format!("{role} ")))
            .unwrap();
        let line = section
            .lines()
            .find(|l| l.ends_with(&format!(" {operation}")))
            .unwrap();
        line.split_whitespace().next().unwrap()
    };
    let blob_read = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read";
    let blob_write = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write";
    let assignment_write = "Microsoft.Authorization/roleAssignments/write";
    assert_eq!(
        verdict("Reader", "Microsoft.Compute/virtualMachines/read"),
        "allow"
    );
    assert_eq!(
        verdict("Reader", "Microsoft.Compute/virtualMachines/write"),
        "deny"
    );
    assert_eq!(
        verdict("Contributor", "Microsoft.Compute/virtualMachines/write"),
        "allow"
    );
    assert_eq!(verdict("Contributor", assignment_write), "deny");
    assert_eq!(verdict("Owner", assignment_write), "allow");
    assert_eq!(
        verdict("User Access Administrator", assignment_write),
        "allow"
    );
    assert_eq!(verdict("Owner", blob_read), "deny");
    assert_eq!(verdict("Storage Blob Data Reader", blob_read), "allow");
    assert_eq!(verdict("Storage Blob Data Reader", blob_write), "deny");
    assert_eq!(
        verdict("Storage Blob Data Contributor", blob_write),
        "allow"
    );
    assert_eq!(
        verdict(
            "Key Vault Secrets User",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ),
        "allow"
    );
    assert_eq!(
        verdict(
            "Key Vault Secrets User",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action"
        ),
        "allow"
    );
    assert_eq!(
        verdict("Key Vault Secrets User", "Microsoft.KeyVault/vaults/read"),
        "deny"
    );
    assert_eq!(
        verdict(
            "Key Vault Reader",
            "Microsoft.KeyVault/vaults/secrets/getSecret/action"
        ),
        "deny"
    );
    assert_eq!(
        verdict(
            "Managed Identity Operator",
            "Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"
        ),
        "allow"
    );
    assert_eq!(
        verdict(
            "Virtual Machine Contributor",
            "Microsoft.Storage/storageAccounts/listkeys/action"
        ),
        "allow"
    );
}
