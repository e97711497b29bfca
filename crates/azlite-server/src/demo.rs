//! The demo of the first start: a resource group and a VM with a system-assigned identity
//! that holds Reader on its group, made through ARM's own HTTP interface as the owner (the
//! way any client would), so it obeys every rule ARM enforces.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, header};
use azlite_store::Store;
use azlite_sts::{Bootstrap, Endpoint, Sts, TokenForm, TokenRequest};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tower::ServiceExt;

/// Settings that remember the demo, so a user who deletes it does not get it back.
const SETTING_GROUP: &str = "demo.resource_group";
const SETTING_VM: &str = "demo.vm";

/// The demo's names.
const GROUP: &str = "azlite-demo";
const VM: &str = "demo-vm";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";

/// What `connection.json` says about the demo.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Demo {
    /// The demo resource group.
    pub resource_group: String,
    /// The demo VM's name.
    pub vm: String,
    /// The VM's ARM id.
    pub vm_id: String,
    /// The object id of the VM's system-assigned identity.
    pub principal_id: String,
}

/// Why the demo could not be made.
#[derive(Debug, thiserror::Error)]
#[error("cannot create the demo ({step}): {detail}")]
pub struct DemoError {
    step: &'static str,
    detail: String,
}

impl DemoError {
    /// The demo VM's id did not parse.
    pub(crate) fn invalid_vm_id(detail: String) -> Self {
        Self {
            step: "vm id",
            detail,
        }
    }
}

fn failed(step: &'static str) -> impl Fn(String) -> DemoError {
    move |detail| DemoError { step, detail }
}

/// Loads the demo, creating it on the first start.
pub(crate) async fn ensure_demo(
    store: &dyn Store,
    sts: &Sts,
    arm: Router,
    bootstrap: &Bootstrap,
    owner_secret: &str,
) -> Result<Option<Demo>, DemoError> {
    let subscription = bootstrap.subscription.id;
    let group_setting = store
        .get_setting(SETTING_GROUP)
        .await
        .map_err(|e| failed("settings")(e.to_string()))?;
    let vm_id = format!(
        "/subscriptions/{subscription}/resourceGroups/{GROUP}/providers/Microsoft.Compute/virtualMachines/{VM}"
    );
    if group_setting.is_some() {
        // Made before: report it as it is now (the user may have changed or deleted it),
        // read from the store as ARM keeps it (no token to issue, no ARM round trip: start-up
        // time, issue 14).
        let id: azlite_types::ResourceId = vm_id
            .parse()
            .map_err(|e: azlite_types::ResourceIdError| failed("read")(e.to_string()))?;
        let vm = store
            .get_resource(&id)
            .await
            .map_err(|e| failed("read")(e.to_string()))?;
        return Ok(vm.map(|vm| Demo {
            resource_group: GROUP.to_owned(),
            vm: VM.to_owned(),
            vm_id: vm_id.clone(),
            principal_id: vm.body["identity"]["principalId"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        }));
    }
    let token = owner_token(sts, bootstrap, owner_secret).await?;
    let call = |method: Method, path: String, body: Option<Value>| {
        let arm = arm.clone();
        let token = token.clone();
        async move {
            let request = Request::builder()
                .method(method)
                .uri(format!("{path}?api-version=2024-11-01"))
                .header(header::HOST, "127.0.0.1")
                .header(header::AUTHORIZATION, format!("Bearer {token}"))
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.map(|b| b.to_string()).unwrap_or_default()))
                .map_err(|e| e.to_string())?;
            let response = arm.oneshot(request).await.map_err(|e| e.to_string())?;
            let status = response.status();
            let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
                .await
                .map_err(|e| e.to_string())?;
            let value: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            Ok::<_, String>((status.as_u16(), value))
        }
    };
    let group = format!("/subscriptions/{subscription}/resourceGroups/{GROUP}");
    let expect = |step: &'static str, want: &[u16], (status, body): (u16, Value)| {
        if want.contains(&status) {
            Ok(body)
        } else {
            Err(failed(step)(format!("{status}: {body}")))
        }
    };
    let answer = call(
        Method::PUT,
        group.clone(),
        Some(json!({ "location": "eastus" })),
    )
    .await
    .map_err(failed("group"))?;
    expect("group", &[200, 201], answer)?;
    let vm_body = json!({
        "location": "eastus",
        "identity": { "type": "SystemAssigned" },
        "properties": {
            "hardwareProfile": { "vmSize": "Standard_B1s" },
            "osProfile": { "computerName": VM, "adminUsername": "azureuser" },
            "storageProfile": { "osDisk": { "osType": "Linux" } },
        },
    });
    let answer = call(Method::PUT, vm_id.clone(), Some(vm_body))
        .await
        .map_err(failed("vm"))?;
    let vm = expect("vm", &[200, 201], answer)?;
    let principal_id = vm["identity"]["principalId"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let assignment = json!({ "properties": {
        "roleDefinitionId": format!("/subscriptions/{subscription}/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
        "principalId": principal_id,
        "principalType": "ServicePrincipal",
    }});
    let path = format!(
        "{group}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let answer = call(Method::PUT, path, Some(assignment))
        .await
        .map_err(failed("role assignment"))?;
    expect("role assignment", &[200, 201], answer)?;
    store
        .put_setting(SETTING_GROUP, GROUP)
        .await
        .map_err(|e| failed("settings")(e.to_string()))?;
    store
        .put_setting(SETTING_VM, VM)
        .await
        .map_err(|e| failed("settings")(e.to_string()))?;
    tracing::info!(group = GROUP, vm = VM, principal = %principal_id, "first start: created the demo VM with a system-assigned identity (Reader on its group)");
    Ok(Some(Demo {
        resource_group: GROUP.to_owned(),
        vm: VM.to_owned(),
        vm_id,
        principal_id,
    }))
}

async fn owner_token(sts: &Sts, bootstrap: &Bootstrap, secret: &str) -> Result<String, DemoError> {
    let form = TokenForm {
        grant_type: Some("client_credentials".to_owned()),
        client_id: Some(bootstrap.owner_app.app_id.to_string()),
        client_secret: Some(secret.to_owned()),
        scope: Some("https://management.azure.com/.default".to_owned()),
        ..TokenForm::default()
    };
    let request = TokenRequest {
        endpoint: Endpoint::V2,
        tenant: bootstrap.tenant.id.to_string(),
        form,
    };
    sts.token(request)
        .await
        .map(|t| t.token.access_token)
        .map_err(|e| failed("owner token")(e.to_string()))
}
