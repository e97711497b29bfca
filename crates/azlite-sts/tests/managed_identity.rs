//! The STS as the on-VM endpoints see it: [`ManagedIdentityTokens`] over a real store.

use std::sync::Arc;

use azlite_store::{ServicePrincipal, ServicePrincipalKind, SqliteStore, Store, WriteBatch};
use azlite_sts::{Sts, StsConfig};
use azlite_token::{
    IssuerPolicy, KeySource, ManagedIdentityTokenError, ManagedIdentityTokens, Validation, verify,
};
use azlite_types::{ClientId, Clock, ManualClock, ObjectId};

const NOW: i64 = 1_767_225_600;
const VM: &str = "/subscriptions/00000000-0000-0000-0000-000000000001/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1";

struct Fixture {
    sts: Sts,
    identity: ServicePrincipal,
    application: ServicePrincipal,
    tenant: azlite_store::Tenant,
    _dir: tempfile::TempDir,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(&dir.path().join("db")).await.unwrap());
    let clock: Arc<dyn Clock> = Arc::new(ManualClock::at(NOW));
    let tenant = azlite_sts::bootstrap(store.as_ref(), NOW)
        .await
        .unwrap()
        .tenant;
    let principal = |kind, mirid: Option<&str>| ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id: ClientId::new_random(),
        tenant_id: tenant.id,
        display_name: "vm1".into(),
        kind,
        managed_identity_resource_id: mirid.map(str::to_owned),
        created_at: NOW,
    };
    let identity = principal(ServicePrincipalKind::ManagedIdentity, Some(VM));
    let application = principal(ServicePrincipalKind::Application, None);
    store
        .apply(WriteBatch {
            service_principals: vec![identity.clone(), application.clone()],
            ..Default::default()
        })
        .await
        .unwrap();
    let sts = Sts::open(store, clock, StsConfig::default()).await.unwrap();
    Fixture {
        sts,
        identity,
        application,
        tenant,
        _dir: dir,
    }
}

#[tokio::test]
async fn a_managed_identity_gets_a_day_long_v1_token_with_its_arm_id() {
    let f = fixture().await;
    let token = f
        .sts
        .managed_identity_token(f.identity.object_id, "https://management.azure.com/")
        .await
        .unwrap();
    assert_eq!(token.not_before, NOW);
    assert_eq!(token.expires_on, NOW + 86_399);
    assert_eq!(token.resource, "https://management.azure.com/");
    assert_eq!(token.client_id, f.identity.app_id);
    let validation = Validation::new(
        vec!["https://management.azure.com/".into()],
        IssuerPolicy::Exact(vec![azlite_sts::issuer_v1(&f.tenant)]),
    );
    let verified = verify(&token.access_token, &f.sts.key_ring(), &validation, NOW).unwrap();
    let claims = &verified.claims;
    assert_eq!(claims.aud, "https://management.azure.com/");
    assert_eq!(claims.appidacr.as_deref(), Some("2"));
    assert_eq!(claims.ver, "1.0");
    assert_eq!(claims.oid, f.identity.object_id.to_string());
    assert_eq!(claims.sub, f.identity.object_id.to_string());
    assert_eq!(claims.appid, Some(f.identity.app_id.to_string()));
    assert_eq!(claims.xms_mirid.as_deref(), Some(VM));
}

#[tokio::test]
async fn the_managed_identity_lifetime_is_configurable() {
    let f = fixture().await;
    let store = f.sts.store().clone();
    let config = StsConfig {
        managed_identity_token_lifetime: 600,
        ..StsConfig::default()
    };
    let sts = Sts::open(store, Arc::new(ManualClock::at(NOW)), config)
        .await
        .unwrap();
    let token = sts
        .managed_identity_token(f.identity.object_id, "https://vault.azure.net")
        .await
        .unwrap();
    assert_eq!(token.expires_on, NOW + 600);
}

#[tokio::test]
async fn only_managed_identities_get_tokens_this_way() {
    let f = fixture().await;
    for principal in [f.application.object_id, ObjectId::new_random()] {
        let error = f
            .sts
            .managed_identity_token(principal, "https://vault.azure.net")
            .await
            .unwrap_err();
        assert!(
            matches!(error, ManagedIdentityTokenError::UnknownIdentity(p) if p == principal),
            "{error:?}"
        );
    }
}

#[tokio::test]
async fn an_unknown_resource_carries_entras_text() {
    let f = fixture().await;
    let error = f
        .sts
        .managed_identity_token(f.identity.object_id, "https://nothing.example")
        .await
        .unwrap_err();
    let ManagedIdentityTokenError::UnknownResource {
        resource,
        description,
    } = error
    else {
        panic!("wrong error: {error:?}");
    };
    assert_eq!(resource, "https://nothing.example");
    let expected = format!(
        "AADSTS500011: The resource principal named https://nothing.example was not found in the tenant named {}.",
        f.tenant.display_name
    );
    assert!(description.starts_with(&expected), "{description}");
}
