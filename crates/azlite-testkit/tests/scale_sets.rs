//! Virtual machine scale sets through ARM, in-process: create, read, list, update and delete
//! with the identity block, the instances their capacity makes, RBAC as Azure checks it, and
//! the IMDS of an instance (opened by its Azure name, `{scale set}_{instanceId}`), which
//! serves the scale set's identities.

use azlite_testkit::{Principal, TestCloud};
use serde_json::{Value, json};

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const API: &str = "2024-11-01";

async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, API).await
}

async fn owned(cloud: &TestCloud, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    call(cloud, &cloud.owner_arm_token().await, method, path, body).await
}

fn scale_set_path(cloud: &TestCloud, rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachineScaleSets/{name}",
        cloud.group_path(rg)
    )
}

fn identity_path(cloud: &TestCloud, rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        cloud.group_path(rg)
    )
}

async fn create_group(cloud: &TestCloud, name: &str) {
    let body = Some(json!({ "location": "eastus" }));
    let (status, body) = owned(cloud, "PUT", &cloud.group_path(name), body).await;
    assert_eq!(status, 201, "{body}");
}

async fn create_identity(cloud: &TestCloud, rg: &str, name: &str) -> Value {
    let body = Some(json!({ "location": "eastus" }));
    let (status, body) = owned(cloud, "PUT", &identity_path(cloud, rg, name), body).await;
    assert_eq!(status, 201, "{body}");
    body
}

async fn assign(cloud: &TestCloud, scope: &str, role: &str, principal: &Principal) {
    cloud.assign_role(scope, role, &principal.object_id).await;
}

/// A scale set body as `az vmss create` would send the parts azlite keeps.
fn scale_set_body(capacity: u64, identity: Value) -> Value {
    json!({
        "location": "eastus",
        "sku": { "name": "Standard_B1s", "tier": "Standard", "capacity": capacity },
        "identity": identity,
        "properties": {
            "upgradePolicy": { "mode": "Manual" },
            "virtualMachineProfile": {
                "osProfile": { "computerNamePrefix": "web", "adminUsername": "azureuser" },
                "storageProfile": { "osDisk": { "osType": "Linux", "createOption": "FromImage" } }
            }
        }
    })
}

fn names(list: &Value) -> Vec<String> {
    let mut names: Vec<String> = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test]
