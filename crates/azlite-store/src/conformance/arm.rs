//! Checks of [`crate::ArmStore`]: resource groups, resources and role assignments as they are
//! written and read back. The cascading deletions are in `arm_deletion`.
//!
//! ARM compares names and ids case-insensitively and keeps the casing most recently written
//! (reference §1.2); the checks write one casing and read with others.

use std::collections::BTreeMap;

use azlite_types::{ObjectId, ResourceId, SubscriptionId};
use uuid::Uuid;

use super::fixtures::{
    T0, assert_conflict, child_resource, resource, resource_group, role_assignment,
};
use crate::{Deletion, Resource, Store, WriteBatch};

/// Applies `batch`, panicking with `what` on failure.
pub(super) async fn apply(store: &dyn Store, batch: WriteBatch, what: &str) {
    if let Err(e) = store.apply(batch).await {
        panic!("{what}: {e:?}");
    }
}

/// The ids of the resources `list_resources` returns for these filters, in its order.
pub(super) async fn listed(
    store: &dyn Store,
    subscription: SubscriptionId,
    group: Option<&str>,
    resource_type: Option<&str>,
) -> Vec<String> {
    let resources = store
        .list_resources(subscription, group, resource_type)
        .await
        .expect("list_resources");
    resources.iter().map(|r| r.id.to_string()).collect()
}

/// The ids of `resources`, as `listed` gives them.
pub(super) fn ids(resources: &[&Resource]) -> Vec<String> {
    resources.iter().map(|r| r.id.to_string()).collect()
}

/// Parses an id the checks built.
pub(super) fn id(text: &str) -> ResourceId {
    text.parse().expect("a well-formed id")
}

