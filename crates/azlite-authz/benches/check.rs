//! Cost of one RBAC check as the number of assignments in the cloud grows.
//!
//! The index holds 10, 10,000 or 100,000 assignments spread over many principals and
//! scopes; the principal under test has five of its own (Reader on the VM's group, Contributor
//! on another group, Managed Identity Operator on the subscription, and two data roles on a
//! storage account and a vault), and the check targets a VM. A check should cost the same at
//! every size, since it only looks at that principal's assignments.
//!
//! * `check_allow/{n}`: `virtualMachines/read`, granted by the Reader assignment.
//! * `check_deny/{n}`: `virtualMachines/write`, denied after every applicable role is tried.
//! * `check_allow_many_scopes/1000`: a principal with 1,000 assignment scopes of its own, so
//!   the ancestor lookup is used instead of the scan.
//!
//! Run with `cargo bench -p azlite-authz --bench check`.

use std::hint::black_box;
use std::time::Duration;

use azlite_authz::{
    Action, Assignment, AssignmentIndex, RoleAssignmentId, RoleDefinitionId, builtin_roles,
};
use azlite_types::{ObjectId, Scope};
use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use uuid::Uuid;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const MANAGED_IDENTITY_OPERATOR: &str = "f1a07417-d97a-45cb-824c-7a7467783830";
const STORAGE_BLOB_DATA_READER: &str = "2a2b9908-6ea1-4ae2-8e65-a410df84e7d1";
const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";

/// The principal under test; the others are numbered from 1,000,000 up.
fn subject() -> ObjectId {
    ObjectId::from_uuid(Uuid::from_u128(1))
}

fn scope(text: &str) -> Scope {
    text.parse().unwrap()
}

fn group(n: usize) -> String {
    format!("{SUB}/resourceGroups/rg-{n}")
}

fn target() -> Scope {
    scope(&format!(
        "{}/providers/Microsoft.Compute/virtualMachines/vm-0",
        group(0)
    ))
}

fn insert(index: &mut AssignmentIndex, who: ObjectId, role: RoleDefinitionId, at: Scope) {
    let assignment = Assignment {
        id: RoleAssignmentId::new_random(),
        principal_id: who,
        role_definition_id: role,
        scope: at,
    };
    index.insert(assignment).unwrap();
}

/// `total` assignments: the subject's five, the rest three per other principal over 997
/// groups, their VMs and storage accounts, with every built-in role.
fn index_with(total: usize) -> AssignmentIndex {
    let mut index = AssignmentIndex::default();
    let role = |id: &str| id.parse::<RoleDefinitionId>().unwrap();
    let account = format!(
        "{}/providers/Microsoft.Storage/storageAccounts/sa0",
        group(0)
    );
    let vault = format!("{}/providers/Microsoft.KeyVault/vaults/kv0", group(0));
    insert(&mut index, subject(), role(READER), scope(&group(0)));
    insert(&mut index, subject(), role(CONTRIBUTOR), scope(&group(1)));
    insert(
        &mut index,
        subject(),
        role(MANAGED_IDENTITY_OPERATOR),
        scope(SUB),
    );
    insert(
        &mut index,
        subject(),
        role(STORAGE_BLOB_DATA_READER),
        scope(&account),
    );
    insert(
        &mut index,
        subject(),
        role(KEY_VAULT_SECRETS_USER),
        scope(&vault),
    );
    let roles = builtin_roles();
    for k in 0..total.saturating_sub(5) {
        let who = ObjectId::from_uuid(Uuid::from_u128(1_000_000 + (k / 3) as u128));
        let rg = group(k % 997);
        let at = match k % 3 {
            0 => rg,
            1 => format!(
                "{rg}/providers/Microsoft.Compute/virtualMachines/vm-{}",
                k % 7
            ),
            _ => format!(
                "{rg}/providers/Microsoft.Storage/storageAccounts/sa{}",
                k % 5
            ),
        };
        insert(&mut index, who, roles[k % roles.len()].id, scope(&at));
    }
    assert_eq!(index.len(), total.max(5));
    index
}

fn bench_check(c: &mut Criterion) {
    let target = target();
    let read = Action::control("Microsoft.Compute/virtualMachines/read");
    let write = Action::control("Microsoft.Compute/virtualMachines/write");
    let mut benches = c.benchmark_group("check");
    benches
        .measurement_time(Duration::from_secs(2))
        .warm_up_time(Duration::from_millis(500));
    for total in [10, 10_000, 100_000] {
        let index = index_with(total);
        assert!(index.check(subject(), &target, &read).is_allowed());
        assert!(!index.check(subject(), &target, &write).is_allowed());
        benches.bench_with_input(BenchmarkId::new("allow", total), &index, |b, index| {
            b.iter(|| {
                black_box(
                    index
                        .check(black_box(subject()), black_box(&target), black_box(&read))
                        .is_allowed(),
                )
            })
        });
        benches.bench_with_input(BenchmarkId::new("deny", total), &index, |b, index| {
            b.iter(|| {
                black_box(
                    index
                        .check(black_box(subject()), black_box(&target), black_box(&write))
                        .is_allowed(),
                )
            })
        });
    }
    // One principal with 1,000 scopes of its own: the ancestor lookups instead of the scan.
    let mut index = index_with(10_000);
    for n in 2..1_002 {
        insert(
            &mut index,
            subject(),
            READER.parse().unwrap(),
            scope(&format!(
                "{}/providers/Microsoft.Storage/storageAccounts/x{n}",
                group(n)
            )),
        );
    }
    assert!(index.check(subject(), &target, &read).is_allowed());
    benches.bench_with_input(
        BenchmarkId::new("allow_many_scopes", 1_000),
        &index,
        |b, index| {
            b.iter(|| {
                black_box(
                    index
                        .check(black_box(subject()), black_box(&target), black_box(&read))
                        .is_allowed(),
                )
            })
        },
    );
    benches.finish();
}

criterion_group!(benches, bench_check);
criterion_main!(benches);
