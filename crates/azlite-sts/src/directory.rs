//! Directory operations: the first-start bootstrap, applications with their service
//! principals, and their credentials.

use azlite_store::{
    Application, KeyCredential, PasswordCredential, ServicePrincipal, ServicePrincipalKind, Store,
    Subscription, Tenant, WriteBatch,
};
use azlite_token::ClientCertificate;
use azlite_types::app_roles::MICROSOFT_GRAPH_APP_ID;
use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId, UnixTime};
use uuid::Uuid;

use crate::StsError;

const SETTING_TENANT: &str = "bootstrap.tenant_id";
const SETTING_SUBSCRIPTION: &str = "bootstrap.subscription_id";
const SETTING_OWNER: &str = "bootstrap.owner_app_id";

/// Client secrets last two years, like the longest Entra lets the portal choose.
const SECRET_LIFETIME: i64 = 2 * 365 * 24 * 3600;

/// The objects the first start creates: the default tenant and subscription, and the
/// owner service principal that holds Owner on the subscription.
#[derive(Debug, Clone)]
pub struct Bootstrap {
    /// The default tenant.
    pub tenant: Tenant,
    /// The default subscription.
    pub subscription: Subscription,
    /// The owner's application.
    pub owner_app: Application,
    /// The owner's service principal.
    pub owner: ServicePrincipal,
    /// The owner's client secret, when this start created it (it is not stored).
    pub new_owner_secret: Option<String>,
}

/// What [`create_application`] needs.
#[derive(Debug, Clone, Default)]
pub struct NewApplication {
    /// Display name.
    pub display_name: String,
    /// App ID URIs, if the app is also a resource.
    pub identifier_uris: Vec<String>,
    /// Token version the app accepts as a resource (1 or 2; 0 means the default, 1).
    pub access_token_version: u8,
    /// Whether to create a client secret.
    pub with_secret: bool,
    /// Certificates (PEM) to register as key credentials.
    pub certificates_pem: Vec<String>,
}

/// What [`create_application`] made.
#[derive(Debug, Clone)]
pub struct CreatedApplication {
    /// The application object.
    pub application: Application,
    /// Its service principal in the same tenant.
    pub service_principal: ServicePrincipal,
    /// The client secret, if one was asked for. Shown once.
    pub secret: Option<String>,
}

/// Loads the bootstrap objects, creating them in one transaction on the first start, and
/// makes sure the default tenant has Microsoft Graph's service principal.
pub async fn bootstrap(store: &dyn Store, now: UnixTime) -> Result<Bootstrap, StsError> {
    let bootstrap = load_or_create_bootstrap(store, now).await?;
    ensure_microsoft_graph_principal(store, bootstrap.tenant.id, now).await?;
    Ok(bootstrap)
}

/// Microsoft Graph's service principal in `tenant`: the resource its app role assignments
/// (`Application.Read.All`, ...) name. Entra has it in every tenant; azlite adds it to the
/// default tenant on every start when it is missing (a store from before app roles, or the
/// first start). Its application lives in Microsoft's tenant, so the tenant has no
/// application object for it, and it has no credentials: no one signs in as it.
async fn ensure_microsoft_graph_principal(
    store: &dyn Store,
    tenant: TenantId,
    now: UnixTime,
) -> Result<(), StsError> {
    let app_id = MICROSOFT_GRAPH_APP_ID;
    if store
        .get_service_principal_by_app_id(tenant, app_id)
        .await?
        .is_some()
    {
        return Ok(());
    }
    let principal = ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id,
        tenant_id: tenant,
        display_name: "Microsoft Graph".to_owned(),
        kind: ServicePrincipalKind::Application,
        managed_identity_resource_id: None,
        created_at: now,
    };
    let batch = WriteBatch {
        service_principals: vec![principal],
        ..WriteBatch::default()
    };
    match store.apply(batch).await {
        // Another azlite on the same store added it first.
        Ok(()) | Err(azlite_store::StoreError::Conflict(_)) => Ok(()),
        Err(other) => Err(other.into()),
    }
}

async fn load_or_create_bootstrap(store: &dyn Store, now: UnixTime) -> Result<Bootstrap, StsError> {
    if let Some(existing) = load_bootstrap(store).await? {
        return Ok(existing);
    }
    let tenant = Tenant {
        id: TenantId::new_random(),
        display_name: "azlite".to_owned(),
        default_domain: "azlite.onmicrosoft.com".to_owned(),
        created_at: now,
    };
    let subscription = Subscription {
        id: SubscriptionId::new_random(),
        tenant_id: tenant.id,
        display_name: "azlite subscription".to_owned(),
        state: "Enabled".to_owned(),
        created_at: now,
    };
    let mut batch = WriteBatch {
        tenants: vec![tenant.clone()],
        ..Default::default()
    };
    batch.subscriptions.push(subscription.clone());
    let (application, owner) = app_and_principal(tenant.id, "azlite owner", &[], 1, now);
    let secret = add_secret_to(&mut batch, application.app_id, now);
    batch.applications.push(application.clone());
    batch.service_principals.push(owner.clone());
    batch.settings = vec![
        (SETTING_TENANT.to_owned(), tenant.id.to_string()),
        (SETTING_SUBSCRIPTION.to_owned(), subscription.id.to_string()),
        (SETTING_OWNER.to_owned(), application.app_id.to_string()),
    ];
    store.apply(batch).await?;
    tracing::info!(tenant = %tenant.id, subscription = %subscription.id, owner = %application.app_id, "first start: created the default tenant, subscription and owner");
    Ok(Bootstrap {
        tenant,
        subscription,
        owner_app: application,
        owner,
        new_owner_secret: Some(secret),
    })
}