/// Resource groups are found by name in any case, listed per subscription oldest first, and
/// an upsert replaces a group in place: new casing and fields, first `created_at`.
pub async fn resource_groups(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let other_sub = SubscriptionId::new_random();
    let a = resource_group(sub, "Conformance-A", T0 + 10);
    let b = resource_group(sub, "conformance-b", T0);
    let c = resource_group(sub, "C", T0 + 10);
    let elsewhere = resource_group(other_sub, "Conformance-A", T0);
    let batch = WriteBatch {
        resource_groups: vec![a.clone(), b.clone(), c.clone(), elsewhere.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert groups").await;

    for name in ["Conformance-A", "conformance-a", "CONFORMANCE-A"] {
        let got = store.get_resource_group(sub, name).await.expect("get");
        assert_eq!(
            got.as_ref(),
            Some(&a),
            "group {name}, any case, casing kept"
        );
    }
    let got = store.get_resource_group(other_sub, "conformance-a").await;
    assert_eq!(
        got.expect("get"),
        Some(elsewhere.clone()),
        "per subscription"
    );
    let got = store.get_resource_group(sub, "Conformance").await;
    assert_eq!(got.expect("get"), None, "names match whole");
    let listed = store.list_resource_groups(sub).await.expect("list");
    assert_eq!(
        listed,
        [b.clone(), a.clone(), c.clone()],
        "oldest first, then insertion order"
    );

    let replaced = crate::ResourceGroup {
        name: "CONFORMANCE-a".to_owned(),
        location: "westeurope".to_owned(),
        tags: BTreeMap::new(),
        managed_by: Some(format!("/subscriptions/{sub}/resourceGroups/x")),
        created_at: T0 + 99,
        updated_at: T0 + 100,
        ..a.clone()
    };
    let first_try = crate::ResourceGroup {
        location: "northeurope".to_owned(),
        ..replaced.clone()
    };
    let batch = WriteBatch {
        resource_groups: vec![first_try, replaced.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "upsert a group twice in one batch").await;
    let expected = crate::ResourceGroup {
        created_at: a.created_at,
        ..replaced
    };
    let got = store.get_resource_group(sub, "conformance-A").await;
    assert_eq!(
        got.expect("get"),
        Some(expected.clone()),
        "an upsert takes the new casing and fields (the last in a batch) and keeps created_at"
    );
    let listed = store.list_resource_groups(sub).await.expect("list");
    assert_eq!(
        listed,
        [b, expected, c],
        "a replaced group keeps its place and is not listed twice"
    );
    let listed = store.list_resource_groups(other_sub).await.expect("list");
    assert_eq!(
        listed,
        [elsewhere],
        "the other subscription's group is untouched"
    );
    let listed = store
        .list_resource_groups(SubscriptionId::new_random())
        .await;
    assert!(listed.expect("list").is_empty(), "an unknown subscription");
}

/// Resources round-trip (tags and body as JSON), are found by id in any case, listed oldest
/// first with child resources, filtered by group and by whole type in any case, and an
/// upsert replaces a resource in place with the new casing of its id.
pub async fn resources(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let group1 = resource_group(sub, "Group1", T0);
    let group2 = resource_group(sub, "Group2", T0);
    let mut vm1 = resource(&group1, "Microsoft.Compute/virtualMachines", "Vm1", T0 + 1);
    vm1.tags = BTreeMap::from([("a".to_owned(), "b".to_owned())]);
    let vault = resource(&group1, "Microsoft.KeyVault/vaults", "kv", T0 + 1);
    let extension = child_resource(&vm1, "extensions", "ext", T0 + 2);
    let vm2 = resource(&group2, "Microsoft.Compute/virtualMachines", "vm2", T0);
    let batch = WriteBatch {
        resource_groups: vec![group1, group2],
        resources: vec![vm1.clone(), vault.clone(), extension.clone(), vm2.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert resources").await;

    for text in [vm1.id.to_string(), vm1.id.to_string().to_uppercase()] {
        let got = store.get_resource(&id(&text)).await.expect("get");
        let got = got.unwrap_or_else(|| panic!("{text} (any case)"));
        assert_eq!(got, vm1, "round-trip");
        assert_eq!(got.id.as_str(), vm1.id.as_str(), "the id keeps its casing");
    }
    let got = store.get_resource(&extension.id).await.expect("get");
    assert_eq!(got, Some(extension.clone()), "a child resource");
    let parent = id(&format!("{}/providers/Microsoft.Compute", vm1.id));
    let got = store.get_resource(&parent).await.expect("get");
    assert_eq!(got, None, "an id below a resource is not the resource");

    let all = [&vm2, &vm1, &vault, &extension];
    assert_eq!(
        listed(store, sub, None, None).await,
        ids(&all),
        "oldest first"
    );
    let in_group1 = ids(&[&vm1, &vault, &extension]);
    for group in ["Group1", "group1", "GROUP1"] {
        let got = listed(store, sub, Some(group), None).await;
        assert_eq!(got, in_group1, "group filter {group}");
    }
    let vms = ids(&[&vm2, &vm1]);
    for ty in [
        "Microsoft.Compute/virtualMachines",
        "microsoft.compute/VIRTUALMACHINES",
    ] {
        assert_eq!(listed(store, sub, None, Some(ty)).await, vms, "type {ty}");
    }
    let extension_type = "microsoft.compute/virtualmachines/EXTENSIONS";
    let got = listed(store, sub, Some("group1"), Some(extension_type)).await;
    assert_eq!(got, ids(&[&extension]), "both filters");
    let got = listed(store, sub, Some("group2"), Some(extension_type)).await;
    assert!(got.is_empty(), "both filters must hold");
    let got = listed(store, sub, None, Some("Microsoft.Compute")).await;
    assert!(got.is_empty(), "a type matches whole, not as a prefix");
    let got = listed(store, sub, Some("Group"), None).await;
    assert!(got.is_empty(), "a group matches whole");
    let got = listed(store, SubscriptionId::new_random(), None, None).await;
    assert!(got.is_empty(), "another subscription");

    let recased = vm1
        .id
        .to_string()
        .replace("resourceGroups/Group1", "resourcegroups/GROUP1")
        .replace("Vm1", "VM1");
    let replacement = Resource {
        id: id(&recased),
        name: "VM1".to_owned(),
        body: serde_json::json!({"properties": {"hardwareProfile": {"vmSize": "B1s"}}}),
        tags: BTreeMap::new(),
        created_at: T0 + 50,
        updated_at: T0 + 51,
        ..vm1.clone()
    };
    let batch = WriteBatch {
        resources: vec![replacement.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "upsert a resource").await;
    let got = store.get_resource(&vm1.id).await.expect("get");
    let got = got.expect("the replaced resource, by its old casing");
    assert_eq!(got.id.as_str(), recased, "the new casing of the id");
    assert_eq!(
        got,
        Resource {
            created_at: vm1.created_at,
            ..replacement
        },
        "new fields, first created_at"
    );
    let mut expected = ids(&all);
    expected[1] = recased;
    let got = listed(store, sub, None, None).await;
    assert_eq!(got, expected, "a replaced resource keeps its place");
}

/// Role assignments round-trip, are listed oldest first (all, or one principal's), keep
/// their scope's casing, and are unique by id and by (scope, role, principal), the scope
/// compared case-insensitively. A conflict leaves nothing of its batch.
pub async fn role_assignments(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let group = resource_group(sub, "Assigned", T0);
    let vm = resource(&group, "Microsoft.Compute/virtualMachines", "vm", T0);
    let (alice, bob) = (ObjectId::new_random(), ObjectId::new_random());
    let at_sub = role_assignment(&ResourceId::subscription(sub), alice, T0 + 1);
    let at_group = role_assignment(
        &id(&format!("/SUBSCRIPTIONS/{sub}/resourcegroups/ASSIGNED")),
        alice,
        T0,
    );
    let mut at_vm = role_assignment(&vm.id, bob, T0 + 1);
    at_vm.description = None;
    at_vm.created_by = None;
    let batch = WriteBatch {
        role_assignments: vec![at_sub.clone(), at_group.clone(), at_vm.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert assignments").await;

    for assignment in [&at_sub, &at_group, &at_vm] {
        let got = store.get_role_assignment(assignment.id).await.expect("get");
        let got = got.expect("a stored assignment");
        assert_eq!(&got, assignment, "round-trip");
        assert_eq!(
            got.scope.as_str(),
            assignment.scope.as_str(),
            "scope casing kept"
        );
    }
    let got = store.get_role_assignment(Uuid::new_v4()).await;
    assert_eq!(got.expect("get"), None, "an unknown id");
    let ours = [at_sub.id, at_group.id, at_vm.id];
    let all = store.list_role_assignments().await.expect("list");
    let listed: Vec<Uuid> = all
        .iter()
        .map(|a| a.id)
        .filter(|id| ours.contains(id))
        .collect();
    assert_eq!(listed, [at_group.id, at_sub.id, at_vm.id], "oldest first");
    let of_alice = store.list_role_assignments_for_principal(alice).await;
    assert_eq!(of_alice.expect("list"), [at_group.clone(), at_sub.clone()]);
    let of_bob = store.list_role_assignments_for_principal(bob).await;
    assert_eq!(of_bob.expect("list"), [at_vm.clone()]);
    let of_nobody = store
        .list_role_assignments_for_principal(ObjectId::new_random())
        .await;
    assert!(of_nobody.expect("list").is_empty());

    // A conflict in the last write leaves the batch's group, resource and assignment out.
    let innocent = role_assignment(&vm.id, alice, T0);
    let mut same_id = role_assignment(&ResourceId::subscription(sub), bob, T0);
    same_id.id = at_sub.id;
    let batch = WriteBatch {
        resource_groups: vec![group.clone()],
        resources: vec![vm.clone()],
        role_assignments: vec![innocent.clone(), same_id],
        ..WriteBatch::default()
    };
    assert_conflict(store.apply(batch).await, "a taken assignment id");
    let got = store
        .get_resource_group(sub, &group.name)
        .await
        .expect("get");
    assert_eq!(got, None, "no group from the failed batch");
    assert_eq!(
        store.get_resource(&vm.id).await.expect("get"),
        None,
        "no resource"
    );
    let got = store.get_role_assignment(innocent.id).await.expect("get");
    assert_eq!(got, None, "no assignment from the failed batch");
    let got = store.get_role_assignment(at_sub.id).await.expect("get");
    assert_eq!(
        got,
        Some(at_sub.clone()),
        "the first holder of the id is untouched"
    );

    // ARM's RoleAssignmentExists: the same triple under another name (reference §3.6).
    let mut same_triple = role_assignment(&id(&vm.id.to_string().to_uppercase()), bob, T0);
    same_triple.role_definition_id = at_vm.role_definition_id;
    let batch = WriteBatch {
        role_assignments: vec![same_triple.clone()],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "the same scope, role and principal",
    );
    let mut other_role = same_triple.clone();
    other_role.id = Uuid::new_v4();
    other_role.role_definition_id = Uuid::new_v4();
    let mut other_principal = same_triple.clone();
    other_principal.id = Uuid::new_v4();
    other_principal.principal_id = alice;
    let batch = WriteBatch {
        role_assignments: vec![other_role, other_principal],
        ..WriteBatch::default()
    };
    apply(
        store,
        batch,
        "another role, or another principal, at the same scope",
    )
    .await;

    let batch = WriteBatch {
        deletions: vec![
            Deletion::RoleAssignment(at_vm.id),
            Deletion::RoleAssignment(Uuid::new_v4()),
        ],
        ..WriteBatch::default()
    };
    apply(
        store,
        batch,
        "delete an assignment (and one that does not exist)",
    )
    .await;
    assert_eq!(
        store.get_role_assignment(at_vm.id).await.expect("get"),
        None,
        "deleted"
    );
    let batch = WriteBatch {
        role_assignments: vec![same_triple.clone()],
        ..WriteBatch::default()
    };
    apply(
        store,
        batch,
        "the triple is free once its assignment is deleted",
    )
    .await;
    let got = store
        .get_role_assignment(same_triple.id)
        .await
        .expect("get");
    assert_eq!(got, Some(same_triple));
}

/// A global name finds its resources in every subscription, in any case, oldest first, and
/// only of the type asked: the lookup behind `<vault>.vault.azure.net`.
pub async fn resources_by_name(store: &dyn Store) {
    let name = format!("Kv{}", Uuid::new_v4().simple());
    let group1 = resource_group(SubscriptionId::new_random(), "G1", T0);
    let group2 = resource_group(SubscriptionId::new_random(), "G2", T0);
    let first = resource(&group2, "Microsoft.KeyVault/vaults", &name, T0);
    let second = resource(
        &group1,
        "Microsoft.KeyVault/vaults",
        &name.to_uppercase(),
        T0 + 1,
    );
    let other_type = resource(&group1, "Microsoft.Storage/storageAccounts", &name, T0);
    let other_name = resource(
        &group1,
        "Microsoft.KeyVault/vaults",
        &format!("{name}x"),
        T0,
    );
    let batch = WriteBatch {
        resource_groups: vec![group1, group2],
        resources: vec![second.clone(), first.clone(), other_type, other_name],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert resources").await;

    for (ty, wanted) in [
        ("Microsoft.KeyVault/vaults", name.to_lowercase()),
        ("MICROSOFT.KEYVAULT/VAULTS", name.clone()),
    ] {
        let found = store.find_resources_by_name(ty, &wanted).await;
        let found = found.expect("find_resources_by_name");
        assert_eq!(found, vec![first.clone(), second.clone()], "{ty} {wanted}");
    }
    let found = store
        .find_resources_by_name("Microsoft.KeyVault/vaults", "Kv%")
        .await;
    assert!(found.expect("find").is_empty(), "a name is not a pattern");
    let found = store
        .find_resources_by_name("Microsoft.KeyVault", &name)
        .await;
    assert!(found.expect("find").is_empty(), "a type matches whole");
}
