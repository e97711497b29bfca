//! Checks of applications and service principals.

use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId};

use super::fixtures::{T0, application, assert_conflict, service_principal, unique};
use crate::{ServicePrincipalKind, Store, WriteBatch};

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
