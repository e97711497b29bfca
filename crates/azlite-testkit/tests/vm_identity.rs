//! Managed identities through ARM, in-process: user-assigned identities with their service
//! principals, VMs with system- and user-assigned identities as the VM REST tutorial
//! configures them, and ARM's linked authorization for attaching an identity.

use azlite_testkit::{Principal, TestCloud};
use serde_json::{Value, json};

const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const MANAGED_IDENTITY_OPERATOR: &str = "f1a07417-d97a-45cb-824c-7a7467783830";

async fn call_with_version(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
    api_version: &str,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, api_version).await
}

/// The tutorial's api-version for VMs; ARM accepts any date-style version for every type.
async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    call_with_version(cloud, token, method, path, body, "2018-06-01").await
}

async fn owner(cloud: &TestCloud) -> String {
    cloud.owner_arm_token().await
}

async fn new_principal(cloud: &TestCloud, name: &str) -> Principal {
    cloud.new_principal(name).await
}

fn group(cloud: &TestCloud, name: &str) -> String {
    cloud.group_path(name)
}

fn identity_path(cloud: &TestCloud, rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}",
        group(cloud, rg)
    )
}

fn vm_path(cloud: &TestCloud, rg: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.Compute/virtualMachines/{name}",
        group(cloud, rg)
    )
}

async fn create_group(cloud: &TestCloud, name: &str) {
    let (status, body) = call(
        cloud,
        &owner(cloud).await,
        "PUT",
        &group(cloud, name),
        Some(json!({ "location": "westus" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

/// Assigns `role` at `scope` to `principal` as the owner, without `principalType`, as
/// `az vm identity assign --role` does (reference §4.7).
async fn assign(cloud: &TestCloud, scope: &str, role: &str, principal: &str) -> (u16, Value) {
    let body = json!({ "properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{role}", cloud.info.subscription_id),
        "principalId": principal,
    }});
    let path = format!(
        "{scope}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    call(cloud, &owner(cloud).await, "PUT", &path, Some(body)).await
}

/// The tutorial's VM body (DOC-VMREST), with the identity block given.
fn tutorial_vm(cloud: &TestCloud, identity: Value) -> Value {
    json!({
        "location": "westus",
        "name": "myVM",
        "identity": identity,
        "properties": {
            "hardwareProfile": { "vmSize": "Standard_D2_v2" },
            "storageProfile": {
                "imageReference": { "sku": "2016-Datacenter", "publisher": "MicrosoftWindowsServer", "version": "latest", "offer": "WindowsServer" },
                "osDisk": { "caching": "ReadWrite", "managedDisk": { "storageAccountType": "StandardSSD_LRS" }, "name": "myVM3osdisk", "createOption": "FromImage" }
            },
            "osProfile": { "adminUsername": "azureuser", "computerName": "myVM", "adminPassword": "myPassword12" },
            "networkProfile": { "networkInterfaces": [{
                "id": format!("{}/providers/Microsoft.Network/networkInterfaces/myNic", group(cloud, "myResourceGroup")),
                "properties": { "primary": true }
            }]}
        }
    })
}

#[tokio::test]
async fn a_user_assigned_identity_has_a_principal_from_the_first_answer() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    create_group(&cloud, "ids").await;
    let path = identity_path(&cloud, "ids", "app-identity");

    let (status, created) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(json!({ "location": "westus", "tags": { "env": "test" } })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(
        created["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );
    assert_eq!(created["name"], "app-identity");
    assert_eq!(created["tags"]["env"], "test");
    let principal = created["properties"]["principalId"].as_str().unwrap();
    let client = created["properties"]["clientId"].as_str().unwrap();
    assert_eq!(created["properties"]["tenantId"], cloud.info.tenant_id);
    assert_ne!(principal, client);
    assert!(created["properties"].get("clientSecretUrl").is_none());

    // The principal takes a role at once: no replication delay, no PrincipalNotFound.
    let (status, body) = assign(&cloud, &group(&cloud, "ids"), READER, principal).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["properties"]["principalType"], "ServicePrincipal");

    // A second PUT is an update: same principal, new tags.
    let (status, again) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(json!({ "location": "westus" })),
    )
    .await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["properties"]["principalId"], principal);
    assert_eq!(again["tags"], json!({}));
    let (status, patched) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "tags": { "team": "a" } })),
    )
    .await;
    assert_eq!((status, &patched["tags"]), (200, &json!({ "team": "a" })));

    // The old preview also answers clientSecretUrl.
    let (status, old) =
        call_with_version(&cloud, &owner, "GET", &path, None, "2015-08-31-preview").await;
    assert_eq!(status, 200);
    assert!(
        old["properties"]["clientSecretUrl"]
            .as_str()
            .unwrap()
            .contains(principal)
    );

    // Lists by group and by subscription, and the generic resource list.
    let (status, by_group) = call(
        &cloud,
        &owner,
        "GET",
        &format!(
            "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
            group(&cloud, "IDS")
        ),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(by_group["value"][0]["properties"]["principalId"], principal);
    let (_, by_subscription) = call(
        &cloud,
        &owner,
        "GET",
        &format!(
            "/subscriptions/{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!(by_subscription["value"].as_array().unwrap().len(), 1);
    let (_, generic) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{}/resources", group(&cloud, "ids")),
        None,
    )
    .await;
    assert_eq!(
        generic["value"][0]["type"],
        "Microsoft.ManagedIdentity/userAssignedIdentities"
    );

    // Delete: 200, then 404 with ARM's message, then 204; the principal is gone with it.
    assert_eq!(call(&cloud, &owner, "DELETE", &path, None).await.0, 200);
    let (status, body) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 404);
    assert_eq!(body["error"]["code"], "ResourceNotFound");
    assert_eq!(
        body["error"]["message"],
        "The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/app-identity' under resource group 'ids' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix"
    );
    assert_eq!(call(&cloud, &owner, "DELETE", &path, None).await.0, 204);
    let (status, body) = assign(&cloud, &group(&cloud, "ids"), CONTRIBUTOR, principal).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
}