async fn a_scale_set_is_created_listed_updated_and_deleted_with_its_identity() {
    let cloud = TestCloud::start().await.unwrap();
    create_group(&cloud, "rg").await;
    let path = scale_set_path(&cloud, "rg", "web");
    let body = scale_set_body(3, json!({ "type": "SystemAssigned" }));
    let (status, created) = owned(&cloud, "PUT", &path, Some(body.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["type"], "Microsoft.Compute/virtualMachineScaleSets");
    assert_eq!(created["sku"]["capacity"], 3);
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert!(created.get("azliteInstances").is_none(), "{created}");
    let principal = created["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        created["identity"]["tenantId"],
        cloud.info.tenant_id.as_str()
    );
    let unique_id = created["properties"]["uniqueId"].clone();
    assert!(unique_id.is_string());
    let object_id: azlite_types::ObjectId = principal.parse().unwrap();
    let sp = cloud.store.get_service_principal(object_id).await.unwrap();
    assert_eq!(
        sp.unwrap().managed_identity_resource_id.as_deref(),
        Some(path.as_str()),
        "the system identity's xms_mirid is the scale set"
    );

    // A PUT of the same body keeps the identity and the ids (200).
    let (status, again) = owned(&cloud, "PUT", &path, Some(body)).await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["identity"]["principalId"], principal.as_str());
    assert_eq!(again["properties"]["uniqueId"], unique_id);

    let (status, list) = owned(&cloud, "GET", &format!("{path}/virtualMachines"), None).await;
    assert_eq!(status, 200, "{list}");
    assert_eq!(names(&list), ["web_0", "web_1", "web_2"]);
    let first = &list["value"][0];
    assert_eq!(
        first["type"],
        "Microsoft.Compute/virtualMachineScaleSets/virtualMachines"
    );
    assert_eq!(first["identity"]["principalId"], principal.as_str());
    let (status, instance) = owned(&cloud, "GET", &format!("{path}/virtualMachines/2"), None).await;
    assert_eq!(status, 200, "{instance}");
    assert_eq!(instance["instanceId"], "2");
    assert_eq!(
        instance["properties"]["osProfile"]["computerName"],
        "web000002"
    );
    let vm_id_0 = first["properties"]["vmId"].clone();
    let (status, missing) = owned(&cloud, "GET", &format!("{path}/virtualMachines/3"), None).await;
    assert_eq!(
        (status, missing["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );

    for scope in [
        cloud.group_path("rg"),
        format!("/subscriptions/{}", cloud.info.subscription_id),
    ] {
        let url = format!("{scope}/providers/Microsoft.Compute/virtualMachineScaleSets");
        let (status, list) = owned(&cloud, "GET", &url, None).await;
        assert_eq!((status, names(&list)), (200, vec!["web".to_owned()]));
    }

    // PATCH: scale in to one instance (its vmId kept), attach a user-assigned identity.
    let uai = create_identity(&cloud, "rg", "web-id").await;
    let uai_id = uai["id"].as_str().unwrap();
    let patch = json!({
        "sku": { "capacity": 1 },
        "identity": { "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": { uai_id: {} } },
        "tags": { "tier": "web" },
    });
    let (status, patched) = owned(&cloud, "PATCH", &path, Some(patch)).await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(
        patched["sku"],
        json!({ "name": "Standard_B1s", "tier": "Standard", "capacity": 1 })
    );
    assert_eq!(patched["tags"], json!({ "tier": "web" }));
    assert_eq!(patched["identity"]["principalId"], principal.as_str());
    let attached = &patched["identity"]["userAssignedIdentities"][uai_id];
    assert_eq!(attached["principalId"], uai["properties"]["principalId"]);
    assert_eq!(attached["clientId"], uai["properties"]["clientId"]);
    let (_, list) = owned(&cloud, "GET", &format!("{path}/virtualMachines"), None).await;
    assert_eq!(names(&list), ["web_0"]);
    assert_eq!(list["value"][0]["properties"]["vmId"], vm_id_0);

    let bad = json!({ "sku": { "capacity": 1001 } });
    let (status, refused) = owned(&cloud, "PATCH", &path, Some(bad)).await;
    assert_eq!(
        (status, refused["error"]["code"].as_str()),
        (400, Some("InvalidParameter"))
    );

    // Turning the system identity off deletes its principal; so does deleting the scale set.
    let off = json!({ "identity": { "type": "UserAssigned" } });
    let (status, patched) = owned(&cloud, "PATCH", &path, Some(off)).await;
    assert_eq!(status, 200, "{patched}");
    assert!(
        patched["identity"].get("principalId").is_none(),
        "{patched}"
    );
    assert!(
        cloud
            .store
            .get_service_principal(object_id)
            .await
            .unwrap()
            .is_none()
    );
    let on = json!({ "identity": { "type": "SystemAssigned" } });
    let (_, patched) = owned(&cloud, "PATCH", &path, Some(on)).await;
    let second: azlite_types::ObjectId = patched["identity"]["principalId"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(patched["identity"].get("userAssignedIdentities").is_none());
    assert_eq!(owned(&cloud, "DELETE", &path, None).await.0, 200);
    assert!(
        cloud
            .store
            .get_service_principal(second)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(owned(&cloud, "DELETE", &path, None).await.0, 204);
    let (status, gone) = owned(&cloud, "GET", &path, None).await;
    assert_eq!(
        (status, gone["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (status, _) = owned(&cloud, "GET", &format!("{path}/virtualMachines"), None).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn scale_sets_are_authorized_as_azure_does() {
    let cloud = TestCloud::start().await.unwrap();
    create_group(&cloud, "rg").await;
    let path = scale_set_path(&cloud, "rg", "app");
    let body = scale_set_body(2, json!({ "type": "None" }));
    assert_eq!(owned(&cloud, "PUT", &path, Some(body)).await.0, 201);
    let uai = create_identity(&cloud, "rg", "app-id").await;
    let uai_id = uai["id"].as_str().unwrap().to_owned();

    let nobody = cloud.new_principal("nobody").await;
    let (status, body) = call(&cloud, &nobody.token, "GET", &path, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    let instances = format!("{path}/virtualMachines");
    let (status, body) = call(&cloud, &nobody.token, "GET", &instances, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read"),
        "{body}"
    );

    let reader = cloud.new_principal("reader").await;
    assign(&cloud, &cloud.group_path("rg"), READER, &reader).await;
    assert_eq!(call(&cloud, &reader.token, "GET", &path, None).await.0, 200);
    assert_eq!(
        call(&cloud, &reader.token, "GET", &instances, None).await.0,
        200
    );
    let (status, body) = call(
        &cloud,
        &reader.token,
        "PATCH",
        &path,
        Some(json!({ "tags": {} })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Microsoft.Compute/virtualMachineScaleSets/write"),
        "{body}"
    );
    let (status, _) = call(&cloud, &reader.token, "DELETE", &path, None).await;
    assert_eq!(status, 403);

    // Contributor may write the scale set, but attaching an identity also takes
    // assign/action on it.
    let contributor = cloud.new_principal("contributor").await;
    assign(&cloud, &path, CONTRIBUTOR, &contributor).await;
    let attach = json!({ "identity": { "type": "UserAssigned", "userAssignedIdentities": { &uai_id: {} } } });
    let (status, body) = call(
        &cloud,
        &contributor.token,
        "PATCH",
        &path,
        Some(attach.clone()),
    )
    .await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "LinkedAuthorizationFailed");
    let expected = format!(
        "The client '{}' with object id '{}' has permission to perform action 'Microsoft.Compute/virtualMachineScaleSets/write' on scope '{path}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '{uai_id}' or the linked scope(s) are invalid.",
        contributor.app_id, contributor.object_id
    );
    assert_eq!(body["error"]["message"], expected.as_str());
    let (_, unchanged) = owned(&cloud, "GET", &path, None).await;
    assert!(unchanged.get("identity").is_none(), "{unchanged}");
    let (status, body) = call(
        &cloud,
        &contributor.token,
        "PATCH",
        &path,
        Some(json!({ "identity": { "type": "SystemAssigned" } })),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A missing identity is ARM's FailedIdentityOperation; a bad name is refused.
    let ghost = identity_path(&cloud, "rg", "ghost");
    let attach =
        json!({ "identity": { "type": "UserAssigned", "userAssignedIdentities": { ghost: {} } } });
    let (status, body) = owned(&cloud, "PATCH", &path, Some(attach)).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("FailedIdentityOperation"))
    );
    let bad = scale_set_path(&cloud, "rg", "bad-");
    let (status, body) = owned(&cloud, "PUT", &bad, Some(scale_set_body(1, Value::Null))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("InvalidResourceName"))
    );
}

/// The IMDS of one instance, served as `azlite imds --vm` serves it, on an ephemeral port.
async fn instance_imds(cloud: &TestCloud, name: &str, group: &str) -> Result<String, String> {
    let config = azlite_server::Config::with_data_dir(cloud.data_dir());
    let endpoints = azlite_server::open_vm_endpoints(&config, name, Some(group))
        .await
        .map_err(|e| e.to_string())?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(azlite_server::serve_plain_http(
        endpoints.router,
        listener,
        std::future::pending(),
    ));
    Ok(format!("http://{addr}"))
}

async fn imds_get(cloud: &TestCloud, base: &str, path: &str) -> (u16, Value) {
    let response = cloud
        .http
        .get(format!("{base}{path}"))
        .header("Metadata", "true")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test]
async fn an_instance_serves_the_scale_sets_identities_on_its_imds() {
    let cloud = TestCloud::start().await.unwrap();
    create_group(&cloud, "rg").await;
    let uai = create_identity(&cloud, "rg", "ss-id").await;
    let uai_id = uai["id"].as_str().unwrap();
    let path = scale_set_path(&cloud, "rg", "ss");
    let identity =
        json!({ "type": "SystemAssigned, UserAssigned", "userAssignedIdentities": { uai_id: {} } });
    let (status, created) = owned(&cloud, "PUT", &path, Some(scale_set_body(2, identity))).await;
    assert_eq!(status, 201, "{created}");
    let system = created["identity"]["principalId"].as_str().unwrap();
    let (_, instance) = owned(&cloud, "GET", &format!("{path}/virtualMachines/1"), None).await;

    let base = instance_imds(&cloud, "ss_1", "rg").await.unwrap();
    let token = "/metadata/identity/oauth2/token?api-version=2018-02-01&resource=https://management.azure.com/";
    // No selector: the system identity; selectors name user-assigned identities.
    let (status, body) = imds_get(&cloud, &base, token).await;
    assert_eq!(status, 200, "{body}");
    let by_default = claims(body["access_token"].as_str().unwrap());
    assert_eq!(by_default["oid"], system);
    assert_eq!(by_default["xms_mirid"], path.as_str());
    let uai_principal = uai["properties"]["principalId"].as_str().unwrap();
    let (status, body) =
        imds_get(&cloud, &base, &format!("{token}&object_id={uai_principal}")).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["oid"],
        uai_principal
    );
    let client = uai["properties"]["clientId"].as_str().unwrap();
    let (status, body) = imds_get(&cloud, &base, &format!("{token}&client_id={client}")).await;
    assert_eq!(status, 200, "{body}");
    let by_client = claims(body["access_token"].as_str().unwrap());
    assert_eq!(by_client["oid"], uai["properties"]["principalId"]);
    assert_eq!(by_client["xms_mirid"], uai_id);
    let (status, body) = imds_get(&cloud, &base, &format!("{token}&msi_res_id={uai_id}")).await;
    assert_eq!(status, 200, "{body}");
    let unknown = uuid::Uuid::new_v4();
    let (status, _) = imds_get(&cloud, &base, &format!("{token}&client_id={unknown}")).await;
    assert_eq!(status, 400);

    let (status, compute) = imds_get(
        &cloud,
        &base,
        "/metadata/instance/compute?api-version=2021-02-01",
    )
    .await;
    assert_eq!(status, 200, "{compute}");
    assert_eq!(compute["vmScaleSetName"], "ss");
    assert_eq!(compute["name"], "ss_1");
    assert_eq!(
        compute["resourceId"],
        format!("{path}/virtualMachines/1").as_str()
    );
    assert_eq!(compute["vmId"], instance["properties"]["vmId"]);
    assert_eq!(compute["vmSize"], "Standard_B1s");
    assert_eq!(compute["osType"], "Linux");

    // Instances past the capacity do not exist; a scale-in removes one.
    let error = instance_imds(&cloud, "ss_2", "rg").await.unwrap_err();
    assert!(error.contains("no virtual machine named 'ss_2'"), "{error}");
    let (status, _) = owned(
        &cloud,
        "PATCH",
        &path,
        Some(json!({ "sku": { "capacity": 1 } })),
    )
    .await;
    assert_eq!(status, 200);
    assert!(instance_imds(&cloud, "ss_1", "rg").await.is_err());
    let (status, _) = imds_get(&cloud, &base, token).await;
    assert_eq!(status, 400, "the removed instance has no identity left");
    // Removing the system identity takes its tokens at once from the remaining instance.
    let base = instance_imds(&cloud, "ss_0", "rg").await.unwrap();
    let (status, body) = imds_get(&cloud, &base, token).await;
    assert_eq!(status, 200);
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["oid"],
        system
    );
    let off = json!({ "identity": { "type": "UserAssigned" } });
    assert_eq!(owned(&cloud, "PATCH", &path, Some(off)).await.0, 200);
    let (status, body) = imds_get(&cloud, &base, token).await;
    assert_eq!(
        status, 200,
        "one user-assigned identity alone is the default: {body}"
    );
    assert_eq!(
        claims(body["access_token"].as_str().unwrap())["oid"],
        uai_principal
    );
}
