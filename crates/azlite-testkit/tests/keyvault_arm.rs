//! Key vaults through ARM, in-process: the vault lifecycle, the stored model the data plane
//! reads, `accessPolicies/{add|replace|remove}`, global names (across groups and
//! subscriptions), `checkNameAvailability`, and RBAC on every operation.

use azlite_testkit::TestCloud;
use serde_json::{Value, json};

/// The spec version the reference cites; ARM accepts any date-style version.
const API: &str = "2022-07-01";
const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
const TYPE: &str = "Microsoft.KeyVault/vaults";

fn vault_path(cloud: &TestCloud, group: &str, name: &str) -> String {
    format!(
        "{}/providers/Microsoft.KeyVault/vaults/{name}",
        cloud.group_path(group)
    )
}

async fn call(
    cloud: &TestCloud,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    cloud.arm(token, method, path, body, API).await
}

async fn create_group(cloud: &TestCloud, token: &str, name: &str) {
    let (status, body) = call(
        cloud,
        token,
        "PUT",
        &cloud.group_path(name),
        Some(json!({ "location": "westeurope" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
}

fn vault_body(tenant: &str, policies: Value) -> Value {
    json!({
        "location": "westeurope",
        "tags": { "env": "test" },
        "properties": {
            "tenantId": tenant,
            "sku": { "family": "A", "name": "standard" },
            "accessPolicies": policies,
        },
    })
}

fn policy(tenant: &str, object: &str, secrets: &[&str]) -> Value {
    json!({ "tenantId": tenant, "objectId": object, "permissions": { "secrets": secrets } })
}

#[tokio::test]
async fn a_vault_is_created_read_listed_updated_and_deleted() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    create_group(&cloud, &owner, "kv-rg").await;
    let path = vault_path(&cloud, "kv-rg", "Kv-Life1");
    let object = uuid::Uuid::new_v4().to_string();

    let (status, created) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(vault_body(
            &tenant,
            json!([policy(&tenant, &object, &["get", "List"])]),
        )),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    assert_eq!(created["type"], TYPE);
    assert_eq!(created["name"], "Kv-Life1");
    assert_eq!(created["location"], "westeurope");
    assert_eq!(created["tags"], json!({ "env": "test" }));
    assert_eq!(
        created["properties"],
        json!({
            "tenantId": tenant,
            "sku": { "family": "A", "name": "standard" },
            "accessPolicies": [{
                "tenantId": tenant,
                "objectId": object,
                "permissions": { "keys": [], "secrets": ["get", "List"], "certificates": [], "storage": [] },
            }],
            "enabledForDeployment": false,
            "enabledForDiskEncryption": false,
            "enabledForTemplateDeployment": false,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": false,
            "vaultUri": "https://Kv-Life1.vault.azure.net/",
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        })
    );

    // A second PUT is an update (200), with what it sends.
    let mut again = vault_body(&tenant, json!([]));
    again["properties"]["enableRbacAuthorization"] = json!(true);
    again["properties"]["softDeleteRetentionInDays"] = json!(7);
    let (status, updated) = call(&cloud, &owner, "PUT", &path, Some(again)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["properties"]["accessPolicies"], json!([]));
    assert_eq!(updated["properties"]["enableRbacAuthorization"], true);
    assert_eq!(updated["properties"]["softDeleteRetentionInDays"], 7);

    // GET is case-insensitive on the path and answers the stored vault.
    let (status, got) = call(&cloud, &owner, "GET", &path.to_lowercase(), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got, updated);

    // PATCH merges: only what is sent changes; tags replaced when sent.
    let (status, patched) = call(
        &cloud,
        &owner,
        "PATCH",
        &path,
        Some(json!({ "tags": { "team": "a" }, "properties": { "enabledForDeployment": true } })),
    )
    .await;
    assert_eq!(status, 200, "{patched}");
    assert_eq!(patched["tags"], json!({ "team": "a" }));
    assert_eq!(patched["properties"]["enabledForDeployment"], true);
    assert_eq!(patched["properties"]["enableRbacAuthorization"], true);
    assert_eq!(patched["properties"]["softDeleteRetentionInDays"], 7);

    // Lists: by group, by subscription, and the generic resource list with the type filter
    // azure-mgmt-keyvault's `vaults.list()` sends.
    let by_group = format!(
        "{}/providers/Microsoft.KeyVault/vaults",
        cloud.group_path("kv-rg")
    );
    let (status, listed) = call(&cloud, &owner, "GET", &by_group, None).await;
    assert_eq!(status, 200, "{listed}");
    assert_eq!(listed["value"], json!([patched]));
    let by_sub = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/vaults",
        cloud.info.subscription_id
    );
    let (_, listed) = call(&cloud, &owner, "GET", &by_sub, None).await;
    assert_eq!(listed["value"], json!([patched]));
    let identity = format!(
        "{}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/not-a-vault",
        cloud.group_path("kv-rg")
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &identity,
        Some(json!({ "location": "westeurope" })),
    )
    .await;
    assert_eq!(status, 201);
    let resources = format!(
        "/subscriptions/{}/resources?$filter=resourceType%20eq%20%27Microsoft.KeyVault%2Fvaults%27",
        cloud.info.subscription_id
    );
    let (status, listed) = call(&cloud, &owner, "GET", &resources, None).await;
    assert_eq!(status, 200, "{listed}");
    let names: Vec<&str> = listed["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Kv-Life1"]);
    let (status, all) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{}/resources", cloud.group_path("kv-rg")),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(all["value"].as_array().unwrap().len(), 2);

    // DELETE: 200, then 204; the vault is gone.
    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 200);
    let (status, body) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 204);
    let (status, body) = call(&cloud, &owner, "PATCH", &path, Some(json!({}))).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
}