#[tokio::test]
async fn identity_requests_are_checked_like_arm_checks_them() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    create_group(&cloud, "rg").await;
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &identity_path(&cloud, "missing-group", "id1"),
        Some(json!({ "location": "westus" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &identity_path(&cloud, "rg", "-bad"),
        Some(json!({ "location": "westus" })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("InvalidResourceName"))
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &identity_path(&cloud, "rg", "id1"),
        Some(json!({})),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("LocationRequired"))
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "GET",
        &vm_path(&cloud, "missing-group", "vm"),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
    // Other provider types are still not served.
    let (status, body) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{}/providers/Microsoft.Sql/servers/s1", group(&cloud, "rg")),
        None,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("NoRegisteredProviderFound"))
    );
}

#[tokio::test]
async fn a_vm_gets_and_loses_identities_as_the_tutorial_says() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    create_group(&cloud, "myResourceGroup").await;
    let (_, uai) = call(
        &cloud,
        &owner,
        "PUT",
        &identity_path(&cloud, "myResourceGroup", "ID1"),
        Some(json!({ "location": "westus" })),
    )
    .await;
    let uai_principal = uai["properties"]["principalId"].as_str().unwrap();
    let vm = vm_path(&cloud, "myResourceGroup", "myVM");

    // Create with a system-assigned identity.
    let body = tutorial_vm(&cloud, json!({ "type": "SystemAssigned" }));
    let (status, created) = call(&cloud, &owner, "PUT", &vm, Some(body.clone())).await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["identity"]["type"], "SystemAssigned");
    assert_eq!(created["identity"]["tenantId"], cloud.info.tenant_id);
    let system = created["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(created["properties"]["provisioningState"], "Succeeded");
    assert_eq!(
        created["properties"]["hardwareProfile"]["vmSize"],
        "Standard_D2_v2"
    );
    let vm_id = created["properties"]["vmId"].as_str().unwrap().to_owned();
    let (status, body_) = assign(&cloud, &vm, READER, &system).await;
    assert_eq!(status, 201, "{body_}");
    let (status, default) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{vm}/providers/Microsoft.ManagedIdentity/identities/default"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{default}");
    assert_eq!(default["properties"]["principalId"], system.as_str());
    assert!(default["properties"]["clientId"].is_string());

    // The same PUT again: 200, same principal, same vmId.
    let (status, again) = call(&cloud, &owner, "PUT", &vm, Some(body)).await;
    assert_eq!(status, 200);
    assert_eq!(again["identity"]["principalId"], system.as_str());
    assert_eq!(again["properties"]["vmId"], vm_id.as_str());

    // Add the user-assigned identity, with the tutorial's loose casing.
    let loose_key = format!(
        "/subscriptions/{}/resourcegroups/myResourceGroup/providers/Microsoft.ManagedIdentity/userAssignedIdentities/ID1",
        cloud.info.subscription_id
    );
    let (status, both) = call(
        &cloud,
        &owner,
        "PATCH",
        &vm,
        Some(json!({ "identity": {
            "type": "systemassigned,userassigned",
            "userAssignedIdentities": { &loose_key: {} },
        }})),
    )
    .await;
    assert_eq!(status, 200, "{both}");
    assert_eq!(both["identity"]["type"], "SystemAssigned, UserAssigned");
    assert_eq!(both["identity"]["principalId"], system.as_str());
    assert_eq!(
        both["identity"]["userAssignedIdentities"][&loose_key]["principalId"],
        uai_principal
    );
    assert_eq!(both["properties"]["vmId"], vm_id.as_str());

    // The generic resource list shows the VM with its identity block.
    let (_, listed) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{}/resources", group(&cloud, "myResourceGroup")),
        None,
    )
    .await;
    let listed_vm = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["type"] == "Microsoft.Compute/virtualMachines")
        .unwrap();
    assert_eq!(listed_vm["identity"]["principalId"], system.as_str());
    let (_, vms) = call(
        &cloud,
        &owner,
        "GET",
        &format!(
            "/subscriptions/{}/providers/Microsoft.Compute/virtualMachines",
            cloud.info.subscription_id
        ),
        None,
    )
    .await;
    assert_eq!(vms["value"].as_array().unwrap().len(), 1);

    // Remove it with null, the key in yet another casing; properties merge meanwhile.
    let (status, system_only) = call(
        &cloud,
        &owner,
        "PATCH",
        &vm,
        Some(json!({
            "identity": {
                "type": "SystemAssigned",
                "userAssignedIdentities": { loose_key.to_uppercase(): null },
            },
            "properties": { "hardwareProfile": { "vmSize": "Standard_D4_v2" } },
        })),
    )
    .await;
    assert_eq!(status, 200, "{system_only}");
    assert_eq!(system_only["identity"]["type"], "SystemAssigned");
    assert!(
        system_only["identity"]
            .get("userAssignedIdentities")
            .is_none()
    );
    assert_eq!(
        system_only["properties"]["hardwareProfile"]["vmSize"],
        "Standard_D4_v2"
    );
    assert_eq!(
        system_only["properties"]["osProfile"]["computerName"],
        "myVM"
    );

    // An identity that does not exist.
    let (status, body) = call(
        &cloud,
        &owner,
        "PATCH",
        &vm,
        Some(json!({ "identity": {
            "type": "SystemAssigned, UserAssigned",
            "userAssignedIdentities": { identity_path(&cloud, "myResourceGroup", "nope"): {} },
        }})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["code"], "FailedIdentityOperation");

    // None removes the system identity and its principal.
    let (status, none) = call(
        &cloud,
        &owner,
        "PATCH",
        &vm,
        Some(json!({ "identity": { "type": "None" } })),
    )
    .await;
    assert_eq!(status, 200, "{none}");
    assert!(none.get("identity").is_none(), "{none}");
    let (status, body) = assign(&cloud, &vm, CONTRIBUTOR, &system).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{vm}/providers/Microsoft.ManagedIdentity/identities/default"),
        None,
    )
    .await;
    assert_eq!(status, 404);

    // Deleting a VM deletes its system identity's principal.
    let vm2 = vm_path(&cloud, "myResourceGroup", "vm2");
    let (_, created) = call(
        &cloud,
        &owner,
        "PUT",
        &vm2,
        Some(json!({ "location": "westus", "identity": { "type": "SystemAssigned" } })),
    )
    .await;
    let principal2 = created["identity"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(call(&cloud, &owner, "DELETE", &vm2, None).await.0, 200);
    assert_eq!(call(&cloud, &owner, "DELETE", &vm2, None).await.0, 204);
    let (status, body) = assign(
        &cloud,
        &group(&cloud, "myResourceGroup"),
        READER,
        &principal2,
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("PrincipalNotFound"))
    );
    assert_eq!(call(&cloud, &owner, "DELETE", &vm, None).await.0, 200);
}