async fn load_bootstrap(store: &dyn Store) -> Result<Option<Bootstrap>, StsError> {
    let Some(tenant_id) = store.get_setting(SETTING_TENANT).await? else {
        return Ok(None);
    };
    let corrupt =
        |what: &str| StsError::Internal(format!("bootstrap {what} is missing or invalid").into());
    let tenant_id: TenantId = tenant_id.parse().map_err(|_| corrupt("tenant id"))?;
    let subscription_id: SubscriptionId = store
        .get_setting(SETTING_SUBSCRIPTION)
        .await?
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("subscription id"))?;
    let owner_app_id: ClientId = store
        .get_setting(SETTING_OWNER)
        .await?
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| corrupt("owner app id"))?;
    let tenant = store
        .get_tenant(tenant_id)
        .await?
        .ok_or_else(|| corrupt("tenant"))?;
    let subscription = store
        .get_subscription(subscription_id)
        .await?
        .ok_or_else(|| corrupt("subscription"))?;
    let owner_app = store
        .get_application(owner_app_id)
        .await?
        .ok_or_else(|| corrupt("owner application"))?;
    let owner = store
        .get_service_principal_by_app_id(tenant_id, owner_app_id)
        .await?
        .ok_or_else(|| corrupt("owner service principal"))?;
    Ok(Some(Bootstrap {
        tenant,
        subscription,
        owner_app,
        owner,
        new_owner_secret: None,
    }))
}

fn app_and_principal(
    tenant: TenantId,
    name: &str,
    identifier_uris: &[String],
    access_token_version: u8,
    now: UnixTime,
) -> (Application, ServicePrincipal) {
    let app_id = ClientId::new_random();
    let application = Application {
        object_id: ObjectId::new_random(),
        app_id,
        tenant_id: tenant,
        display_name: name.to_owned(),
        identifier_uris: identifier_uris.to_vec(),
        access_token_version,
        created_at: now,
    };
    let principal = ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id,
        tenant_id: tenant,
        display_name: name.to_owned(),
        kind: ServicePrincipalKind::Application,
        managed_identity_resource_id: None,
        created_at: now,
    };
    (application, principal)
}

fn add_secret_to(batch: &mut WriteBatch, app_id: ClientId, now: UnixTime) -> String {
    let (credential, secret) =
        PasswordCredential::mint(app_id, "azlite", now, now + SECRET_LIFETIME);
    batch.password_credentials.push(credential);
    secret
}

/// Adds a new client secret to an existing application and returns it.
pub async fn add_client_secret(
    store: &dyn Store,
    app_id: ClientId,
    now: UnixTime,
) -> Result<String, StsError> {
    let mut batch = WriteBatch::default();
    let secret = add_secret_to(&mut batch, app_id, now);
    store.apply(batch).await?;
    Ok(secret)
}

/// Registers an application with its service principal (and credentials) in `tenant`.
pub async fn create_application(
    store: &dyn Store,
    tenant: TenantId,
    request: NewApplication,
    now: UnixTime,
) -> Result<CreatedApplication, CreateApplicationError> {
    let version = match request.access_token_version {
        0 | 1 => 1,
        2 => 2,
        other => return Err(CreateApplicationError::InvalidTokenVersion(other)),
    };
    let (application, service_principal) = app_and_principal(
        tenant,
        &request.display_name,
        &request.identifier_uris,
        version,
        now,
    );
    let mut batch = WriteBatch::default();
    let secret = request
        .with_secret
        .then(|| add_secret_to(&mut batch, application.app_id, now));
    for pem in &request.certificates_pem {
        let cert = ClientCertificate::from_pem(pem)
            .map_err(|e| CreateApplicationError::InvalidCertificate(e.to_string()))?;
        batch.key_credentials.push(KeyCredential {
            key_id: Uuid::new_v4(),
            app_id: application.app_id,
            display_name: "certificate".to_owned(),
            certificate_der: cert.der().to_vec(),
            start: cert.not_before(),
            end: cert.not_after(),
        });
    }
    batch.applications.push(application.clone());
    batch.service_principals.push(service_principal.clone());
    store.apply(batch).await.map_err(|e| match e {
        azlite_store::StoreError::Conflict(what) => CreateApplicationError::Conflict(what),
        other => CreateApplicationError::Sts(other.into()),
    })?;
    Ok(CreatedApplication {
        application,
        service_principal,
        secret,
    })
}

/// Why an application could not be created.
#[derive(Debug, thiserror::Error)]
pub enum CreateApplicationError {
    /// `accessTokenVersion` must be 1 or 2.
    #[error("accessTokenVersion must be 1 or 2, not {0}")]
    InvalidTokenVersion(u8),
    /// A certificate did not parse.
    #[error("the certificate is not a valid X.509 certificate: {0}")]
    InvalidCertificate(String),
    /// An identifier URI is taken.
    #[error("an object with the same key already exists: {0}")]
    Conflict(String),
    /// Storage failed.
    #[error(transparent)]
    Sts(#[from] StsError),
}
