//! Microsoft Graph in-process: the owner registers applications, service principals and
//! passwords; the new principal's secret obtains tokens from the STS; a principal without
//! Graph permissions is refused everything, and reads with `Application.Read.All`;
//! deletions revoke; and the 401/403/404 policy holds on every route. App role
//! assignments themselves are in `graph_app_roles.rs`.

use azlite_store::{ServicePrincipal, ServicePrincipalKind, WriteBatch};
use azlite_testkit::TestCloud;
use azlite_types::{ClientId, ObjectId, TenantId};
use serde_json::{Value, json};

const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
const METADATA: &str = "https://graph.microsoft.com/v1.0/$metadata";
const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
const APPLICATION_READ_ALL: &str = "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30";

/// Sends a Graph request by path on the listener's IP host; returns status and JSON body.
async fn graph(
    cloud: &TestCloud,
    token: Option<&str>,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = cloud.http.request(method.parse().unwrap(), cloud.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn owner(cloud: &TestCloud) -> String {
    cloud.owner_token(GRAPH_SCOPE).await.unwrap()
}

/// A client-credentials token for `app_id`, or the STS's error body.
async fn token_for(
    cloud: &TestCloud,
    app_id: &str,
    secret: &str,
    scope: &str,
) -> Result<String, (u16, Value)> {
    let (status, body) = cloud
        .token_request(
            &cloud.info.tenant_id,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", app_id),
                ("client_secret", secret),
                ("scope", scope),
            ],
        )
        .await
        .unwrap();
    if status == 200 {
        Ok(body["access_token"].as_str().unwrap().to_owned())
    } else {
        Err((status, body))
    }
}

fn claims(token: &str) -> Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// What the owner registered: the application, its principal, a secret.
struct Registered {
    app: Value,
    sp: Value,
    secret: String,
}

impl Registered {
    fn app_id(&self) -> &str {
        self.app["appId"].as_str().unwrap()
    }
    fn app_object_id(&self) -> &str {
        self.app["id"].as_str().unwrap()
    }
    fn sp_id(&self) -> &str {
        self.sp["id"].as_str().unwrap()
    }
}

/// The owner registers an application (with `identifier_uris`), its principal and a secret,
/// as `az ad sp create-for-rbac` does.
async fn register(cloud: &TestCloud, name: &str, identifier_uris: &[&str]) -> Registered {
    let owner = owner(cloud).await;
    let (status, app) = graph(
        cloud,
        Some(&owner),
        "POST",
        "/v1.0/applications",
        Some(json!({ "displayName": name, "identifierUris": identifier_uris })),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    let (status, sp) = graph(
        cloud,
        Some(&owner),
        "POST",
        "/v1.0/servicePrincipals",
        Some(json!({ "appId": app["appId"] })),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    let (status, password) = graph(
        cloud,
        Some(&owner),
        "POST",
        &format!(
            "/v1.0/applications/{}/addPassword",
            app["id"].as_str().unwrap()
        ),
        Some(json!({ "passwordCredential": { "displayName": "rbac" } })),
    )
    .await;
    assert_eq!(status, 200, "{password}");
    Registered {
        app,
        sp,
        secret: password["secretText"].as_str().unwrap().to_owned(),
    }
}

fn unique(prefix: &str) -> String {
    format!(
        "{prefix}-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..8]
    )
}

#[tokio::test]
async fn the_owner_registers_an_app_whose_secret_gets_tokens() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let name = unique("graph-app");
    let uri = format!("api://{name}");

    let (status, app) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/applications",
        Some(json!({ "displayName": name, "identifierUris": [uri] })),
    )
    .await;
    assert_eq!(status, 201, "{app}");
    assert_eq!(
        app["@odata.context"],
        format!("{METADATA}#applications/$entity")
    );
    assert_eq!(app["displayName"], name.as_str());
    assert_eq!(app["identifierUris"], json!([uri]));
    assert_eq!(app["passwordCredentials"], json!([]));
    assert_eq!(app["keyCredentials"], json!([]));
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["publisherDomain"], "azlite.onmicrosoft.com");
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let object_id = app["id"].as_str().unwrap().to_owned();
    assert_ne!(app_id, object_id, "the object id is not the app id");

    // Without a principal the application's secrets obtain nothing, as in Entra.
    let (status, password) = graph(
        &cloud,
        Some(&owner),
        "POST",
        &format!("/v1.0/applications/{object_id}/addPassword"),
        Some(json!({ "passwordCredential": { "displayName": "ci", "endDateTime": "2099-01-01T00:00:00Z" } })),
    )
    .await;
    assert_eq!(status, 200, "{password}");
    let secret = password["secretText"].as_str().unwrap().to_owned();
    assert_eq!(password["displayName"], "ci");
    assert_eq!(password["endDateTime"], "2099-01-01T00:00:00Z");
    assert_eq!(password["hint"], &secret[..3]);
    assert_eq!(password["customKeyIdentifier"], Value::Null);
    assert!(
        password["keyId"]
            .as_str()
            .unwrap()
            .parse::<uuid::Uuid>()
            .is_ok()
    );
    let refused = token_for(&cloud, &app_id, &secret, GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert!(
        refused.1["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS700016"),
        "{refused:?}"
    );

    let (status, sp) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/servicePrincipals",
        Some(json!({ "appId": app_id })),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    assert_eq!(
        sp["@odata.context"],
        format!("{METADATA}#servicePrincipals/$entity")
    );
    assert_eq!(sp["appId"], app_id.as_str());
    assert_eq!(sp["displayName"], name.as_str());
    assert_eq!(sp["servicePrincipalNames"], json!([app_id, uri]));
    assert_eq!(sp["servicePrincipalType"], "Application");
    assert_eq!(sp["accountEnabled"], true);
    assert_eq!(sp["appOwnerOrganizationId"], cloud.info.tenant_id.as_str());
    let sp_id = sp["id"].as_str().unwrap();

    let (status, again) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/servicePrincipals",
        Some(json!({ "appId": app_id })),
    )
    .await;
    assert_eq!(status, 409, "{again}");
    assert_eq!(
        again["error"]["code"],
        "Request_MultipleObjectsWithSameKeyValue"
    );

    let token = token_for(
        &cloud,
        &app_id,
        &secret,
        "https://management.azure.com/.default",
    )
    .await
    .unwrap();
    let claims = claims(&token);
    assert_eq!(claims["oid"], sp_id);
    assert_eq!(claims["tid"], cloud.info.tenant_id.as_str());

    // The application shows the password without its secret.
    let (status, shown) = graph(
        &cloud,
        Some(&owner),
        "GET",
        &format!("/v1.0/applications/{object_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    let passwords = shown["passwordCredentials"].as_array().unwrap();
    assert_eq!(passwords.len(), 1);
    assert_eq!(passwords[0]["keyId"], password["keyId"]);
    assert_eq!(passwords[0]["hint"], password["hint"]);
    assert_eq!(passwords[0]["secretText"], Value::Null);
    let (status, shown) = graph(
        &cloud,
        Some(&owner),
        "GET",
        &format!("/v1.0/servicePrincipals/{sp_id}"),
        None,
    )
    .await;
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["appDisplayName"], name.as_str());

    // The identifier URI is now taken in the tenant.
    let (status, taken) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/applications",
        Some(json!({ "displayName": "other", "identifierUris": [uri.to_uppercase()] })),
    )
    .await;
    assert_eq!(status, 400, "{taken}");
    assert_eq!(taken["error"]["code"], "Request_BadRequest");
}