#[tokio::test]
async fn attaching_an_identity_needs_assign_action_on_it() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    create_group(&cloud, "vms").await;
    create_group(&cloud, "identities").await;
    let uai = identity_path(&cloud, "identities", "shared");
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &uai,
        Some(json!({ "location": "westus" })),
    )
    .await;
    assert_eq!(status, 201);
    let vm = vm_path(&cloud, "vms", "vm1");
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &vm,
        Some(json!({ "location": "westus", "properties": {} })),
    )
    .await;
    assert_eq!(status, 201);

    let operator = new_principal(&cloud, "vm-operator").await;
    assert_eq!(
        assign(
            &cloud,
            &group(&cloud, "vms"),
            CONTRIBUTOR,
            &operator.object_id
        )
        .await
        .0,
        201
    );
    let attach = json!({ "identity": {
        "type": "UserAssigned",
        "userAssignedIdentities": { &uai: {} },
    }});
    let (status, body) = call(&cloud, &operator.token, "PATCH", &vm, Some(attach.clone())).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["code"], "LinkedAuthorizationFailed");
    let message = body["error"]["message"].as_str().unwrap();
    let expected = format!(
        "The client '{}' with object id '{}' has permission to perform action 'Microsoft.Compute/virtualMachines/write' on scope '{vm}'; however, it does not have permission to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/assign/action' on the linked scope(s) '{uai}' or the linked scope(s) are invalid.",
        operator.app_id, operator.object_id
    );
    assert_eq!(message, expected);
    // Nothing changed.
    let (_, unchanged) = call(&cloud, &owner, "GET", &vm, None).await;
    assert!(unchanged.get("identity").is_none(), "{unchanged}");

    // Managed Identity Operator on the identity is what the tutorial says it takes.
    assert_eq!(
        assign(&cloud, &uai, MANAGED_IDENTITY_OPERATOR, &operator.object_id)
            .await
            .0,
        201
    );
    let (status, body) = call(&cloud, &operator.token, "PATCH", &vm, Some(attach)).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["identity"]["type"], "UserAssigned");
    assert!(body["identity"].get("principalId").is_none());
    // Detaching needs no linked check.
    let detach = json!({ "identity": { "type": "None" } });
    assert_eq!(
        call(&cloud, &operator.token, "PATCH", &vm, Some(detach))
            .await
            .0,
        200
    );

    // Without write on the VM, plain AuthorizationFailed comes first.
    let reader = new_principal(&cloud, "vm-reader").await;
    assign(&cloud, &group(&cloud, "vms"), READER, &reader.object_id).await;
    let (status, body) = call(
        &cloud,
        &reader.token,
        "PATCH",
        &vm,
        Some(json!({ "tags": {} })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (403, Some("AuthorizationFailed"))
    );
    assert_eq!(call(&cloud, &reader.token, "GET", &vm, None).await.0, 200);
}

#[tokio::test]
async fn deleting_a_group_deletes_the_principals_of_its_identities() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    create_group(&cloud, "doomed").await;
    create_group(&cloud, "kept").await;
    let (_, uai) = call(
        &cloud,
        &owner,
        "PUT",
        &identity_path(&cloud, "doomed", "id1"),
        Some(json!({ "location": "westus" })),
    )
    .await;
    let (_, vm) = call(
        &cloud,
        &owner,
        "PUT",
        &vm_path(&cloud, "doomed", "vm1"),
        Some(json!({ "location": "westus", "identity": { "type": "SystemAssigned" } })),
    )
    .await;
    assert_eq!(
        call(&cloud, &owner, "DELETE", &group(&cloud, "doomed"), None)
            .await
            .0,
        200
    );
    for principal in [
        &uai["properties"]["principalId"],
        &vm["identity"]["principalId"],
    ] {
        let (status, body) = assign(
            &cloud,
            &group(&cloud, "kept"),
            READER,
            principal.as_str().unwrap(),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("PrincipalNotFound"))
        );
    }
}