#[tokio::test]
async fn bad_bodies_are_refused() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    create_group(&cloud, &owner, "kv-bad").await;
    let path = vault_path(&cloud, "kv-bad", "kv-bad-1");
    let unknown_tenant = uuid::Uuid::new_v4().to_string();
    let cases = [
        json!({ "location": "westeurope" }),
        json!({ "properties": { "tenantId": tenant, "sku": { "name": "standard" } } }),
        vault_body(&unknown_tenant, json!([])),
        vault_body(&tenant, json!([policy(&tenant, &tenant, &["read"])])),
        vault_body(
            &tenant,
            json!([{ "tenantId": tenant, "objectId": "me" , "permissions": {} }]),
        ),
    ];
    for body in cases {
        let (status, answer) = call(&cloud, &owner, "PUT", &path, Some(body.clone())).await;
        assert_eq!(status, 400, "{body} → {answer}");
    }
    let (status, body) = call(&cloud, &owner, "GET", &path, None).await;
    assert_eq!(status, 404, "nothing was created: {body}");
    let missing_group = vault_path(&cloud, "no-such-group", "kv-bad-2");
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &missing_group,
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceGroupNotFound"))
    );
}

#[tokio::test]
async fn access_policy_updates_merge_per_identity() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    create_group(&cloud, &owner, "kv-ap").await;
    let path = vault_path(&cloud, "kv-ap", "kv-policies");
    let (a, b) = (
        uuid::Uuid::new_v4().to_string(),
        uuid::Uuid::new_v4().to_string(),
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(vault_body(&tenant, json!([policy(&tenant, &a, &["get"])]))),
    )
    .await;
    assert_eq!(status, 201);
    let update = |kind: &'static str, policies: Value| {
        let cloud = &cloud;
        let owner = owner.clone();
        let path = format!("{path}/accessPolicies/{kind}");
        async move {
            call(
                cloud,
                &owner,
                "PUT",
                &path,
                Some(json!({ "properties": { "accessPolicies": policies } })),
            )
            .await
        }
    };
    let policies = || async {
        let (_, vault) = call(&cloud, &owner, "GET", &path, None).await;
        vault["properties"]["accessPolicies"].clone()
    };

    // add: merged into a's entry (no duplicate "GET"), b gets a new entry.
    let (status, answer) = update(
        "add",
        json!([
            policy(&tenant, &a.to_uppercase(), &["GET", "list"]),
            policy(&tenant, &b, &["set"])
        ]),
    )
    .await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["type"], "Microsoft.KeyVault/vaults/accessPolicies");
    assert_eq!(answer["name"], "add");
    assert_eq!(
        answer["properties"]["accessPolicies"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let after_add = policies().await;
    assert_eq!(after_add.as_array().unwrap().len(), 2, "{after_add}");
    assert_eq!(after_add[0]["objectId"], a);
    assert_eq!(
        after_add[0]["permissions"]["secrets"],
        json!(["get", "list"])
    );
    assert_eq!(after_add[1]["objectId"], b);
    assert_eq!(after_add[1]["permissions"]["secrets"], json!(["set"]));

    // remove: permissions go; b's entry, left empty, is dropped.
    let (status, _) = update(
        "remove",
        json!([policy(&tenant, &a, &["get"]), policy(&tenant, &b, &["SET"])]),
    )
    .await;
    assert_eq!(status, 200);
    let after_remove = policies().await;
    assert_eq!(after_remove.as_array().unwrap().len(), 1, "{after_remove}");
    assert_eq!(after_remove[0]["permissions"]["secrets"], json!(["list"]));

    // replace: the list is what was sent.
    let (status, _) = update("replace", json!([policy(&tenant, &b, &["all"])])).await;
    assert_eq!(status, 200);
    let after_replace = policies().await;
    assert_eq!(
        after_replace,
        json!([{
            "tenantId": tenant, "objectId": b,
            "permissions": { "keys": [], "secrets": ["all"], "certificates": [], "storage": [] },
        }])
    );

    // An unknown kind is not an operation; a vault that does not exist is 404.
    let (status, _) = update("merge", json!([])).await;
    assert_eq!(status, 400);
    let missing = format!(
        "{}/accessPolicies/add",
        vault_path(&cloud, "kv-ap", "kv-missing")
    );
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &missing,
        Some(json!({ "properties": { "accessPolicies": [] } })),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("ResourceNotFound"))
    );
    let (status, _) = call(
        &cloud,
        &owner,
        "GET",
        &format!("{path}/accessPolicies/add"),
        None,
    )
    .await;
    assert_eq!(status, 405);
}

