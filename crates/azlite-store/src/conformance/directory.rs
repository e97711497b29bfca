//! Checks of [`crate::DirectoryStore`].

use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId};

use super::fixtures::{
    T0, application, assert_conflict, key_credential, password_credential, service_principal,
    subscription, tenant, unique, user,
};
use crate::{ServicePrincipalKind, Store, WriteBatch};

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

/// Applications round-trip with their identifier URIs in order, are found by identifier URI
/// case-insensitively but otherwise exactly and only in their tenant, and conflict on a
/// duplicate app id, object id or identifier URI (within one tenant).
pub async fn applications(store: &dyn Store) {
    let home = TenantId::new_random();
    let name = unique();
    let uri = format!("api://Conformance-{name}");
    let second_uri = format!("https://conformance.example/{name}");
    let app = application(home, &[&uri, &second_uri]);
    let mut bare = application(home, &[]);
    bare.access_token_version = 1;
    let batch = WriteBatch {
        applications: vec![app.clone(), bare.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply applications");

    let got = store
        .get_application(app.app_id)
        .await
        .expect("get_application");
    assert_eq!(
        got.as_ref(),
        Some(&app),
        "get_application round-trips, URIs in order"
    );
    let got = store
        .get_application(bare.app_id)
        .await
        .expect("get_application");
    assert_eq!(
        got.as_ref(),
        Some(&bare),
        "an application without identifier URIs"
    );
    let missing = store.get_application(ClientId::new_random()).await;
    assert_eq!(missing.expect("get_application"), None, "an unknown app id");

    for variant in [
        uri.clone(),
        uri.to_lowercase(),
        uri.to_uppercase(),
        second_uri.clone(),
    ] {
        let found = store
            .find_application_by_identifier_uri(home, &variant)
            .await;
        let found = found.expect("find_application_by_identifier_uri");
        assert_eq!(
            found.as_ref(),
            Some(&app),
            "identifier URI {variant} (any case)"
        );
    }
    for variant in [
        format!("{uri}/"),
        format!("{uri}/.default"),
        format!("api://{name}"),
    ] {
        let found = store
            .find_application_by_identifier_uri(home, &variant)
            .await;
        let found = found.expect("find_application_by_identifier_uri");
        assert_eq!(
            found, None,
            "identifier URIs match exactly apart from case: {variant}"
        );
    }
    let elsewhere = store
        .find_application_by_identifier_uri(TenantId::new_random(), &uri)
        .await;
    assert_eq!(
        elsewhere.expect("find"),
        None,
        "identifier URIs are looked up per tenant"
    );

    let mut same_app_id = application(home, &[]);
    same_app_id.app_id = app.app_id;
    let result = store.apply(WriteBatch {
        applications: vec![same_app_id],
        ..WriteBatch::default()
    });
    assert_conflict(result.await, "a second application with the same app id");
    let mut same_object_id = application(home, &[]);
    same_object_id.object_id = app.object_id;
    let batch = WriteBatch {
        applications: vec![same_object_id],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second application with the same object id",
    );
    let claims_uri = application(home, &[&uri.to_uppercase()]);
    let batch = WriteBatch {
        applications: vec![claims_uri.clone()],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "an identifier URI taken in the same tenant",
    );
    let missing = store
        .get_application(claims_uri.app_id)
        .await
        .expect("get_application");
    assert_eq!(
        missing, None,
        "the application whose URI conflicted was not written"
    );

    let other_tenant = application(TenantId::new_random(), &[&uri]);
    let batch = WriteBatch {
        applications: vec![other_tenant.clone()],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("the same identifier URI in another tenant is allowed");
    let found = store
        .find_application_by_identifier_uri(other_tenant.tenant_id, &uri)
        .await;
    assert_eq!(
        found.expect("find").as_ref(),
        Some(&other_tenant),
        "found in its own tenant"
    );
}

/// Service principals round-trip (managed identities included), are found by object id and
/// by (tenant, app id), list per tenant oldest first, and conflict on a duplicate object id
/// or a second principal of one app in one tenant.
pub async fn service_principals(store: &dyn Store) {
    let home = TenantId::new_random();
    let other = TenantId::new_random();
    let app_id = ClientId::new_random();
    let newer = service_principal(home, app_id, T0 + 2);
    let mut identity = service_principal(home, ClientId::new_random(), T0 + 1);
    identity.kind = ServicePrincipalKind::ManagedIdentity;
    identity.managed_identity_resource_id = Some(format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        SubscriptionId::new_random()
    ));
    let same_app_elsewhere = service_principal(other, app_id, T0);
    let batch = WriteBatch {
        service_principals: vec![newer.clone(), identity.clone(), same_app_elsewhere.clone()],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("apply service principals (one app in two tenants)");

    let got = store
        .get_service_principal(identity.object_id)
        .await
        .expect("get");
    assert_eq!(
        got.as_ref(),
        Some(&identity),
        "a managed identity round-trips"
    );
    let got = store
        .get_service_principal_by_app_id(home, app_id)
        .await
        .expect("by app id");
    assert_eq!(
        got.as_ref(),
        Some(&newer),
        "get_service_principal_by_app_id in the home tenant"
    );
    let got = store
        .get_service_principal_by_app_id(other, app_id)
        .await
        .expect("by app id");
    assert_eq!(
        got.as_ref(),
        Some(&same_app_elsewhere),
        "the same app id in another tenant"
    );
    let missing = store
        .get_service_principal_by_app_id(TenantId::new_random(), app_id)
        .await;
    assert_eq!(
        missing.expect("by app id"),
        None,
        "an app id in a tenant without it"
    );
    let missing = store
        .get_service_principal(ObjectId::new_random())
        .await
        .expect("get");
    assert_eq!(missing, None, "an unknown object id");

    let listed = store
        .list_service_principals(home)
        .await
        .expect("list_service_principals");
    assert_eq!(
        listed,
        [identity.clone(), newer.clone()],
        "list: this tenant's, oldest first"
    );
    let listed = store
        .list_service_principals(TenantId::new_random())
        .await
        .expect("list");
    assert!(listed.is_empty(), "a tenant without principals lists none");

    let mut same_object_id = service_principal(other, ClientId::new_random(), T0);
    same_object_id.object_id = newer.object_id;
    let batch = WriteBatch {
        service_principals: vec![same_object_id],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second principal with the same object id",
    );
    let second_instance = service_principal(home, app_id, T0);
    let batch = WriteBatch {
        service_principals: vec![second_instance],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second principal of one app in one tenant",
    );
}

/// Password and key credentials round-trip per app id in insertion order, and conflict on a
/// duplicate key id.
pub async fn credentials(store: &dyn Store) {
    let app_id = ClientId::new_random();
    let (first, second) = (
        password_credential(app_id, "first"),
        password_credential(app_id, "second"),
    );
    let (cert_a, cert_b) = (key_credential(app_id, "a"), key_credential(app_id, "b"));
    let unrelated = password_credential(ClientId::new_random(), "unrelated");
    let batch = WriteBatch {
        password_credentials: vec![first.clone(), unrelated, second.clone()],
        key_credentials: vec![cert_a.clone(), cert_b.clone()],
        ..WriteBatch::default()
    };
    store.apply(batch).await.expect("apply credentials");

    let passwords = store
        .list_password_credentials(app_id)
        .await
        .expect("list passwords");
    assert_eq!(
        passwords,
        [first.clone(), second],
        "password credentials, oldest first"
    );
    let keys = store
        .list_key_credentials(app_id)
        .await
        .expect("list key credentials");
    assert_eq!(
        keys,
        [cert_a.clone(), cert_b],
        "key credentials, oldest first"
    );
    let none = store
        .list_password_credentials(ClientId::new_random())
        .await
        .expect("list");
    assert!(none.is_empty(), "an app id without password credentials");
    let none = store
        .list_key_credentials(ClientId::new_random())
        .await
        .expect("list");
    assert!(none.is_empty(), "an app id without key credentials");

    let mut again = password_credential(app_id, "again");
    again.key_id = first.key_id;
    let batch = WriteBatch {
        password_credentials: vec![again],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second password credential with one key id",
    );
    let mut again = key_credential(app_id, "again");
    again.key_id = cert_a.key_id;
    let batch = WriteBatch {
        key_credentials: vec![again],
        ..WriteBatch::default()
    };
    assert_conflict(
        store.apply(batch).await,
        "a second key credential with one key id",
    );
}

/// Deleting a service principal reports whether it existed, and takes the app id's
/// credentials with it only when no application object and no other principal has the app id.
pub async fn service_principal_deletion(store: &dyn Store) {
    let home = TenantId::new_random();
    let other = TenantId::new_random();
    // An app id with only principals (one per tenant) and credentials.
    let orphan_app = ClientId::new_random();
    let local = service_principal(home, orphan_app, T0);
    let remote = service_principal(other, orphan_app, T0);
    // A registered application with its principal and credentials.
    let registered = application(home, &[]);
    let registered_sp = service_principal(home, registered.app_id, T0);
    let batch = WriteBatch {
        applications: vec![registered.clone()],
        service_principals: vec![local.clone(), remote.clone(), registered_sp.clone()],
        password_credentials: vec![
            password_credential(orphan_app, "p"),
            password_credential(registered.app_id, "p"),
        ],
        key_credentials: vec![
            key_credential(orphan_app, "k"),
            key_credential(registered.app_id, "k"),
        ],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("apply principals and credentials");

    assert!(
        store
            .delete_service_principal(local.object_id)
            .await
            .expect("delete"),
        "existed"
    );
    assert_eq!(
        store
            .get_service_principal(local.object_id)
            .await
            .expect("get"),
        None,
        "gone"
    );
    let by_app = store
        .get_service_principal_by_app_id(home, orphan_app)
        .await
        .expect("get");
    assert_eq!(by_app, None, "gone from the (tenant, app id) lookup too");
    assert!(
        !store
            .delete_service_principal(local.object_id)
            .await
            .expect("delete"),
        "deleting twice reports that nothing was there"
    );
    let passwords = store
        .list_password_credentials(orphan_app)
        .await
        .expect("list");
    assert_eq!(
        passwords.len(),
        1,
        "credentials stay while another principal has the app id"
    );

    assert!(
        store
            .delete_service_principal(remote.object_id)
            .await
            .expect("delete")
    );
    let passwords = store
        .list_password_credentials(orphan_app)
        .await
        .expect("list");
    assert!(
        passwords.is_empty(),
        "the last principal takes unowned password credentials"
    );
    let keys = store.list_key_credentials(orphan_app).await.expect("list");
    assert!(
        keys.is_empty(),
        "the last principal takes unowned key credentials"
    );

    assert!(
        store
            .delete_service_principal(registered_sp.object_id)
            .await
            .expect("delete")
    );
    let passwords = store
        .list_password_credentials(registered.app_id)
        .await
        .expect("list");
    assert_eq!(
        passwords.len(),
        1,
        "an application object keeps its password credentials"
    );
    let keys = store
        .list_key_credentials(registered.app_id)
        .await
        .expect("list");
    assert_eq!(
        keys.len(),
        1,
        "an application object keeps its key credentials"
    );
    let app = store
        .get_application(registered.app_id)
        .await
        .expect("get_application");
    assert_eq!(
        app,
        Some(registered.clone()),
        "the application object stays"
    );

    let again = service_principal(home, registered.app_id, T0 + 1);
    let batch = WriteBatch {
        service_principals: vec![again],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("a deleted principal's (tenant, app id) can be reused");
    let missing = store
        .delete_service_principal(ObjectId::new_random())
        .await
        .expect("delete");
    assert!(!missing, "deleting an unknown principal");
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

/// A batch is all or nothing: a conflict in its last write (or between two of its own
/// writes) leaves none of its writes behind, settings included; an empty batch is fine.
pub async fn batch_atomicity(store: &dyn Store) {
    store
        .apply(WriteBatch::default())
        .await
        .expect("an empty batch");
    let existing = tenant(T0);
    let upn = format!("taken@{}", existing.default_domain);
    let existing_setting = format!("conformance/{}/kept", unique());
    let batch = WriteBatch {
        tenants: vec![existing.clone()],
        users: vec![user(existing.id, &upn)],
        settings: vec![(existing_setting.clone(), "before".to_owned())],
        ..WriteBatch::default()
    };
    store
        .apply(batch)
        .await
        .expect("apply the existing objects");

    let fresh = tenant(T0);
    let uri = format!("api://atomic-{}", unique());
    let app = application(fresh.id, &[&uri]);
    let principal = service_principal(fresh.id, app.app_id, T0);
    let new_setting = format!("conformance/{}/new", unique());
    let mut batch = WriteBatch {
        tenants: vec![fresh.clone()],
        subscriptions: vec![subscription(fresh.id, T0)],
        applications: vec![app.clone()],
        service_principals: vec![principal.clone()],
        password_credentials: vec![password_credential(app.app_id, "p")],
        key_credentials: vec![key_credential(app.app_id, "k")],
        users: vec![user(fresh.id, &format!("new@{}", fresh.default_domain))],
        settings: vec![
            (new_setting.clone(), "new".to_owned()),
            (existing_setting.clone(), "after".to_owned()),
        ],
    };
    let subscription_id = batch.subscriptions[0].id;
    let new_user = batch.users[0].clone();
    let mut failing = batch.clone();
    failing.users.push(user(fresh.id, &upn.to_uppercase()));
    assert_conflict(
        store.apply(failing).await,
        "a batch whose last user conflicts",
    );

    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        None,
        "no tenant"
    );
    assert_eq!(
        store.get_subscription(subscription_id).await.expect("get"),
        None,
        "no subscription"
    );
    assert_eq!(
        store.get_application(app.app_id).await.expect("get"),
        None,
        "no application"
    );
    let found = store
        .find_application_by_identifier_uri(fresh.id, &uri)
        .await
        .expect("find");
    assert_eq!(found, None, "no identifier URI");
    let sp = store
        .get_service_principal(principal.object_id)
        .await
        .expect("get");
    assert_eq!(sp, None, "no service principal");
    let passwords = store
        .list_password_credentials(app.app_id)
        .await
        .expect("list");
    assert!(passwords.is_empty(), "no password credential");
    assert!(
        store
            .list_key_credentials(app.app_id)
            .await
            .expect("list")
            .is_empty(),
        "no key"
    );
    assert_eq!(
        store.get_user(new_user.object_id).await.expect("get"),
        None,
        "no user"
    );
    assert_eq!(
        store.get_setting(&new_setting).await.expect("get"),
        None,
        "no new setting"
    );
    let kept = store
        .get_setting(&existing_setting)
        .await
        .expect("get_setting");
    assert_eq!(
        kept.as_deref(),
        Some("before"),
        "a replaced setting is rolled back too"
    );

    let mut duplicated = batch.clone();
    duplicated.tenants.push(fresh.clone());
    assert_conflict(
        store.apply(duplicated).await,
        "a batch that repeats its own tenant",
    );
    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        None,
        "neither copy written"
    );

    // Nothing was left half-written, so the same batch now goes through whole.
    batch
        .settings
        .push((existing_setting.clone(), "last wins".to_owned()));
    store
        .apply(batch)
        .await
        .expect("the batch without the conflict");
    assert_eq!(
        store.get_tenant(fresh.id).await.expect("get"),
        Some(fresh.clone())
    );
    let found = store
        .find_application_by_identifier_uri(fresh.id, &uri)
        .await
        .expect("find");
    assert_eq!(found, Some(app), "the identifier URI is claimed now");
    assert_eq!(
        store.get_user(new_user.object_id).await.expect("get"),
        Some(new_user)
    );
    let replaced = store
        .get_setting(&existing_setting)
        .await
        .expect("get_setting");
    assert_eq!(
        replaced.as_deref(),
        Some("last wins"),
        "batch settings replace, in order"
    );
}
