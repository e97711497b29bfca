//! Property test of scope inheritance (house style rule 18): for random assignments over a
//! small scope tree, in random casing, the index agrees with a brute-force scan of every
//! assignment using `Scope::contains` and the role on its own, before and after removals.
//! Principals end up with both few and many scopes, so both lookup strategies are covered.

use azlite_authz::{
    Action, Assignment, AssignmentIndex, Inserted, RoleAssignmentId, RoleCatalog, builtin_roles,
};
use azlite_types::{ObjectId, Scope};
use proptest::prelude::*;

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

/// A tree with look-alike siblings (`rg1`/`rg10`), nested and extension resources.
fn scope_texts() -> Vec<String> {
    let rg1 = format!("{SUB}/resourceGroups/rg1");
    let rg10 = format!("{SUB}/resourceGroups/rg10");
    let vm = format!("{rg1}/providers/Microsoft.Compute/virtualMachines/vm1");
    let account = format!("{rg10}/providers/Microsoft.Storage/storageAccounts/sa1");
    vec![
        "/".to_owned(),
        SUB.to_owned(),
        "/subscriptions/00000000-0000-0000-0000-000000000002".to_owned(),
        format!("{SUB}/resourceGroups/rg"),
        rg1.clone(),
        rg10.clone(),
        vm.clone(),
        format!("{vm}/extensions/ext1"),
        format!("{rg1}/providers/Microsoft.Compute/virtualMachines/vm10"),
        account.clone(),
        format!("{account}/blobServices/default/containers/c1"),
        format!("{vm}/providers/Microsoft.Insights/diagnosticSettings/d1"),
        format!("{rg1}/providers/Microsoft.KeyVault/vaults/kv1"),
        format!("{rg1}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/uai1"),
    ]
}

fn actions() -> Vec<Action> {
    vec![
        Action::control("Microsoft.Compute/virtualMachines/read"),
        Action::control("Microsoft.Compute/virtualMachines/write"),
        Action::control("Microsoft.Authorization/roleAssignments/write"),
        Action::control("Microsoft.ManagedIdentity/userAssignedIdentities/assign/action"),
        Action::control("Microsoft.Storage/storageAccounts/listKeys/action"),
        Action::data("Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"),
        Action::data("Microsoft.KeyVault/vaults/secrets/getSecret/action"),
    ]
}

fn flip_case(text: &str, seed: u64) -> String {
    text.chars()
        .enumerate()
        .map(|(i, c)| {
            if seed >> (i % 64) & 1 == 1 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        })
        .collect()
}

fn principal(n: u8) -> ObjectId {
    ObjectId::from_uuid(uuid::Uuid::from_u128(u128::from(n) + 1))
}

/// (principal, role index, scope index, casing seed)
fn assignment_specs() -> impl Strategy<Value = Vec<(u8, usize, usize, u64)>> {
    let roles = builtin_roles().len();
    let scopes = scope_texts().len();
    prop::collection::vec((0u8..3, 0..roles, 0..scopes, any::<u64>()), 0..40)
}

fn brute_force(
    catalog: &RoleCatalog,
    assignments: &[Assignment],
    who: ObjectId,
    at: &Scope,
    action: &Action,
) -> bool {
    assignments.iter().any(|a| {
        a.principal_id == who
            && a.scope.contains(at)
            && catalog
                .get(a.role_definition_id)
                .is_some_and(|role| role.permits(action))
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_index_agrees_with_a_scan_of_every_assignment(specs in assignment_specs(), removals in prop::collection::vec(any::<bool>(), 40)) {
        let catalog = RoleCatalog::with_builtins();
        let texts = scope_texts();
        let mut index = AssignmentIndex::new(catalog.clone());
        let mut live: Vec<Assignment> = Vec::new();
        for (who, role, at, seed) in specs {
            let assignment = Assignment {
                id: RoleAssignmentId::new_random(),
                principal_id: principal(who),
                role_definition_id: builtin_roles()[role].id,
                scope: flip_case(&texts[at], seed).parse().unwrap(),
            };
            // Duplicated triples are refused; the reference keeps only what was accepted.
            if index.insert(assignment.clone()) == Ok(Inserted::Created) {
                live.push(assignment);
            }
        }
        let targets: Vec<Scope> = texts.iter().enumerate().map(|(i, t)| flip_case(t, i as u64 * 7919).parse().unwrap()).collect();
        for round in 0..2 {
            for who in 0..4 {
                for at in &targets {
                    for action in &actions() {
                        let decision = index.check(principal(who), at, action);
                        let expected = brute_force(&catalog, &live, principal(who), at, action);
                        prop_assert_eq!(decision.is_allowed(), expected, "round {} principal {} at {} {:?}", round, who, at, action);
                        if let Ok(proof) = decision.into_result() {
                            prop_assert!(proof.assignment_scope().contains(at));
                            let granting = index.get(proof.assignment_id()).unwrap();
                            prop_assert!(catalog.get(granting.role_definition_id).unwrap().permits(action));
                            // No applicable granting assignment sits at a more specific scope.
                            let depth = proof.assignment_scope().as_str().len();
                            prop_assert!(!live.iter().any(|a| a.principal_id == principal(who)
                                && a.scope.contains(at)
                                && a.scope.as_str().len() > depth
                                && catalog.get(a.role_definition_id).unwrap().permits(action)));
                        }
                    }
                }
            }
            // Remove a random half, then check again.
            let (gone, kept): (Vec<_>, Vec<_>) = live.into_iter().zip(removals.iter().cycle()).partition(|(_, r)| **r);
            for (assignment, _) in gone {
                prop_assert!(index.remove(assignment.id).is_some());
            }
            live = kept.into_iter().map(|(a, _)| a).collect();
            prop_assert_eq!(index.len(), live.len());
        }
    }
}