#[tokio::test]
async fn vault_names_follow_the_rules_and_are_global() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    create_group(&cloud, &owner, "kv-one").await;
    create_group(&cloud, &owner, "kv-two").await;
    for bad in [
        "ab",
        "1vault",
        "vault-",
        "my--vault",
        "my_vault",
        "abcdefghijklmnopqrstuvwxy",
    ] {
        let (status, body) = call(
            &cloud,
            &owner,
            "PUT",
            &vault_path(&cloud, "kv-one", bad),
            Some(vault_body(&tenant, json!([]))),
        )
        .await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (400, Some("VaultNameNotValid")),
            "{bad}"
        );
    }
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &vault_path(&cloud, "kv-one", "shared-name"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(status, 201);
    // The same name in another group (any casing) is taken.
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &vault_path(&cloud, "kv-two", "SHARED-NAME"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("VaultAlreadyExists")),
        "{body}"
    );

    let check = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/checkNameAvailability",
        cloud.info.subscription_id
    );
    let ask = |name: &'static str| {
        let (cloud, owner, check) = (&cloud, owner.clone(), check.clone());
        async move {
            let (status, body) = call(
                cloud,
                &owner,
                "POST",
                &check,
                Some(json!({ "name": name, "type": TYPE })),
            )
            .await;
            assert_eq!(status, 200, "{body}");
            body
        }
    };
    assert_eq!(ask("free-name").await, json!({ "nameAvailable": true }));
    let taken = ask("Shared-Name").await;
    assert_eq!(
        (taken["nameAvailable"].as_bool(), taken["reason"].as_str()),
        (Some(false), Some("AlreadyExists"))
    );
    let invalid = ask("no").await;
    assert_eq!(invalid["reason"], "AccountNameInvalid");
    let (status, _) = call(
        &cloud,
        &owner,
        "POST",
        &check,
        Some(json!({ "name": "x-vault", "type": "Microsoft.Storage/storageAccounts" })),
    )
    .await;
    assert_eq!(status, 400);

    // Deleting the vault soft-deletes it: the name stays taken until the deleted vault is
    // purged.
    let (status, _) = call(
        &cloud,
        &owner,
        "DELETE",
        &vault_path(&cloud, "kv-one", "shared-name"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(ask("shared-name").await["reason"], "AlreadyExists");
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &vault_path(&cloud, "kv-two", "shared-name"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("ConflictError"))
    );
    let deleted = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/locations/{}/deletedVaults/shared-name",
        cloud.info.subscription_id,
        vault_body(&tenant, json!([]))["location"].as_str().unwrap()
    );
    let (status, body) = call(&cloud, &owner, "GET", &deleted, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["type"], "Microsoft.KeyVault/deletedVaults");
    let (status, _) = call(&cloud, &owner, "POST", &format!("{deleted}/purge"), None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&cloud, &owner, "GET", &deleted, None).await;
    assert_eq!(status, 404);
    assert_eq!(ask("shared-name").await, json!({ "nameAvailable": true }));
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &vault_path(&cloud, "kv-two", "shared-name"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(status, 201);
}

