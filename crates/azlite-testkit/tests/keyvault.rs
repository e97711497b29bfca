//! Key Vault's secrets data plane, end to end over HTTPS on the vault's host name: the
//! challenge, token checks, access policies, RBAC, every operation, soft delete, encryption
//! at rest and restarts.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use azlite_store::{Resource, ResourceGroup, WriteBatch};
use azlite_testkit::{TestCloud, oid};
use serde_json::{Value, json};

const VAULT_SCOPE: &str = "https://vault.azure.net/.default";
const SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
const SECRETS_OFFICER: &str = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7";

/// A client that reaches `<vault>.vault.azure.net` at the test listener.
fn vault_client(cloud: &TestCloud, vault: &str) -> reqwest::Client {
    let ca = std::fs::read(&cloud.info.ca_certificate).unwrap();
    reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .no_proxy()
        .resolve(&format!("{vault}.vault.azure.net"), cloud.addr)
        .build()
        .unwrap()
}

struct Vault {
    name: String,
    base: String,
    http: reqwest::Client,
    id: String,
}

/// Writes a vault (and its group) into the store, as ARM will: `properties` as given, with
/// the default tenant unless `properties` says otherwise.
async fn create_vault(cloud: &TestCloud, name: &str, properties: Value) -> Vault {
    let subscription = cloud.info.subscription_id.parse().unwrap();
    let group = ResourceGroup {
        subscription_id: subscription,
        name: "kv-rg".into(),
        location: "eastus".into(),
        tags: BTreeMap::new(),
        managed_by: None,
        created_at: 0,
        updated_at: 0,
    };
    let id = format!(
        "/subscriptions/{}/resourceGroups/kv-rg/providers/Microsoft.KeyVault/vaults/{name}",
        cloud.info.subscription_id
    );
    let mut properties = properties;
    let object = properties.as_object_mut().unwrap();
    object
        .entry("tenantId")
        .or_insert(json!(cloud.info.tenant_id));
    object.insert(
        "vaultUri".into(),
        json!(format!("https://{name}.vault.azure.net/")),
    );
    let resource = Resource {
        id: id.parse().unwrap(),
        subscription_id: subscription,
        resource_group: "kv-rg".into(),
        resource_type: "Microsoft.KeyVault/vaults".into(),
        name: name.into(),
        location: "eastus".into(),
        tags: BTreeMap::new(),
        body: json!({ "properties": properties }),
        created_at: 0,
        updated_at: 0,
    };
    cloud
        .store
        .apply(WriteBatch {
            resource_groups: vec![group],
            resources: vec![resource],
            ..Default::default()
        })
        .await
        .unwrap();
    Vault {
        name: name.into(),
        base: format!("https://{name}.vault.azure.net:{}", cloud.addr.port()),
        http: vault_client(cloud, name),
        id,
    }
}

/// An access policy granting `secrets` to `object_id`.
fn policy(cloud: &TestCloud, object_id: &str, secrets: &[&str]) -> Value {
    json!({
        "tenantId": cloud.info.tenant_id,
        "objectId": object_id,
        "permissions": {"keys": [], "secrets": secrets, "certificates": [], "storage": []},
    })
}

/// A new service principal with a token for Key Vault.
async fn principal(cloud: &TestCloud, name: &str) -> (String, String) {
    let owner = cloud.owner_arm_token().await;
    let app: Value = cloud
        .http
        .post(cloud.url("/azlite/admin/applications"))
        .bearer_auth(&owner)
        .json(&json!({ "displayName": name, "password": true }))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", app["appId"].as_str().unwrap()),
        ("client_secret", app["password"].as_str().unwrap()),
        ("scope", VAULT_SCOPE),
    ];
    let (status, body) = cloud
        .token_request(&cloud.info.tenant_id, &form)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_owned();
    (oid(&token), token)
}