#[tokio::test]
async fn every_graph_audience_is_accepted_and_others_are_not() {
    let cloud = TestCloud::start().await.unwrap();
    for resource in [
        "https://graph.microsoft.com",
        "https://graph.microsoft.com/",
        "00000003-0000-0000-c000-000000000000",
    ] {
        let token = cloud.owner_v1_token(resource).await.unwrap();
        assert_eq!(claims(&token)["aud"], resource);
        let (status, list) =
            graph(&cloud, Some(&token), "GET", "/v1.0/servicePrincipals", None).await;
        assert_eq!(status, 200, "{resource}: {list}");
    }
    let arm = cloud
        .owner_token("https://management.azure.com/.default")
        .await
        .unwrap();
    let (status, refused) = graph(&cloud, Some(&arm), "GET", "/v1.0/servicePrincipals", None).await;
    assert_eq!(status, 401);
    assert_eq!(refused["error"]["code"], "InvalidAuthenticationToken");
    assert_eq!(
        refused["error"]["message"],
        "Access token validation failure. Invalid audience."
    );
}

#[tokio::test]
async fn graph_answers_on_its_own_host_name_too() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let response = cloud
        .http
        .get(cloud.url("/v1.0/servicePrincipals"))
        .header("Host", "graph.microsoft.com")
        .header("client-request-id", "my-request-1")
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["client-request-id"], "my-request-1");
    let request_id = response.headers()["request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(request_id.parse::<uuid::Uuid>().is_ok());
    let list: Value = response.json().await.unwrap();
    assert_eq!(
        list["@odata.context"],
        format!("{METADATA}#servicePrincipals")
    );
    let owner_sp = list["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|sp| sp["appId"] == cloud.info.client_id.as_str())
        .expect("the owner is listed");
    assert_eq!(owner_sp["displayName"], "azlite owner");
}

#[tokio::test]
async fn without_graph_permissions_nothing_and_with_application_read_all_reads_only() {
    let cloud = TestCloud::start().await.unwrap();
    let reader = register(&cloud, &unique("reader"), &[]).await;
    let token = token_for(&cloud, reader.app_id(), &reader.secret, GRAPH_SCOPE)
        .await
        .unwrap();
    assert!(
        claims(&token).get("roles").is_none(),
        "no roles granted yet"
    );
    let target = register(&cloud, &unique("target"), &[]).await;
    let reads = [
        ("GET", "/v1.0/applications".to_owned(), json!(null)),
        (
            "GET",
            format!("/v1.0/applications/{}", target.app_object_id()),
            json!(null),
        ),
        ("GET", "/v1.0/servicePrincipals".to_owned(), json!(null)),
        (
            "GET",
            format!("/v1.0/servicePrincipals/{}", target.sp_id()),
            json!(null),
        ),
        (
            "GET",
            format!(
                "/v1.0/servicePrincipals/{}/appRoleAssignments",
                target.sp_id()
            ),
            json!(null),
        ),
        (
            "POST",
            "/v1.0/directoryObjects/getByIds".to_owned(),
            json!({ "ids": [target.sp_id()] }),
        ),
    ];
    for (method, path, body) in &reads {
        let (status, error) = graph(&cloud, Some(&token), method, path, Some(body.clone())).await;
        assert_eq!(status, 403, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], "Authorization_RequestDenied");
    }

    // The owner grants Application.Read.All; a token issued afterwards carries it.
    let owner = owner(&cloud).await;
    let (_, graph_sp) = graph(
        &cloud,
        Some(&owner),
        "GET",
        &format!("/v1.0/servicePrincipals(appId='{GRAPH_APP_ID}')"),
        None,
    )
    .await;
    let (status, granted) = graph(
        &cloud,
        Some(&owner),
        "POST",
        &format!(
            "/v1.0/servicePrincipals/{}/appRoleAssignments",
            reader.sp_id()
        ),
        Some(json!({
            "principalId": reader.sp_id(),
            "resourceId": graph_sp["id"],
            "appRoleId": APPLICATION_READ_ALL,
        })),
    )
    .await;
    assert_eq!(status, 201, "{granted}");
    let token = token_for(&cloud, reader.app_id(), &reader.secret, GRAPH_SCOPE)
        .await
        .unwrap();
    assert_eq!(claims(&token)["roles"], json!(["Application.Read.All"]));

    let denied = [
        (
            "POST",
            "/v1.0/applications".to_owned(),
            json!({ "displayName": "nope" }),
        ),
        (
            "POST",
            "/v1.0/servicePrincipals".to_owned(),
            json!({ "appId": target.app_id() }),
        ),
        (
            "POST",
            format!("/v1.0/applications/{}/addPassword", target.app_object_id()),
            json!({}),
        ),
        (
            "DELETE",
            format!("/v1.0/applications/{}", target.app_object_id()),
            json!(null),
        ),
        (
            "DELETE",
            format!("/v1.0/servicePrincipals/{}", target.sp_id()),
            json!(null),
        ),
        // A principal cannot even add a password to its own application.
        (
            "POST",
            format!("/v1.0/applications/{}/addPassword", reader.app_object_id()),
            json!({}),
        ),
    ];
    for (method, path, body) in denied {
        let (status, error) = graph(&cloud, Some(&token), method, &path, Some(body)).await;
        assert_eq!(status, 403, "{method} {path}: {error}");
        assert_eq!(error["error"]["code"], "Authorization_RequestDenied");
        assert_eq!(
            error["error"]["message"],
            "Insufficient privileges to complete the operation."
        );
        let inner = &error["error"]["innerError"];
        assert!(inner["request-id"].as_str().is_some(), "{error}");
        assert!(inner["client-request-id"].as_str().is_some(), "{error}");
        assert!(
            inner["date"].as_str().is_some_and(|d| d.len() == 19),
            "{error}"
        );
    }

    let (status, _) = graph(
        &cloud,
        Some(&token),
        "GET",
        &format!("/v1.0/servicePrincipals/{}", target.sp_id()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, _) = graph(
        &cloud,
        Some(&token),
        "GET",
        &format!("/v1.0/applications/{}", target.app_object_id()),
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, found) = graph(
        &cloud,
        Some(&token),
        "POST",
        "/v1.0/directoryObjects/getByIds",
        Some(json!({ "ids": [target.sp_id()] })),
    )
    .await;
    assert_eq!(status, 403, "getByIds needs Directory.Read.All: {found}");
    // Nothing was written.
    let (_, app) = graph(
        &cloud,
        Some(&token),
        "GET",
        &format!("/v1.0/applications/{}", target.app_object_id()),
        None,
    )
    .await;
    assert_eq!(app["passwordCredentials"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn filters_find_applications_and_principals() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let name = unique("Filtered App");
    let uri = format!("https://contoso.example/{}", uuid::Uuid::new_v4());
    let target = register(&cloud, &name, &[&uri]).await;
    register(&cloud, &unique("Other"), &[]).await;

    let list = |path: String| {
        let cloud = &cloud;
        let owner = owner.clone();
        async move {
            let (status, body) = graph(cloud, Some(&owner), "GET", &path, None).await;
            assert_eq!(status, 200, "{path}: {body}");
            body["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    let sp = vec![target.sp_id().to_owned()];
    let app = vec![target.app_object_id().to_owned()];
    let quoted = |v: &str| v.replace('\'', "''");
    for filter in [
        format!("appId eq '{}'", target.app_id()),
        format!("displayName eq '{}'", quoted(&name.to_lowercase())),
        format!("startswith(displayName,'{}')", &name[..name.len() - 2]),
        format!("servicePrincipalNames/any(c:c eq '{}')", target.app_id()),
        format!("servicePrincipalNames/any(c:c eq '{}')", uri.to_uppercase()),
    ] {
        let path = format!("/v1.0/servicePrincipals?$filter={}", urlencode(&filter));
        assert_eq!(list(path).await, sp, "{filter}");
    }
    for filter in [
        format!("appId eq '{}'", target.app_id()),
        format!("displayName eq '{name}'"),
        format!("identifierUris/any(x:x eq '{uri}')"),
    ] {
        let path = format!("/v1.0/applications?$filter={}", urlencode(&filter));
        assert_eq!(list(path).await, app, "{filter}");
    }
    let none = format!(
        "/v1.0/servicePrincipals?$filter={}",
        urlencode(&format!("appId eq '{}'", uuid::Uuid::new_v4()))
    );
    assert!(list(none).await.is_empty());
    let all = list("/v1.0/servicePrincipals".to_owned()).await;
    assert_eq!(
        all.len(),
        4,
        "the owner, Microsoft Graph and the two registered: {all:?}"
    );

    for (filter, code) in [
        ("accountEnabled eq true", "Request_BadRequest"),
        ("displayName ne 'x'", "Request_UnsupportedQuery"),
        ("appId eq 'a' or appId eq 'b'", "Request_UnsupportedQuery"),
        ("tags/any(t:t eq 'x')", "Request_UnsupportedQuery"),
        ("homepage eq 'x'", "Request_UnsupportedQuery"),
        ("displayName eq 'unterminated", "Request_BadRequest"),
    ] {
        let path = format!("/v1.0/servicePrincipals?$filter={}", urlencode(filter));
        let (status, error) = graph(&cloud, Some(&owner), "GET", &path, None).await;
        assert_eq!(status, 400, "{filter}: {error}");
        assert_eq!(error["error"]["code"], code, "{filter}");
    }
    let path = format!(
        "/v1.0/applications?$filter={}",
        urlencode("servicePrincipalNames/any(c:c eq 'x')")
    );
    let (status, error) = graph(&cloud, Some(&owner), "GET", &path, None).await;
    assert_eq!(
        (status, error["error"]["code"].as_str()),
        (400, Some("Request_UnsupportedQuery"))
    );
}

fn urlencode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test]
async fn get_by_ids_names_principals_and_their_types() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let registered = register(&cloud, &unique("by-ids"), &[]).await;

    // A managed identity, as ARM stores one for a VM.
    let vm = format!(
        "/subscriptions/{}/resourceGroups/rg/providers/Microsoft.Compute/virtualMachines/vm1",
        cloud.info.subscription_id
    );
    let identity = ServicePrincipal {
        object_id: ObjectId::new_random(),
        app_id: ClientId::new_random(),
        tenant_id: cloud.info.tenant_id.parse::<TenantId>().unwrap(),
        display_name: "vm1".to_owned(),
        kind: ServicePrincipalKind::ManagedIdentity,
        managed_identity_resource_id: Some(vm.clone()),
        created_at: 1_700_000_000,
    };
    cloud
        .sts
        .store()
        .apply(WriteBatch {
            service_principals: vec![identity.clone()],
            ..WriteBatch::default()
        })
        .await
        .unwrap();

    let unknown = uuid::Uuid::new_v4().to_string();
    let identity_id = identity.object_id.to_string();
    let (status, found) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/directoryObjects/getByIds",
        Some(json!({
            "ids": [identity_id, unknown, registered.sp_id(), registered.app_object_id()],
            "types": ["user", "group", "servicePrincipal", "directoryObjectPartnerReference"],
        })),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["@odata.context"],
        format!("{METADATA}#directoryObjects")
    );
    let value = found["value"].as_array().unwrap();
    assert_eq!(
        value.len(),
        2,
        "the unknown id and the application (not asked for) are left out: {found}"
    );
    assert_eq!(value[0]["@odata.type"], "#microsoft.graph.servicePrincipal");
    assert_eq!(value[0]["id"], identity_id.as_str());
    assert_eq!(value[0]["servicePrincipalType"], "ManagedIdentity");
    assert_eq!(
        value[0]["alternativeNames"],
        json!(["isExplicit=False", vm])
    );
    assert_eq!(value[1]["id"], registered.sp_id());
    assert_eq!(value[1]["appId"], registered.app_id());
    assert_eq!(value[1]["displayName"], registered.sp["displayName"]);

    let (status, found) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/directoryObjects/getByIds",
        Some(json!({ "ids": [registered.app_object_id()] })),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(
        found["value"][0]["@odata.type"],
        "#microsoft.graph.application"
    );

    let (status, error) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/directoryObjects/getByIds",
        Some(json!({ "ids": ["not-a-guid"] })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error["error"]["message"],
        "Invalid object identifier 'not-a-guid'."
    );

    // Managed identities are listed, but deleted only with their resource.
    let path = format!(
        "/v1.0/servicePrincipals?$filter={}",
        urlencode("displayName eq 'vm1'")
    );
    let (_, listed) = graph(&cloud, Some(&owner), "GET", &path, None).await;
    assert_eq!(
        listed["value"][0]["servicePrincipalType"],
        "ManagedIdentity"
    );
    let (status, error) = graph(
        &cloud,
        Some(&owner),
        "DELETE",
        &format!("/v1.0/servicePrincipals/{identity_id}"),
        None,
    )
    .await;
    assert_eq!(status, 400, "{error}");
}

#[tokio::test]
async fn deleting_revokes_the_secret() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let registered = register(&cloud, &unique("doomed"), &[]).await;
    token_for(&cloud, registered.app_id(), &registered.secret, GRAPH_SCOPE)
        .await
        .unwrap();

    let sp_path = format!("/v1.0/servicePrincipals/{}", registered.sp_id());
    let (status, _) = graph(&cloud, Some(&owner), "DELETE", &sp_path, None).await;
    assert_eq!(status, 204);
    let (status, body) = token_for(&cloud, registered.app_id(), &registered.secret, GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"], "unauthorized_client");
    assert_eq!(body["error_codes"], json!([700016]));
    let (status, missing) = graph(&cloud, Some(&owner), "GET", &sp_path, None).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "Request_ResourceNotFound");
    assert_eq!(
        missing["error"]["message"],
        format!(
            "Resource '{}' does not exist or one of its queried reference-property objects are not present.",
            registered.sp_id()
        )
    );
    let (status, _) = graph(&cloud, Some(&owner), "DELETE", &sp_path, None).await;
    assert_eq!(status, 404, "deleting twice");

    // The application and its password stayed: a new principal brings the secret back.
    let (status, sp) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/servicePrincipals",
        Some(json!({ "appId": registered.app_id() })),
    )
    .await;
    assert_eq!(status, 201, "{sp}");
    token_for(&cloud, registered.app_id(), &registered.secret, GRAPH_SCOPE)
        .await
        .unwrap();

    // Deleting the application takes its principal and credentials with it.
    let app_path = format!("/v1.0/applications/{}", registered.app_object_id());
    let (status, _) = graph(&cloud, Some(&owner), "DELETE", &app_path, None).await;
    assert_eq!(status, 204);
    let (status, _) = graph(&cloud, Some(&owner), "GET", &app_path, None).await;
    assert_eq!(status, 404);
    let new_sp = format!("/v1.0/servicePrincipals/{}", sp["id"].as_str().unwrap());
    let (status, _) = graph(&cloud, Some(&owner), "GET", &new_sp, None).await;
    assert_eq!(status, 404, "the principal went with its application");
    let (_, body) = token_for(&cloud, registered.app_id(), &registered.secret, GRAPH_SCOPE)
        .await
        .unwrap_err();
    assert_eq!(body["error_codes"], json!([700016]));
}

#[tokio::test]
async fn the_owner_cannot_be_deleted() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let owner_oid = claims(&owner)["oid"].as_str().unwrap().to_owned();
    let (status, error) = graph(
        &cloud,
        Some(&owner),
        "DELETE",
        &format!("/v1.0/servicePrincipals/{owner_oid}"),
        None,
    )
    .await;
    assert_eq!(status, 400, "{error}");
    let path = format!(
        "/v1.0/applications?$filter={}",
        urlencode(&format!("appId eq '{}'", cloud.info.client_id))
    );
    let (_, apps) = graph(&cloud, Some(&owner), "GET", &path, None).await;
    let app_id = apps["value"][0]["id"].as_str().unwrap();
    let (status, error) = graph(
        &cloud,
        Some(&owner),
        "DELETE",
        &format!("/v1.0/applications/{app_id}"),
        None,
    )
    .await;
    assert_eq!(status, 400, "{error}");
    cloud
        .owner_token(GRAPH_SCOPE)
        .await
        .expect("the owner still signs in");
}

