//! The identity block as `azlite-arm` itself writes it: identities created and attached
//! through ARM's router in-process, then used through IMDS. This pins the stored shape
//! that `StoreVmIdentities` reads.

use std::sync::Arc;

use axum::body::Body;
use axum::http::Request;
use azlite_arm::{Arm, ArmConfig};
use azlite_sts::{Endpoint, TokenForm, TokenRequest};
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::common::Env;

struct ArmClient {
    router: axum::Router,
    token: String,
}

impl ArmClient {
    async fn open(env: &Env) -> Self {
        let config = ArmConfig {
            login_host: "login.microsoftonline.com".into(),
            management_host: "management.azure.com".into(),
            graph_host: "graph.microsoft.com".into(),
            storage_suffix: "core.windows.net".into(),
            vault_suffix: "vault.azure.net".into(),
            datalake_suffix: "azuredatalakestore.net".into(),
        };
        let arm = Arm::open(
            env.store.clone(),
            env.sts.clone(),
            env.clock.clone(),
            config,
            &[(env.owner, env.subscription)],
        )
        .await
        .unwrap();
        let response = env
            .sts
            .token(TokenRequest {
                endpoint: Endpoint::V2,
                tenant: env.tenant.id.to_string(),
                form: TokenForm {
                    grant_type: Some("client_credentials".into()),
                    client_id: Some(env.owner_client.to_string()),
                    client_secret: Some(env.owner_secret.clone()),
                    scope: Some("https://management.azure.com/.default".into()),
                    ..Default::default()
                },
            })
            .await
            .unwrap();
        Self {
            router: Arc::new(arm).router(),
            token: response.token.access_token,
        }
    }

    async fn call(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap();
        let response = self.router.clone().oneshot(request).await.unwrap();
        let status = response.status().as_u16();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn identities_attached_through_arm_are_served_and_detached_ones_refused() {
    let env = Env::start().await;
    let arm = ArmClient::open(&env).await;
    let group = format!("/subscriptions/{}/resourceGroups/rg", env.subscription);
    let (status, identity) = arm
        .call(
            "PUT",
            &format!(
                "{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/myid?api-version=2023-01-31"
            ),
            json!({"location": "eastus"}),
        )
        .await;
    assert_eq!(status, 201, "{identity}");
    let identity_id = identity["id"].as_str().unwrap().to_owned();
    let identity_client = identity["properties"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let identity_principal = identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();

    let vm_url = format!("{}?api-version=2018-06-01", env.vm);
    let (status, vm) = arm
        .call(
            "PUT",
            &vm_url,
            json!({
                "location": "eastus",
                "identity": {
                    "type": "SystemAssigned, UserAssigned",
                    "userAssignedIdentities": { identity_id.clone(): {} },
                },
                "properties": {"hardwareProfile": {"vmSize": "Standard_B1s"}},
            }),
        )
        .await;
    assert_eq!(status, 201, "{vm}");
    let system_principal = vm["identity"]["principalId"].as_str().unwrap().to_owned();

    let resource = "&resource=https://management.azure.com/";
    let system = env.imds_token(resource).await;
    assert_eq!(system.status, 200, "{}", system.text);
    let claims = env.claims(
        system.json()["access_token"].as_str().unwrap(),
        "https://management.azure.com/",
    );
    assert_eq!(claims.oid, system_principal);
    assert_eq!(claims.xms_mirid.as_deref(), Some(env.vm.as_str()));

    let by_client = format!("{resource}&client_id={identity_client}");
    let user = env.imds_token(&by_client).await;
    assert_eq!(user.status, 200, "{}", user.text);
    let claims = env.claims(
        user.json()["access_token"].as_str().unwrap(),
        "https://management.azure.com/",
    );
    assert_eq!(claims.oid, identity_principal);
    assert_eq!(claims.xms_mirid.as_deref(), Some(identity_id.as_str()));

    // Detach the user-assigned identity through ARM: refused at once.
    let (status, vm) = arm
        .call(
            "PATCH",
            &vm_url,
            json!({"identity": {"type": "SystemAssigned"}}),
        )
        .await;
    assert_eq!(status, 200, "{vm}");
    assert_eq!(env.imds_token(&by_client).await.status, 400);
    assert_eq!(env.imds_token(resource).await.status, 200);

    // Delete the VM: nothing is served any more.
    let (status, _) = arm.call("DELETE", &vm_url, Value::Null).await;
    assert_eq!(status, 200);
    assert_eq!(env.imds_token(resource).await.status, 400);
}