impl Vault {
    /// Calls the vault; returns status, headers and JSON body (null if none).
    async fn call(
        &self,
        token: Option<&str>,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let separator = if path.contains('?') { '&' } else { '?' };
        let url = format!("{}{path}{separator}api-version=7.4", self.base);
        self.raw(token, method, &url, body).await
    }

    async fn raw(
        &self,
        token: Option<&str>,
        method: &str,
        url: &str,
        body: Option<Value>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method.parse().unwrap(), url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the vault answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        (
            status,
            headers,
            serde_json::from_str(&text).unwrap_or(Value::Null),
        )
    }
}

#[tokio::test]
async fn an_unauthenticated_request_gets_the_challenge_before_its_body_is_read() {
    let cloud = TestCloud::start().await.unwrap();
    let vault = create_vault(&cloud, "kvchallenge", json!({})).await;
    let expected = format!(
        "Bearer authorization=\"https://login.microsoftonline.com/{}\", resource=\"https://vault.azure.net\"",
        cloud.info.tenant_id
    );
    for (method, path) in [
        ("GET", "/secrets/x"),
        ("PUT", "/secrets/x"),
        ("GET", "/secrets"),
    ] {
        let (status, headers, body) = vault.call(None, method, path, None).await;
        assert_eq!(status, 401, "{method} {path}");
        assert_eq!(headers["www-authenticate"], expected.as_str());
        assert_eq!(
            body,
            json!({"error": {"code": "Unauthorized", "message": "AKV10000: Request is missing a Bearer or PoP token."}})
        );
        assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    }
    // Not even an invalid body, a missing api-version or a bad name comes first.
    let url = format!("{}/secrets/bad_name", vault.base);
    let response = vault
        .http
        .put(&url)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 401);

    // A body that never arrives in full: the 401 comes anyway, without waiting for it.
    let mut tcp = raw_tls(&cloud, "kvchallenge.vault.azure.net").await;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let head = "PUT /secrets/big?api-version=7.4 HTTP/1.1\r\nHost: kvchallenge.vault.azure.net\r\n\
                Content-Type: application/json\r\nContent-Length: 10000000\r\n\r\n{\"value\":\"";
    tcp.write_all(head.as_bytes()).await.unwrap();
    tcp.flush().await.unwrap();
    let mut answer = vec![0u8; 4096];
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), tcp.read(&mut answer))
        .await
        .expect("the 401 comes before the body")
        .unwrap();
    let answer = String::from_utf8_lossy(&answer[..n]);
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(
        answer
            .to_ascii_lowercase()
            .contains("www-authenticate: bearer authorization=")
    );
}

/// A TLS connection to the test listener for `host`, trusting azlite's CA.
async fn raw_tls(
    cloud: &TestCloud,
    host: &str,
) -> tokio_rustls::client::TlsStream<tokio::net::TcpStream> {
    let ca = std::fs::read(&cloud.info.ca_certificate).unwrap();
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_pemfile::certs(&mut ca.as_slice()) {
        roots.add(cert.unwrap()).unwrap();
    }
    let config = rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let connector = tokio_rustls::TlsConnector::from(std::sync::Arc::new(config));
    let addr: SocketAddr = cloud.addr;
    let tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from(host.to_owned()).unwrap();
    connector.connect(name, tcp).await.unwrap()
}

