//! One VM's endpoints served in-process over plain HTTP on `127.0.0.1:0`, with a real STS
//! on a SQLite store in a temporary directory, and a clock the tests move.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use azlite_imds::{Imds, ImdsConfig, StoreVmIdentities};
use azlite_store::{
    Resource, ResourceGroup, ServicePrincipal, ServicePrincipalKind, SqliteStore, Store, Tenant,
    WriteBatch,
};
use azlite_sts::{Sts, StsConfig};
use azlite_token::{
    AccessTokenClaims, IssuerPolicy, KeySource, ManagedIdentityToken, ManagedIdentityTokenError,
    ManagedIdentityTokens, Validation, verify,
};
use azlite_types::{ClientId, Clock, ManualClock, ObjectId, ResourceId, SubscriptionId};
use serde_json::{Map, Value, json};

/// 2026-01-01T00:00:00Z.
pub(crate) const NOW: i64 = 1_767_225_600;

/// The STS, counting the tokens the endpoint asks it for.
pub(crate) struct CountingSts {
    pub(crate) sts: Arc<Sts>,
    pub(crate) calls: AtomicUsize,
}

#[async_trait]
impl ManagedIdentityTokens for CountingSts {
    async fn managed_identity_token(
        &self,
        principal: ObjectId,
        resource: &str,
    ) -> Result<ManagedIdentityToken, ManagedIdentityTokenError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.sts.managed_identity_token(principal, resource).await
    }
}

/// A managed identity: its principal, client id and (user-assigned) ARM id.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    pub(crate) principal: ObjectId,
    pub(crate) client: ClientId,
    pub(crate) id: ResourceId,
}

/// An answer: status, headers, body text.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: reqwest::header::HeaderMap,
    pub(crate) text: String,
}

impl Answer {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("{e}: {}", self.text))
    }

    pub(crate) fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

/// A running endpoint and what it stands on.
pub(crate) struct Env {
    pub(crate) base: String,
    pub(crate) http: reqwest::Client,
    pub(crate) store: Arc<dyn Store>,
    pub(crate) sts: Arc<Sts>,
    pub(crate) counting: Arc<CountingSts>,
    pub(crate) clock: Arc<ManualClock>,
    pub(crate) tenant: Tenant,
    pub(crate) subscription: SubscriptionId,
    pub(crate) owner_secret: String,
    pub(crate) owner_client: ClientId,
    pub(crate) owner: ObjectId,
    pub(crate) vm: ResourceId,
    pub(crate) config: ImdsConfig,
    server: tokio::task::JoinHandle<()>,
    arc_server: Option<(String, tokio::task::JoinHandle<()>)>,
    dir: tempfile::TempDir,
}

impl Drop for Env {
    fn drop(&mut self) {
        self.server.abort();
        if let Some((_, server)) = &self.arc_server {
            server.abort();
        }
    }
}

async fn serve(router: axum::Router) -> (String, tokio::task::JoinHandle<()>) {
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = tokio::spawn(async move {
        axum::serve(listener, router).await.unwrap();
    });
    (base, server)
}

impl Env {
    /// The endpoints of VM `vm1` in group `rg` (not created yet), with default settings.
    pub(crate) async fn start() -> Self {
        Self::start_with(|_| {}).await
    }

