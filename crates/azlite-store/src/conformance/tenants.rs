//! Checks of tenants, subscriptions and users.

use azlite_types::{ObjectId, SubscriptionId, TenantId};

use super::fixtures::{T0, assert_conflict, subscription, tenant, unique, user};
use crate::{Store, WriteBatch};

/// Tenants round-trip, are found by domain case-insensitively, list oldest first (ties in
/// insertion order), and conflict on a duplicate id or domain without changing the original.
pub async fn tenants(store: &dyn Store) {
    let newer = tenant(T0 + 20);
    let older = tenant(T0 + 10);
    let (tie_a, tie_b) = (tenant(T0 + 30), tenant(T0 + 30));
    let batch = WriteBatch {
        tenants: vec![newer.clone(), older.clone(), tie_a.clone(), tie_b.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply tenants");

    let got = store.get_tenant(newer.id).await.expect("get_tenant");
    assert_eq!(
        got.as_ref(),
        Some(&newer),
        "get_tenant round-trips every field"
    );
    let missing = store
        .get_tenant(TenantId::new_random())
        .await
        .expect("get_tenant");
    assert_eq!(missing, None, "get_tenant of an unknown id");

    let shouted = older.default_domain.to_uppercase();
    let found = store
        .find_tenant_by_domain(&shouted)
        .await
        .expect("find_tenant_by_domain");
    assert_eq!(
        found.as_ref(),
        Some(&older),
        "domains compare case-insensitively"
    );
    let unknown = format!("nobody-{}.onmicrosoft.com", unique());
    let none = store
        .find_tenant_by_domain(&unknown)
        .await
        .expect("find_tenant_by_domain");
    assert_eq!(none, None, "find_tenant_by_domain of an unknown domain");

    let ours = [newer.id, older.id, tie_a.id, tie_b.id];
    let listed: Vec<TenantId> = (store
        .list_tenants()
        .await
        .expect("list_tenants")
        .into_iter())
    .map(|t| t.id)
    .filter(|id| ours.contains(id))
    .collect();
    assert_eq!(
        listed,
        [older.id, newer.id, tie_a.id, tie_b.id],
        "list_tenants: oldest first, ties in insertion order"
    );

    let mut same_id = tenant(T0);
    same_id.id = older.id;
    let result = store.apply(WriteBatch {
        tenants: vec![same_id],
        ..WriteBatch::default()
    });
    assert_conflict(result.await, "a second tenant with the same id");
    let mut same_domain = tenant(T0);
    same_domain.default_domain = older.default_domain.to_uppercase();
    let result = store.apply(WriteBatch {
        tenants: vec![same_domain],
        ..WriteBatch::default()
    });
    assert_conflict(
        result.await,
        "a second tenant with the same domain in other case",
    );
    let after = store.get_tenant(older.id).await.expect("get_tenant");
    assert_eq!(
        after.as_ref(),
        Some(&older),
        "a conflict leaves the original untouched"
    );
}

/// Subscriptions round-trip, list oldest first and conflict on a duplicate id.
pub async fn subscriptions(store: &dyn Store) {
    let home = TenantId::new_random();
    let newer = subscription(home, T0 + 5);
    let older = subscription(home, T0 + 1);
    let mut disabled = subscription(home, T0 + 9);
    disabled.state = "Disabled".to_owned();
    let batch = WriteBatch {
        subscriptions: vec![newer.clone(), older.clone(), disabled.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply subscriptions");

    let got = store
        .get_subscription(disabled.id)
        .await
        .expect("get_subscription");
    assert_eq!(
        got.as_ref(),
        Some(&disabled),
        "get_subscription round-trips every field"
    );
    let missing = store.get_subscription(SubscriptionId::new_random()).await;
    assert_eq!(
        missing.expect("get_subscription"),
        None,
        "an unknown subscription"
    );

    let ours = [newer.id, older.id, disabled.id];
    let listed: Vec<SubscriptionId> = (store.list_subscriptions().await)
        .expect("list_subscriptions")
        .into_iter()
        .map(|s| s.id)
        .filter(|id| ours.contains(id))
        .collect();
    assert_eq!(
        listed,
        [older.id, newer.id, disabled.id],
        "list_subscriptions: oldest first"
    );

    let mut again = subscription(home, T0);
    again.id = newer.id;
    let result = store.apply(WriteBatch {
        subscriptions: vec![again],
        ..WriteBatch::default()
    });
    assert_conflict(result.await, "a second subscription with the same id");
}

/// Users round-trip, are found by UPN case-insensitively (Unicode included), and conflict on
/// a duplicate object id or UPN.
pub async fn users(store: &dyn Store) {
    let home = TenantId::new_random();
    let domain = format!("c{}.onmicrosoft.com", unique());
    let alice = user(home, &format!("Alice@{domain}"));
    let jorg = user(home, &format!("Jörg.Ärger@{domain}"));
    let batch = WriteBatch {
        users: vec![alice.clone(), jorg.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply users");

    assert_eq!(
        store
            .get_user(alice.object_id)
            .await
            .expect("get_user")
            .as_ref(),
        Some(&alice)
    );
    assert_eq!(
        store
            .get_user(ObjectId::new_random())
            .await
            .expect("get_user"),
        None
    );
    for upn in [
        format!("alice@{domain}"),
        format!("ALICE@{}", domain.to_uppercase()),
    ] {
        let found = store
            .find_user_by_upn(&upn)
            .await
            .expect("find_user_by_upn");
        assert_eq!(
            found.as_ref(),
            Some(&alice),
            "UPNs compare case-insensitively: {upn}"
        );
    }
    let folded = format!("jörg.ärger@{domain}").to_uppercase();
    let found = store
        .find_user_by_upn(&folded)
        .await
        .expect("find_user_by_upn");
    assert_eq!(
        found.as_ref(),
        Some(&jorg),
        "UPN case folding covers non-ASCII letters"
    );
    let none = store
        .find_user_by_upn(&format!("bob@{domain}"))
        .await
        .expect("find");
    assert_eq!(none, None, "an unknown UPN");

    let shouting = user(home, &alice.user_principal_name.to_uppercase());
    let batch = WriteBatch {
        users: vec![shouting],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second user with the same UPN in other case",
    );
    let mut same_id = user(home, &format!("carol@{domain}"));
    same_id.object_id = alice.object_id;
    let batch = WriteBatch {
        users: vec![same_id],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second user with the same object id",
    );
}