#[tokio::test]
async fn tokens_for_another_audience_or_tenant_are_refused_with_the_challenge() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let owner_oid = oid(&owner);
    let vault = create_vault(
        &cloud,
        "kvaudience",
        json!({"accessPolicies": [policy(&cloud, &owner_oid, &["all"])]}),
    )
    .await;
    let (status, _, _) = vault.call(Some(&owner), "GET", "/secrets", None).await;
    assert_eq!(status, 200);

    let arm = cloud.owner_arm_token().await;
    let (status, headers, body) = vault.call(Some(&arm), "GET", "/secrets", None).await;
    assert_eq!(status, 401);
    assert!(headers.contains_key("www-authenticate"));
    assert_eq!(body["error"]["code"], "Unauthorized");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("AKV10022: Invalid audience."),
        "{message}"
    );

    // v1 tokens: `https://vault.azure.net` is Key Vault's audience; with the trailing slash
    // it is not (real Key Vault answers 401 AKV10022 for it, reference §0.2).
    for (resource, expected) in [
        ("https://vault.azure.net", 200),
        ("https://vault.azure.net/", 401),
    ] {
        let token = cloud.owner_v1_token(resource).await.unwrap();
        let (status, _, body) = vault.call(Some(&token), "GET", "/secrets", None).await;
        assert_eq!(status, expected, "{resource}: {body}");
        if expected == 401 {
            assert_eq!(
                body["error"]["message"],
                format!(
                    "AKV10022: Invalid audience. Expected https://vault.azure.net or \
                     cfa8b339-82a2-471a-a3c9-0fc0be7a4093, found: {resource}."
                )
            );
        }
    }

    let (status, _, _) = vault
        .call(Some("not.a.token"), "GET", "/secrets", None)
        .await;
    assert_eq!(status, 401);

    // A vault of another tenant refuses this tenant's tokens.
    let other_tenant = uuid::Uuid::new_v4().to_string();
    let foreign = create_vault(
        &cloud,
        "kvforeign",
        json!({"tenantId": other_tenant, "accessPolicies": [policy(&cloud, &owner_oid, &["all"])]}),
    )
    .await;
    let (status, headers, body) = foreign.call(Some(&owner), "GET", "/secrets", None).await;
    assert_eq!(status, 401);
    let challenge = headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.contains(&other_tenant), "{challenge}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("AKV10032: Invalid issuer."),
        "{message}"
    );

    // An unknown vault is not found; so is a missing api-version refused.
    let missing = vault_client(&cloud, "kvnothere")
        .get(format!(
            "https://kvnothere.vault.azure.net:{}/secrets?api-version=7.4",
            cloud.addr.port()
        ))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 404);
    let (status, _, body) = vault
        .raw(
            Some(&owner),
            "GET",
            &format!("{}/secrets", vault.base),
            None,
        )
        .await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("BadParameter"))
    );
    let (status, _, body) = vault
        .raw(
            Some(&owner),
            "GET",
            &format!("{}/secrets?api-version=1.0", vault.base),
            None,
        )
        .await;
    assert_eq!(status, 400);
    assert_eq!(
        body["error"]["message"],
        "The specified version (1.0) is not recognized. Consider using the latest supported version (7.6)."
    );
    for version in ["2016-10-01", "7.0", "7.6", "2025-07-01"] {
        let (status, _, _) = vault
            .raw(
                Some(&owner),
                "GET",
                &format!("{}/secrets?api-version={version}", vault.base),
                None,
            )
            .await;
        assert_eq!(status, 200, "{version}");
    }
}