/// The 401/403/404 policy (azlite-graph's `error` module), route by route: no token → 401
/// with Graph's challenge; a principal that is not an administrator → 403 on every write;
/// an object that does not exist → 404 on every route that names one.
#[tokio::test]
async fn the_401_403_404_policy_holds_on_every_route() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = owner(&cloud).await;
    let member = register(&cloud, &unique("member"), &[]).await;
    let member_token = token_for(&cloud, member.app_id(), &member.secret, GRAPH_SCOPE)
        .await
        .unwrap();
    let missing = uuid::Uuid::new_v4().to_string();
    // (method, path, body, is a write, names an object)
    let routes: Vec<(&str, String, Value, bool, bool)> = vec![
        (
            "GET",
            "/v1.0/applications".into(),
            json!(null),
            false,
            false,
        ),
        (
            "POST",
            "/v1.0/applications".into(),
            json!({ "displayName": "x" }),
            true,
            false,
        ),
        (
            "GET",
            format!("/v1.0/applications/{missing}"),
            json!(null),
            false,
            true,
        ),
        (
            "DELETE",
            format!("/v1.0/applications/{missing}"),
            json!(null),
            true,
            true,
        ),
        (
            "POST",
            format!("/v1.0/applications/{missing}/addPassword"),
            json!({}),
            true,
            true,
        ),
        (
            "GET",
            "/v1.0/servicePrincipals".into(),
            json!(null),
            false,
            false,
        ),
        (
            "POST",
            "/v1.0/servicePrincipals".into(),
            json!({ "appId": missing }),
            true,
            false,
        ),
        (
            "GET",
            format!("/v1.0/servicePrincipals/{missing}"),
            json!(null),
            false,
            true,
        ),
        (
            "DELETE",
            format!("/v1.0/servicePrincipals/{missing}"),
            json!(null),
            true,
            true,
        ),
        (
            "POST",
            "/v1.0/directoryObjects/getByIds".into(),
            json!({ "ids": [] }),
            false,
            false,
        ),
        (
            "GET",
            format!("/v1.0/servicePrincipals/{missing}/appRoleAssignments"),
            json!(null),
            false,
            true,
        ),
        (
            "GET",
            format!("/v1.0/servicePrincipals/{missing}/appRoleAssignedTo"),
            json!(null),
            false,
            true,
        ),
        (
            "POST",
            format!("/v1.0/servicePrincipals/{missing}/appRoleAssignments"),
            json!({ "principalId": missing, "resourceId": missing, "appRoleId": APPLICATION_READ_ALL }),
            true,
            true,
        ),
        (
            "GET",
            format!("/v1.0/servicePrincipals/{missing}/appRoleAssignments/abc"),
            json!(null),
            false,
            true,
        ),
        (
            "DELETE",
            format!("/v1.0/servicePrincipals/{missing}/appRoleAssignedTo/abc"),
            json!(null),
            true,
            true,
        ),
    ];
    for (method, path, body, _write, names_object) in routes {
        let response = cloud
            .http
            .request(method.parse().unwrap(), cloud.url(&path))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 401, "{method} {path}");
        let challenge = response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .to_owned();
        assert!(challenge.starts_with("Bearer "), "{challenge}");
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "InvalidAuthenticationToken");
        assert_eq!(error["error"]["message"], "Access token is empty.");

        let (status, answer) =
            graph(&cloud, Some("not.a.jwt"), method, &path, Some(body.clone())).await;
        assert_eq!(status, 401, "{method} {path}: {answer}");

        let (status, answer) = graph(
            &cloud,
            Some(&member_token),
            method,
            &path,
            Some(body.clone()),
        )
        .await;
        // A principal without Graph permissions is refused before any lookup.
        assert_eq!(status, 403, "member: {method} {path}: {answer}");
        assert_eq!(answer["error"]["code"], "Authorization_RequestDenied");

        let (status, answer) = graph(&cloud, Some(&owner), method, &path, Some(body)).await;
        let expected = match (method, names_object) {
            (_, true) => 404,
            ("POST", false) if path.ends_with("servicePrincipals") => 400,
            ("POST", false) if path.ends_with("applications") => 201,
            _ => 200,
        };
        assert_eq!(status, expected, "owner: {method} {path}: {answer}");
        if expected == 404 {
            assert_eq!(answer["error"]["code"], "Request_ResourceNotFound");
        }
    }

    for (method, path, status, code) in [
        (
            "GET",
            "/v1.0/applications/not-a-guid",
            400,
            "Request_BadRequest",
        ),
        ("PUT", "/v1.0/applications", 405, "Request_BadRequest"),
        ("GET", "/v1.0/users", 400, "BadRequest"),
        (
            "GET",
            "/v1.0/directoryObjects/getByIds",
            405,
            "Request_BadRequest",
        ),
    ] {
        let (got, error) = graph(&cloud, Some(&owner), method, path, None).await;
        assert_eq!(
            (got, error["error"]["code"].as_str()),
            (status, Some(code)),
            "{method} {path}"
        );
    }
    let (status, error) = graph(
        &cloud,
        Some(&owner),
        "POST",
        "/v1.0/applications",
        Some(json!({ "identifierUris": [] })),
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(
        error["error"]["message"],
        "Invalid value specified for property 'displayName' of resource 'Application'."
    );
}