    /// The same, with settings changed by `adjust`.
    pub(crate) async fn start_with(adjust: impl FnOnce(&mut ImdsConfig)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> = Arc::new(
            SqliteStore::open(&dir.path().join("azlite.db"))
                .await
                .unwrap(),
        );
        let clock = Arc::new(ManualClock::at(NOW));
        let dyn_clock: Arc<dyn Clock> = clock.clone();
        let bootstrap = azlite_sts::bootstrap(store.as_ref(), NOW).await.unwrap();
        let sts = Arc::new(
            Sts::open(store.clone(), dyn_clock.clone(), StsConfig::default())
                .await
                .unwrap(),
        );
        let subscription = bootstrap.subscription.id;
        store
            .apply(WriteBatch {
                resource_groups: vec![ResourceGroup {
                    subscription_id: subscription,
                    name: "rg".into(),
                    location: "eastus".into(),
                    tags: BTreeMap::new(),
                    managed_by: None,
                    created_at: NOW,
                    updated_at: NOW,
                }],
                ..Default::default()
            })
            .await
            .unwrap();
        let vm: ResourceId = format!(
            "/subscriptions/{subscription}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1"
        )
        .parse()
        .unwrap();
        let mut config = ImdsConfig::new(vm.clone());
        config.arc_key_directory = Some(dir.path().join("tokens"));
        adjust(&mut config);
        let counting = Arc::new(CountingSts {
            sts: sts.clone(),
            calls: AtomicUsize::new(0),
        });
        let imds = Arc::new(Imds::new(
            config.clone(),
            Arc::new(StoreVmIdentities::new(store.clone())),
            counting.clone(),
            dyn_clock,
        ));
        let (base, server) = serve(imds.clone().router()).await;
        let arc_server = match imds.arc_router() {
            Some(router) => Some(serve(router).await),
            None => None,
        };
        let http = reqwest::Client::builder().no_proxy().build().unwrap();
        Self {
            base,
            http,
            store,
            sts,
            counting,
            clock,
            tenant: bootstrap.tenant,
            subscription,
            owner_secret: bootstrap.new_owner_secret.unwrap(),
            owner_client: bootstrap.owner.app_id,
            owner: bootstrap.owner.object_id,
            vm,
            config,
            server,
            arc_server,
            dir,
        }
    }

    /// The Arc endpoint's base URL.
    pub(crate) fn arc_base(&self) -> &str {
        &self.arc_server.as_ref().unwrap().0
    }

    /// How many tokens the endpoint asked the STS for.
    pub(crate) fn sts_calls(&self) -> usize {
        self.counting.calls.load(Ordering::SeqCst)
    }

    fn principal(&self, mirid: &ResourceId) -> ServicePrincipal {
        ServicePrincipal {
            object_id: ObjectId::new_random(),
            app_id: ClientId::new_random(),
            tenant_id: self.tenant.id,
            display_name: mirid.name().unwrap_or_default().to_owned(),
            kind: ServicePrincipalKind::ManagedIdentity,
            managed_identity_resource_id: Some(mirid.as_str().to_owned()),
            created_at: NOW,
        }
    }

    fn resource(&self, id: &ResourceId, kind: &str, body: Value) -> Resource {
        Resource {
            id: id.clone(),
            subscription_id: self.subscription,
            resource_group: "rg".into(),
            resource_type: kind.into(),
            name: id.name().unwrap_or_default().to_owned(),
            location: "eastus".into(),
            tags: BTreeMap::from([("env".to_owned(), "test".to_owned())]),
            body,
            created_at: NOW,
            updated_at: NOW,
        }
    }

    /// A user-assigned identity, stored as ARM stores one.
    pub(crate) async fn user_assigned(&self, name: &str) -> Identity {
        let id: ResourceId = format!(
            "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
            self.subscription
        )
        .parse()
        .unwrap();
        let principal = self.principal(&id);
        let body = json!({"properties": {
            "tenantId": self.tenant.id,
            "principalId": principal.object_id,
            "clientId": principal.app_id,
        }});
        let identity = Identity {
            principal: principal.object_id,
            client: principal.app_id,
            id: id.clone(),
        };
        let resource = self.resource(
            &id,
            "Microsoft.ManagedIdentity/userAssignedIdentities",
            body,
        );
        self.store
            .apply(WriteBatch {
                resources: vec![resource],
                service_principals: vec![principal],
                ..Default::default()
            })
            .await
            .unwrap();
        identity
    }

    /// A system-assigned identity's principal for the VM (attach it with [`Self::set_vm`]).
    pub(crate) async fn system_assigned(&self) -> Identity {
        let principal = self.principal(&self.vm);
        let identity = Identity {
            principal: principal.object_id,
            client: principal.app_id,
            id: self.vm.clone(),
        };
        self.store
            .apply(WriteBatch {
                service_principals: vec![principal],
                ..Default::default()
            })
            .await
            .unwrap();
        identity
    }

