//! Checks of the cascading [`Deletion`]s of groups and resources, and of deletions and
//! inserts in one batch.
//!
//! "At or below" is by whole segments, case-insensitively: `rg1` does not contain `rg10`
//! (reference §3.3), and a name is text, never a pattern (`rg_1` does not contain `rgx1`).

use azlite_types::{ObjectId, ResourceId, SubscriptionId};
use uuid::Uuid;

use super::arm::{apply, id, ids, listed};
use super::fixtures::{
    T0, assert_conflict, child_resource, resource, resource_group, role_assignment,
};
use crate::{Deletion, RoleAssignmentRecord, Store, WriteBatch};

const VM: &str = "Microsoft.Compute/virtualMachines";

/// Whether the assignment is still stored.
async fn kept(store: &dyn Store, assignment: &RoleAssignmentRecord) -> bool {
    let got = store.get_role_assignment(assignment.id).await;
    got.expect("get_role_assignment").is_some()
}

/// Deleting a group removes the group, its resources (children included) and every
/// assignment at or below it; not a group whose name extends its name (`rg1`, `rg10`), not
/// the subscription's assignments, not a same-named group in another subscription.
pub async fn resource_group_deletion(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let other_sub = SubscriptionId::new_random();
    let principal = ObjectId::new_random();
    let rg1 = resource_group(sub, "rg1", T0);
    let rg10 = resource_group(sub, "rg10", T0);
    let twin = resource_group(other_sub, "rg1", T0);
    let vm1 = resource(&rg1, VM, "vm", T0);
    let extension = child_resource(&vm1, "extensions", "ext", T0);
    let vm10 = resource(&rg10, VM, "vm", T0);
    let twin_vm = resource(&twin, VM, "vm", T0);
    let group_scope = |sub, name| ResourceId::resource_group(sub, name);
    let at = |scope: &ResourceId| role_assignment(scope, principal, T0);
    let (at_sub, at_rg1, at_vm1, at_extension) = (
        at(&ResourceId::subscription(sub)),
        at(&group_scope(sub, "RG1")),
        at(&vm1.id),
        at(&extension.id),
    );
    let (at_rg10, at_vm10, at_twin) =
        (at(&group_scope(sub, "rg10")), at(&vm10.id), at(&twin_vm.id));
    let batch = WriteBatch {
        resource_groups: vec![rg1.clone(), rg10.clone(), twin.clone()],
        resources: vec![
            vm1.clone(),
            extension.clone(),
            vm10.clone(),
            twin_vm.clone(),
        ],
        role_assignments: vec![
            at_sub.clone(),
            at_rg1.clone(),
            at_vm1.clone(),
            at_extension.clone(),
            at_rg10.clone(),
            at_vm10.clone(),
            at_twin.clone(),
        ],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert two groups and a twin").await;

    let batch = WriteBatch {
        deletions: vec![Deletion::ResourceGroup {
            subscription: sub,
            name: "RG1".to_owned(),
        }],
        ..WriteBatch::default()
    };
    apply(store, batch, "delete rg1 (another casing)").await;
    let got = store.get_resource_group(sub, "rg1").await.expect("get");
    assert_eq!(got, None, "the group is gone");
    for gone in [&vm1, &extension] {
        let got = store.get_resource(&gone.id).await.expect("get");
        assert_eq!(got, None, "{} went with its group", gone.id);
    }
    assert!(listed(store, sub, Some("rg1"), None).await.is_empty());
    for gone in [&at_rg1, &at_vm1, &at_extension] {
        assert!(
            !kept(store, gone).await,
            "assignment at {} removed",
            gone.scope
        );
    }
    let got = store.get_resource_group(sub, "rg10").await.expect("get");
    assert_eq!(got, Some(rg10), "rg10 is not inside rg1");
    assert_eq!(
        listed(store, sub, None, None).await,
        ids(&[&vm10]),
        "rg10's resource stays"
    );
    for stays in [&at_sub, &at_rg10, &at_vm10, &at_twin] {
        assert!(
            kept(store, stays).await,
            "assignment at {} kept",
            stays.scope
        );
    }
    let got = store
        .get_resource_group(other_sub, "rg1")
        .await
        .expect("get");
    assert_eq!(
        got,
        Some(twin),
        "the same name in another subscription stays"
    );
    assert_eq!(listed(store, other_sub, None, None).await, ids(&[&twin_vm]));

    let batch = WriteBatch {
        deletions: vec![Deletion::ResourceGroup {
            subscription: sub,
            name: "rg1".to_owned(),
        }],
        ..WriteBatch::default()
    };
    apply(store, batch, "deleting a missing group is not an error").await;
}

/// Deleting a resource removes it, the resources below it (children, grandchildren) and the
/// assignments at or below it; not a sibling whose name extends its name, not its group,
/// not its parent when it is a child.
pub async fn resource_deletion(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let principal = ObjectId::new_random();
    let group = resource_group(sub, "rg", T0);
    let vm1 = resource(&group, VM, "vm1", T0);
    let extension = child_resource(&vm1, "extensions", "ext", T0);
    let setting = child_resource(&extension, "settings", "s", T0);
    let vm10 = resource(&group, VM, "vm10", T0);
    let vm10_extension = child_resource(&vm10, "extensions", "ext", T0);
    let at = |scope: &ResourceId| role_assignment(scope, principal, T0);
    let group_id = ResourceId::resource_group(sub, "rg");
    let (at_group, at_vm1, at_setting, at_vm10) =
        (at(&group_id), at(&vm1.id), at(&setting.id), at(&vm10.id));
    let all = [&vm1, &extension, &setting, &vm10, &vm10_extension];
    let batch = WriteBatch {
        resource_groups: vec![group.clone()],
        resources: all.iter().map(|r| (*r).clone()).collect(),
        role_assignments: vec![
            at_group.clone(),
            at_vm1.clone(),
            at_setting.clone(),
            at_vm10.clone(),
        ],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert resources with children").await;

    let batch = WriteBatch {
        deletions: vec![Deletion::Resource(id(&vm1.id.to_string().to_uppercase()))],
        ..WriteBatch::default()
    };
    apply(store, batch, "delete vm1 (another casing)").await;
    let got = listed(store, sub, None, None).await;
    assert_eq!(
        got,
        ids(&[&vm10, &vm10_extension]),
        "vm1 and what is below it are gone"
    );
    assert!(!kept(store, &at_vm1).await, "the assignment at vm1 is gone");
    assert!(
        !kept(store, &at_setting).await,
        "the assignment below vm1 is gone"
    );
    assert!(kept(store, &at_vm10).await, "vm10 is not below vm1");
    assert!(kept(store, &at_group).await, "the group is above vm1");
    let got = store.get_resource_group(sub, "rg").await.expect("get");
    assert_eq!(got, Some(group), "the group stays");

    let batch = WriteBatch {
        deletions: vec![
            Deletion::Resource(vm10_extension.id.clone()),
            Deletion::Resource(vm1.id.clone()),
        ],
        ..WriteBatch::default()
    };
    apply(store, batch, "delete a child, and a resource that is gone").await;
    assert_eq!(
        listed(store, sub, None, None).await,
        ids(&[&vm10]),
        "the parent stays"
    );
    assert!(kept(store, &at_vm10).await, "the parent's assignment stays");
}

/// A batch applies its deletions before its inserts: a group deleted and created again in
/// one batch is a new group with only the new batch's resources; a conflict in the inserts
/// undoes the deletions too.
pub async fn deletions_before_inserts(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let principal = ObjectId::new_random();
    let old = resource_group(sub, "Recreated", T0);
    let old_vm = resource(&old, VM, "old", T0);
    let old_assignment =
        role_assignment(&ResourceId::resource_group(sub, "Recreated"), principal, T0);
    let batch = WriteBatch {
        resource_groups: vec![old.clone()],
        resources: vec![old_vm.clone()],
        role_assignments: vec![old_assignment.clone()],
        ..WriteBatch::default()
    };
    apply(store, batch, "insert the first group").await;

    let new = resource_group(sub, "RECREATED", T0 + 100);
    let new_vm = resource(&new, VM, "new", T0 + 100);
    let new_assignment = role_assignment(
        &ResourceId::resource_group(sub, "RECREATED"),
        principal,
        T0 + 100,
    );
    let recreate = WriteBatch {
        deletions: vec![Deletion::ResourceGroup {
            subscription: sub,
            name: "recreated".to_owned(),
        }],
        resource_groups: vec![new.clone()],
        resources: vec![new_vm.clone()],
        role_assignments: vec![new_assignment.clone()],
        ..WriteBatch::default()
    };
    let mut failing = recreate.clone();
    failing
        .deletions
        .push(Deletion::RoleAssignment(Uuid::new_v4()));
    failing.role_assignments.push(new_assignment.clone());
    assert_conflict(
        store.apply(failing).await,
        "a batch that repeats its own assignment",
    );
    let got = store
        .get_resource_group(sub, "recreated")
        .await
        .expect("get");
    assert_eq!(
        got,
        Some(old.clone()),
        "the deletion is undone with the batch"
    );
    assert_eq!(listed(store, sub, None, None).await, ids(&[&old_vm]));
    assert!(
        kept(store, &old_assignment).await,
        "the assignment is back too"
    );

    apply(store, recreate, "delete and recreate in one batch").await;
    let got = store
        .get_resource_group(sub, "recreated")
        .await
        .expect("get");
    assert_eq!(got, Some(new), "a new group: new casing, new created_at");
    assert_eq!(
        listed(store, sub, Some("Recreated"), None).await,
        ids(&[&new_vm]),
        "only the new resource"
    );
    assert!(
        !kept(store, &old_assignment).await,
        "the old group's assignment is gone"
    );
    assert!(
        kept(store, &new_assignment).await,
        "the new one, at the same scope, is there"
    );

    let mut again = new_assignment.clone();
    again.description = Some("replaced".to_owned());
    let batch = WriteBatch {
        deletions: vec![Deletion::RoleAssignment(new_assignment.id)],
        role_assignments: vec![again.clone()],
        ..WriteBatch::default()
    };
    apply(
        store,
        batch,
        "delete and insert one assignment id in one batch",
    )
    .await;
    let got = store.get_role_assignment(again.id).await.expect("get");
    assert_eq!(got, Some(again));
}

/// Names are text, not patterns: `_` and `%` in a group or resource name match only
/// themselves, in lookups, list filters and cascades.
pub async fn names_are_not_patterns(store: &dyn Store) {
    let sub = SubscriptionId::new_random();
    let principal = ObjectId::new_random();
    let names = ["rg_1", "rgx1", "rg%", "rgzz"];
    let groups: Vec<_> = names.iter().map(|n| resource_group(sub, n, T0)).collect();
    let vms: Vec<_> = groups.iter().map(|g| resource(g, VM, "v_", T0)).collect();
    let siblings: Vec<_> = groups.iter().map(|g| resource(g, VM, "vx", T0)).collect();
    let children: Vec<_> = siblings
        .iter()
        .map(|s| child_resource(s, "extensions", "e", T0))
        .collect();
    let mut assignments = Vec::new();
    for name in names {
        let scope = ResourceId::resource_group(sub, name);
        assignments.push(role_assignment(&scope, principal, T0));
    }
    for resource in vms.iter().chain(&siblings).chain(&children) {
        assignments.push(role_assignment(&resource.id, principal, T0));
    }
    let batch = WriteBatch {
        resource_groups: groups.clone(),
        resources: vms
            .iter()
            .chain(&siblings)
            .chain(&children)
            .cloned()
            .collect(),
        role_assignments: assignments.clone(),
        ..WriteBatch::default()
    };
    apply(store, batch, "insert groups with wildcard characters").await;

    let got = store.get_resource_group(sub, "rgX1").await.expect("get");
    assert_eq!(got.as_ref(), Some(&groups[1]));
    let got = store.get_resource_group(sub, "rg_").await.expect("get");
    assert_eq!(got, None, "'_' is not a pattern");
    let got = listed(store, sub, Some("rg_1"), None).await;
    assert_eq!(
        got,
        ids(&[&vms[0], &siblings[0], &children[0]]),
        "the filter is exact"
    );

    let batch = WriteBatch {
        deletions: vec![
            Deletion::ResourceGroup {
                subscription: sub,
                name: "rg_1".to_owned(),
            },
            Deletion::ResourceGroup {
                subscription: sub,
                name: "rg%".to_owned(),
            },
            Deletion::Resource(vms[1].id.clone()),
        ],
        ..WriteBatch::default()
    };
    apply(store, batch, "delete rg_1, rg% and rgx1's v_").await;
    let left: Vec<_> = store.list_resource_groups(sub).await.expect("list");
    let left: Vec<&str> = left.iter().map(|g| g.name.as_str()).collect();
    assert_eq!(left, ["rgx1", "rgzz"], "only the named groups are gone");
    let got = listed(store, sub, None, None).await;
    let expected = ids(&[
        &vms[3],
        &siblings[1],
        &siblings[3],
        &children[1],
        &children[3],
    ]);
    assert_eq!(
        got, expected,
        "v_ is not a pattern for vx, nor rg% for rgzz"
    );
    let left = store
        .list_role_assignments_for_principal(principal)
        .await
        .expect("list");
    let expected = [
        &assignments[1],  // rgx1
        &assignments[3],  // rgzz
        &assignments[7],  // rgzz/v_
        &assignments[9],  // rgx1/vx
        &assignments[11], // rgzz/vx
        &assignments[13], // rgx1/vx/e
        &assignments[15], // rgzz/vx/e
    ];
    let expected: Vec<Uuid> = expected.iter().map(|a| a.id).collect();
    let left: Vec<Uuid> = left.iter().map(|a| a.id).collect();
    assert_eq!(
        left, expected,
        "the assignments outside the deleted scopes stay"
    );
}