#[tokio::test]
async fn vault_names_are_unique_across_subscriptions() {
    // A second subscription of the same tenant, with the owner as its Owner, written into the
    // store between two starts (azlite has no API that creates subscriptions).
    let cloud = TestCloud::start().await.unwrap();
    let dir = cloud.stop().await;
    let second = azlite_types::SubscriptionId::new_random();
    {
        let mut config = azlite_server::Config::with_data_dir(dir.path());
        config.demo = false;
        let opened = azlite_server::Cloud::open(config).await.unwrap();
        let bootstrap = opened.bootstrap();
        let now = 1_700_000_000;
        opened
            .store()
            .apply(azlite_store::WriteBatch {
                subscriptions: vec![azlite_store::Subscription {
                    id: second,
                    tenant_id: bootstrap.tenant.id,
                    display_name: "second".to_owned(),
                    state: "Enabled".to_owned(),
                    created_at: now,
                }],
                role_assignments: vec![azlite_store::RoleAssignmentRecord {
                    id: uuid::Uuid::new_v4(),
                    scope: azlite_types::ResourceId::subscription(second),
                    principal_id: bootstrap.owner.object_id,
                    principal_type: "ServicePrincipal".to_owned(),
                    role_definition_id: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635".parse().unwrap(),
                    description: None,
                    created_at: now,
                    updated_at: now,
                    created_by: None,
                }],
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let cloud = TestCloud::start_in(dir).await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    let other_group = format!("/subscriptions/{second}/resourceGroups/elsewhere");
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &other_group,
        Some(json!({ "location": "westeurope" })),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &format!("{other_group}/providers/Microsoft.KeyVault/vaults/global-kv"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    create_group(&cloud, &owner, "here").await;
    let (status, body) = call(
        &cloud,
        &owner,
        "PUT",
        &vault_path(&cloud, "here", "global-kv"),
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (409, Some("VaultAlreadyExists")),
        "{body}"
    );
}

#[tokio::test]
async fn rbac_guards_every_vault_operation() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let tenant = cloud.info.tenant_id.clone();
    create_group(&cloud, &owner, "kv-rbac").await;
    let path = vault_path(&cloud, "kv-rbac", "kv-guarded");
    let (status, _) = call(
        &cloud,
        &owner,
        "PUT",
        &path,
        Some(vault_body(&tenant, json!([]))),
    )
    .await;
    assert_eq!(status, 201);
    let reader = cloud.new_principal("kv-reader").await;
    let nobody = cloud.new_principal("kv-nobody").await;
    cloud
        .assign_role(&cloud.group_path("kv-rbac"), READER, &reader.object_id)
        .await;
    let policies = json!({ "properties": { "accessPolicies": [policy(&tenant, &reader.object_id, &["get"])] } });
    let check = format!(
        "/subscriptions/{}/providers/Microsoft.KeyVault/checkNameAvailability",
        cloud.info.subscription_id
    );
    let list = format!(
        "{}/providers/Microsoft.KeyVault/vaults",
        cloud.group_path("kv-rbac")
    );

    // Reader reads, lists, but cannot write, delete or change access policies.
    let (status, got) = call(&cloud, &reader.token, "GET", &path, None).await;
    assert_eq!(status, 200, "{got}");
    let (status, listed) = call(&cloud, &reader.token, "GET", &list, None).await;
    assert_eq!(
        (status, listed["value"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let denied = [
        (
            "PUT",
            path.clone(),
            Some(vault_body(&tenant, json!([]))),
            "Microsoft.KeyVault/vaults/write",
        ),
        (
            "PATCH",
            path.clone(),
            Some(json!({})),
            "Microsoft.KeyVault/vaults/write",
        ),
        (
            "DELETE",
            path.clone(),
            None,
            "Microsoft.KeyVault/vaults/delete",
        ),
        (
            "PUT",
            format!("{path}/accessPolicies/add"),
            Some(policies.clone()),
            "Microsoft.KeyVault/vaults/accessPolicies/write",
        ),
    ];
    for (method, target, body, action) in denied {
        let (status, answer) = call(&cloud, &reader.token, method, &target, body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (403, Some("AuthorizationFailed")),
            "{method} {target}"
        );
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains(action),
            "{answer}"
        );
    }
    // Denied before the existence checks: a missing vault is still 403, not 404.
    let (status, _) = call(
        &cloud,
        &reader.token,
        "DELETE",
        &vault_path(&cloud, "kv-rbac", "kv-absent"),
        None,
    )
    .await;
    assert_eq!(status, 403);

    // No role at all: nothing, not even the name check.
    for (method, target, body) in [
        ("GET", path.clone(), None),
        ("GET", list.clone(), None),
        (
            "POST",
            check.clone(),
            Some(json!({ "name": "kv-any", "type": TYPE })),
        ),
    ] {
        let (status, answer) = call(&cloud, &nobody.token, method, &target, body).await;
        assert_eq!(
            (status, answer["error"]["code"].as_str()),
            (403, Some("AuthorizationFailed")),
            "{method} {target}"
        );
    }
    // checkNameAvailability/read is checked at the subscription: Reader on a group is not
    // enough, Reader on the subscription is.
    let (status, _) = call(
        &cloud,
        &reader.token,
        "POST",
        &check,
        Some(json!({ "name": "kv-any", "type": TYPE })),
    )
    .await;
    assert_eq!(status, 403);
    cloud
        .assign_role(
            &format!("/subscriptions/{}", cloud.info.subscription_id),
            READER,
            &reader.object_id,
        )
        .await;
    let (status, body) = call(
        &cloud,
        &reader.token,
        "POST",
        &check,
        Some(json!({ "name": "kv-any", "type": TYPE })),
    )
    .await;
    assert_eq!(status, 200, "{body}");

    // A role assignment on the vault is deleted with it (a soft delete too): the vault
    // recovered under the same id does not get it back.
    cloud.assign_role(&path, READER, &nobody.object_id).await;
    let (status, _) = call(&cloud, &nobody.token, "GET", &path, None).await;
    assert_eq!(status, 200);
    let (status, _) = call(&cloud, &owner, "DELETE", &path, None).await;
    assert_eq!(status, 200);
    let mut recover = vault_body(&tenant, json!([]));
    recover["properties"]["createMode"] = json!("recover");
    let (status, body) = call(&cloud, &owner, "PUT", &path, Some(recover)).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = call(&cloud, &nobody.token, "GET", &path, None).await;
    assert_eq!(status, 403);
}