#[tokio::test]
async fn every_operation_works_on_a_soft_delete_vault() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let vault = create_vault(
        &cloud,
        "kvcycle",
        json!({"accessPolicies": [policy(&cloud, &oid(&owner), &["Get", "List", "Set", "Delete", "Recover", "Purge"])]}),
    )
    .await;
    let token = Some(owner.as_str());

    // Set: a new version every time.
    let (status, headers, first) = vault
        .call(
            token,
            "PUT",
            "/secrets/db-password",
            Some(
                json!({"value": "p@ssw0rd!", "contentType": "text/plain", "tags": {"env": "dev"}}),
            ),
        )
        .await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(headers["x-ms-keyvault-region"], "eastus");
    assert_eq!(first["value"], "p@ssw0rd!");
    assert_eq!(first["contentType"], "text/plain");
    assert_eq!(first["tags"], json!({"env": "dev"}));
    let id = first["id"].as_str().unwrap();
    let prefix = format!("{}/secrets/db-password/", vault.base);
    let v1 = id
        .strip_prefix(&prefix)
        .expect("id = vault/secrets/name/version");
    assert!(
        v1.len() == 32
            && v1
                .bytes()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
    );
    let attributes = &first["attributes"];
    assert_eq!(attributes["enabled"], true);
    assert_eq!(attributes["recoveryLevel"], "Recoverable+Purgeable");
    assert_eq!(attributes["recoverableDays"], 90);
    assert_eq!(attributes["created"], attributes["updated"]);

    let (status, _, second) = vault
        .call(
            token,
            "PUT",
            "/secrets/db-password",
            Some(json!({"value": "second"})),
        )
        .await;
    assert_eq!(status, 200);
    let v2 = second["id"]
        .as_str()
        .unwrap()
        .strip_prefix(&prefix)
        .unwrap()
        .to_owned();
    assert_ne!(v1, v2);

    // Get: latest (with and without the trailing slash), by version, and a 404.
    for path in [
        "/secrets/db-password",
        "/secrets/db-password/",
        "/secrets/DB-PASSWORD",
    ] {
        let (status, _, got) = vault.call(token, "GET", path, None).await;
        assert_eq!(
            (status, got["value"].as_str()),
            (200, Some("second")),
            "{path}"
        );
    }
    let (status, _, got) = vault
        .call(token, "GET", &format!("/secrets/db-password/{v1}"), None)
        .await;
    assert_eq!((status, got["value"].as_str()), (200, Some("p@ssw0rd!")));
    assert_eq!(got["tags"], json!({"env": "dev"}));
    let (status, _, missing) = vault.call(token, "GET", "/secrets/nope", None).await;
    assert_eq!(status, 404);
    assert_eq!(missing["error"]["code"], "SecretNotFound");
    let (status, _, bad) = vault.call(token, "GET", "/secrets/bad_name", None).await;
    assert_eq!(status, 400);
    assert_eq!(
        bad["error"]["message"],
        "The request URI contains an invalid name: bad_name"
    );

    // Update: attributes and tags, never the value; omitted fields stay.
    let (status, _, updated) = vault
        .call(
            token,
            "PATCH",
            &format!("/secrets/db-password/{v1}"),
            Some(json!({"tags": {"env": "prod"}, "attributes": {"exp": 1_893_938_459}})),
        )
        .await;
    assert_eq!(status, 200, "{updated}");
    assert!(updated.get("value").is_none());
    assert_eq!(updated["tags"], json!({"env": "prod"}));
    assert_eq!(updated["contentType"], "text/plain");
    assert_eq!(updated["attributes"]["exp"], 1_893_938_459);
    let (status, _, disabled) = vault
        .call(
            token,
            "PATCH",
            "/secrets/db-password/",
            Some(json!({"attributes": {"enabled": false}})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(disabled["id"].as_str().unwrap(), format!("{prefix}{v2}"));
    let (status, _, refused) = vault.call(token, "GET", "/secrets/db-password", None).await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["innererror"]["code"], "SecretDisabled");
    vault
        .call(
            token,
            "PATCH",
            "/secrets/db-password",
            Some(json!({"attributes": {"enabled": true}})),
        )
        .await;

    // Lists: ids without versions, versions with; paging by maxresults and nextLink.
    for name in ["a-1", "b-2"] {
        vault
            .call(
                token,
                "PUT",
                &format!("/secrets/{name}"),
                Some(json!({"value": name})),
            )
            .await;
    }
    let mut ids = Vec::new();
    let mut url = format!("{}/secrets?api-version=7.4&maxresults=2", vault.base);
    loop {
        let (status, _, page) = vault.raw(token, "GET", &url, None).await;
        assert_eq!(status, 200, "{page}");
        for item in page["value"].as_array().unwrap() {
            assert!(item.get("value").is_none());
            ids.push(item["id"].as_str().unwrap().to_owned());
        }
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => break,
        }
    }
    let names: Vec<_> = ids
        .iter()
        .map(|id| id.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(names, ["a-1", "b-2", "db-password"]);
    let (status, _, versions) = vault
        .call(token, "GET", "/secrets/db-password/versions", None)
        .await;
    assert_eq!(status, 200);
    let versions: Vec<_> = versions["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(versions, [format!("{prefix}{v1}"), format!("{prefix}{v2}")]);

    // Delete: soft; the name is held; visible under /deletedsecrets at once.
    let (status, _, deleted) = vault
        .call(token, "DELETE", "/secrets/db-password", None)
        .await;
    assert_eq!(status, 200, "{deleted}");
    assert_eq!(
        deleted["recoveryId"],
        format!("{}/deletedsecrets/db-password", vault.base)
    );
    assert!(
        deleted["scheduledPurgeDate"].as_i64().unwrap() - deleted["deletedDate"].as_i64().unwrap()
            == 90 * 86_400
    );
    assert!(deleted.get("value").is_none());
    let (status, _, _) = vault.call(token, "GET", "/secrets/db-password", None).await;
    assert_eq!(status, 404);
    let (status, _, conflict) = vault
        .call(
            token,
            "PUT",
            "/secrets/db-password",
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(status, 409);
    assert_eq!(conflict["error"]["code"], "Conflict");
    assert_eq!(
        conflict["error"]["innererror"]["code"],
        "ObjectIsDeletedButRecoverable"
    );
    let (status, _, got) = vault
        .call(token, "GET", "/deletedsecrets/db-password", None)
        .await;
    assert_eq!(status, 200);
    assert_eq!(got["id"].as_str().unwrap(), format!("{prefix}{v2}"));
    let (status, _, list) = vault.call(token, "GET", "/deletedsecrets", None).await;
    assert_eq!(status, 200);
    assert_eq!(list["value"].as_array().unwrap().len(), 1);
    assert_eq!(
        list["value"][0]["id"],
        format!("{}/secrets/db-password", vault.base)
    );

    // Recover: every version back.
    let (status, _, recovered) = vault
        .call(token, "POST", "/deletedsecrets/db-password/recover", None)
        .await;
    assert_eq!(status, 200, "{recovered}");
    let (status, _, got) = vault
        .call(token, "GET", &format!("/secrets/db-password/{v1}"), None)
        .await;
    assert_eq!((status, got["value"].as_str()), (200, Some("p@ssw0rd!")));
    let (status, _, _) = vault
        .call(token, "GET", "/deletedsecrets/db-password", None)
        .await;
    assert_eq!(status, 404);

    // Purge: 204, gone, the name free again.
    vault
        .call(token, "DELETE", "/secrets/db-password", None)
        .await;
    let response = vault
        .http
        .delete(format!(
            "{}/deletedsecrets/db-password?api-version=7.4",
            vault.base
        ))
        .bearer_auth(&owner)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 204);
    assert!(response.bytes().await.unwrap().is_empty());
    let (status, _, gone) = vault
        .call(token, "GET", "/deletedsecrets/db-password", None)
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        gone["error"]["message"],
        "Deleted Secret not found: db-password"
    );
    let (status, _, _) = vault
        .call(
            token,
            "PUT",
            "/secrets/db-password",
            Some(json!({"value": "new"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, versions) = vault
        .call(token, "GET", "/secrets/db-password/versions", None)
        .await;
    assert_eq!(
        (status, versions["value"].as_array().unwrap().len()),
        (200, 1)
    );
}

#[tokio::test]
async fn a_vault_without_soft_delete_deletes_for_good() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let vault = create_vault(
        &cloud,
        "kvhard",
        json!({"enableSoftDelete": false, "accessPolicies": [policy(&cloud, &oid(&owner), &["all"])]}),
    )
    .await;
    let token = Some(owner.as_str());
    let (_, _, set) = vault
        .call(token, "PUT", "/secrets/s", Some(json!({"value": "v"})))
        .await;
    assert_eq!(set["attributes"]["recoveryLevel"], "Purgeable");
    assert_eq!(set["attributes"]["recoverableDays"], 0);
    let (status, _, deleted) = vault.call(token, "DELETE", "/secrets/s", None).await;
    assert_eq!(status, 200);
    assert!(deleted.get("recoveryId").is_none(), "{deleted}");
    let (status, _, _) = vault.call(token, "GET", "/deletedsecrets/s", None).await;
    assert_eq!(status, 404);
    let (status, _, _) = vault
        .call(token, "PUT", "/secrets/s", Some(json!({"value": "again"})))
        .await;
    assert_eq!(status, 200);
}

#[tokio::test]
async fn access_policies_grant_exactly_their_permissions() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let (reader_oid, reader) = principal(&cloud, "getter").await;
    let (_, stranger) = principal(&cloud, "stranger").await;
    let vault = create_vault(
        &cloud,
        "kvpolicy",
        json!({"accessPolicies": [
            policy(&cloud, &oid(&owner), &["all"]),
            policy(&cloud, &reader_oid, &["get"]),
        ]}),
    )
    .await;
    vault
        .call(
            Some(&owner),
            "PUT",
            "/secrets/s",
            Some(json!({"value": "v"})),
        )
        .await;

    let (status, _, got) = vault.call(Some(&reader), "GET", "/secrets/s", None).await;
    assert_eq!((status, got["value"].as_str()), (200, Some("v")));
    let (status, _, refused) = vault.call(Some(&reader), "GET", "/secrets", None).await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["code"], "Forbidden");
    assert_eq!(refused["error"]["innererror"]["code"], "AccessDenied");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("oid={reader_oid}"))
            && message.contains(
                "does not have secrets list permission on key vault 'kvpolicy;location=eastus'"
            ),
        "{message}"
    );
    let (status, _, _) = vault
        .call(
            Some(&reader),
            "PUT",
            "/secrets/s",
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    // Authorization comes before existence: no permission, no 404.
    let (status, _, _) = vault
        .call(Some(&stranger), "GET", "/secrets/nope", None)
        .await;
    assert_eq!(status, 403);
}