    /// Writes the VM with these identities, in the shape `azlite-arm` stores.
    pub(crate) async fn set_vm(&self, system: Option<&Identity>, users: &[&Identity]) {
        self.set_vm_in(self.store.as_ref(), system, users).await;
    }

    /// A second store on the same database file, as another process (`azlite imds`, a
    /// `sqlite3` shell) would open: its writes do not notify the endpoint's store, which
    /// must notice them in the file.
    pub(crate) async fn another_process_store(&self) -> Arc<dyn Store> {
        Arc::new(
            SqliteStore::open(&self.dir.path().join("azlite.db"))
                .await
                .unwrap(),
        )
    }

    /// [`Self::set_vm`], written through `store`.
    pub(crate) async fn set_vm_in(
        &self,
        store: &dyn Store,
        system: Option<&Identity>,
        users: &[&Identity],
    ) {
        let mut body = json!({"properties": {
            "vmId": "0b5a7c6e-2f3d-4e1a-9c8b-7d6e5f4a3b2c",
            "provisioningState": "Succeeded",
            "hardwareProfile": {"vmSize": "Standard_B1s"},
            "storageProfile": {"osDisk": {"osType": "Linux"}},
        }});
        let kind = match (system.is_some(), !users.is_empty()) {
            (true, true) => Some("SystemAssigned, UserAssigned"),
            (true, false) => Some("SystemAssigned"),
            (false, true) => Some("UserAssigned"),
            (false, false) => None,
        };
        if let Some(kind) = kind {
            let mut block = json!({"type": kind});
            if let Some(system) = system {
                block["principalId"] = json!(system.principal);
                block["tenantId"] = json!(self.tenant.id);
            }
            if !users.is_empty() {
                let map: Map<String, Value> = users
                    .iter()
                    .map(|u| {
                        (
                            u.id.as_str().to_owned(),
                            json!({"principalId": u.principal, "clientId": u.client}),
                        )
                    })
                    .collect();
                block["userAssignedIdentities"] = Value::Object(map);
            }
            body["identity"] = block;
        }
        let resource = self.resource(&self.vm, "Microsoft.Compute/virtualMachines", body);
        store
            .apply(WriteBatch {
                resources: vec![resource],
                ..Default::default()
            })
            .await
            .unwrap();
    }

    /// A request to the main router.
    pub(crate) async fn send(
        &self,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        form: Option<&str>,
    ) -> Answer {
        self.send_to(&self.base, method, path_and_query, headers, form)
            .await
    }

    /// A request to `base`.
    pub(crate) async fn send_to(
        &self,
        base: &str,
        method: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
        form: Option<&str>,
    ) -> Answer {
        let mut request = self
            .http
            .request(method.parse().unwrap(), format!("{base}{path_and_query}"));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(form) = form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(form.to_owned());
        }
        let response = request.send().await.unwrap();
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap(),
        }
    }

    /// `GET` with `Metadata: true`.
    pub(crate) async fn get(&self, path_and_query: &str) -> Answer {
        self.send("GET", path_and_query, &[("Metadata", "true")], None)
            .await
    }

    /// An IMDS token request with `Metadata: true`, `api-version=2018-02-01` and `extra`.
    pub(crate) async fn imds_token(&self, extra: &str) -> Answer {
        self.get(&format!(
            "/metadata/identity/oauth2/token?api-version=2018-02-01{extra}"
        ))
        .await
    }

    /// The claims of a token the STS signed, for `audience`.
    pub(crate) fn claims(&self, token: &str, audience: &str) -> AccessTokenClaims {
        let validation = Validation::new(
            vec![audience.to_owned()],
            IssuerPolicy::Exact(vec![azlite_sts::issuer_v1(&self.tenant)]),
        );
        verify(token, &self.sts.key_ring(), &validation, self.clock.now())
            .unwrap()
            .claims
    }
}