#[tokio::test]
async fn an_rbac_vault_checks_data_actions_of_role_assignments() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let (user_oid, user) = principal(&cloud, "secrets-user").await;
    let (officer_oid, officer) = principal(&cloud, "secrets-officer").await;
    let (_, nobody) = principal(&cloud, "nobody").await;
    let vault = create_vault(
        &cloud,
        "kvrbac",
        // Access policies are ignored in RBAC mode.
        json!({"enableRbacAuthorization": true, "accessPolicies": [policy(&cloud, &user_oid, &["all"])]}),
    )
    .await;
    cloud.assign_role(&vault.id, SECRETS_USER, &user_oid).await;
    cloud
        .assign_role(&cloud.group_path("kv-rg"), SECRETS_OFFICER, &officer_oid)
        .await;

    // The owner of the subscription has no data actions.
    let (status, _, refused) = vault
        .call(
            Some(&owner),
            "PUT",
            "/secrets/s",
            Some(json!({"value": "v"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["innererror"]["code"], "ForbiddenByRbac");

    let (status, _, _) = vault
        .call(
            Some(&officer),
            "PUT",
            "/secrets/s",
            Some(json!({"value": "v"})),
        )
        .await;
    assert_eq!(status, 200);
    let (status, _, got) = vault.call(Some(&user), "GET", "/secrets/s", None).await;
    assert_eq!((status, got["value"].as_str()), (200, Some("v")));
    let (status, _, list) = vault.call(Some(&user), "GET", "/secrets", None).await;
    assert_eq!(
        (status, list["value"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let (status, _, refused) = vault
        .call(
            Some(&user),
            "PUT",
            "/secrets/s",
            Some(json!({"value": "x"})),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["code"], "Forbidden");
    assert_eq!(refused["error"]["innererror"]["code"], "ForbiddenByRbac");
    let message = refused["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'")
            && message.contains("/providers/microsoft.keyvault/vaults/kvrbac/secrets/s'"),
        "{message}"
    );
    let (status, _, refused) = vault.call(Some(&nobody), "GET", "/secrets/s", None).await;
    assert_eq!(status, 403);
    assert_eq!(refused["error"]["innererror"]["code"], "ForbiddenByRbac");
    let (status, _, _) = vault
        .call(Some(&officer), "DELETE", "/secrets/s", None)
        .await;
    assert_eq!(status, 200);
    let (status, _, _) = vault
        .call(Some(&officer), "DELETE", "/deletedsecrets/s", None)
        .await;
    assert_eq!(status, 204);
}

#[tokio::test]
async fn values_are_encrypted_at_rest_and_survive_a_restart() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let vault = create_vault(
        &cloud,
        "kvrest",
        json!({"accessPolicies": [policy(&cloud, &oid(&owner), &["all"])]}),
    )
    .await;
    let plaintext = "correct-horse-battery-staple-7f3a9c";
    let (status, _, _) = vault
        .call(
            Some(&owner),
            "PUT",
            "/secrets/s",
            Some(json!({"value": plaintext})),
        )
        .await;
    assert_eq!(status, 200);
    let key = std::fs::metadata(cloud.data_dir().join("keyvault.key")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(key.permissions().mode() & 0o777, 0o600);
    for entry in std::fs::read_dir(cloud.data_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            assert!(
                !bytes
                    .windows(plaintext.len())
                    .any(|w| w == plaintext.as_bytes()),
                "{} holds the plaintext",
                path.display()
            );
        }
    }

    let data_dir = cloud.stop().await;
    let cloud = TestCloud::start_in(data_dir).await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let vault = Vault {
        base: format!("https://kvrest.vault.azure.net:{}", cloud.addr.port()),
        http: vault_client(&cloud, "kvrest"),
        ..vault
    };
    let (status, _, got) = vault.call(Some(&owner), "GET", "/secrets/s", None).await;
    assert_eq!((status, got["value"].as_str()), (200, Some(plaintext)));
    assert_eq!(vault.name, "kvrest");
}

/// Get secret keeps what it read while the store does not change; every change shows on
/// the next request: a new version, a disabled version, a deletion, an access policy taken
/// away, and a write by another process to the same data directory (another handle on the
/// database, which this process's writer never sees).
#[tokio::test]
async fn a_kept_secret_gives_way_to_every_write_at_once() {
    use azlite_store::{SecretStore, SqliteStore};

    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_token(VAULT_SCOPE).await.unwrap();
    let all = policy(&cloud, &oid(&owner), &["all"]);
    let vault = create_vault(&cloud, "kvkept", json!({ "accessPolicies": [all] })).await;
    let get = || vault.call(Some(&owner), "GET", "/secrets/s", None);
    let set = |value: &str| {
        vault.call(
            Some(&owner),
            "PUT",
            "/secrets/s",
            Some(json!({ "value": value })),
        )
    };
    assert_eq!(set("one").await.0, 200);
    for _ in 0..3 {
        assert_eq!(get().await.2["value"], "one");
    }
    assert_eq!(set("two").await.0, 200);
    assert_eq!(get().await.2["value"], "two");

    // Another process disables the newest version, then deletes the secret.
    let other = SqliteStore::open(&cloud.data_dir().join("azlite.db"))
        .await
        .unwrap();
    let vault_id = vault.id.parse().unwrap();
    let mut newest = other
        .get_secret_version(&vault_id, "s", None)
        .await
        .unwrap()
        .unwrap();
    newest.enabled = false;
    assert!(other.update_secret_version(&newest).await.unwrap());
    let (status, _, body) = get().await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"]["innererror"]["code"], "SecretDisabled");
    other.delete_secret(&vault_id, "s", None).await.unwrap();
    let (status, _, body) = get().await;
    assert_eq!(status, 404, "{body}");

    // This process: a new secret, then the owner's access policy taken away.
    assert_eq!(set("three").await.0, 200);
    assert_eq!(get().await.2["value"], "three");
    create_vault(&cloud, "kvkept", json!({ "accessPolicies": [] })).await;
    let (status, _, body) = get().await;
    assert_eq!(status, 403, "{body}");
}
