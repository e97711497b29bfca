//! The permanent attack suite (issue 10) for the storage planes: Blob Storage and Data Lake
//! Store Gen1 are shown the same forged-token set as every other plane
//! (`support/forge.rs`) and must refuse each with their own error (Blob: 401
//! `InvalidAuthenticationInfo`, or 403 `AuthenticationFailed`; Data Lake: WebHDFS's 401
//! `RemoteException`), never answer with data, and stay up. The genuine token passes first.
//! Blob's other credentials get the same treatment: Shared Key requests and service SAS
//! forged every way a signature can be (wrong key, altered signature, a signed field
//! tampered with, stale or out-of-window times, another account or container), each refused
//! with Azure's 403 `AuthenticationFailed`.

#[path = "support/forge.rs"]
mod forge;

use std::collections::BTreeMap;

use azlite_storage_auth::sas::SasFields;
use azlite_storage_auth::shared_key::{self, SharedKeyScheme, SignedRequest};
use azlite_storage_auth::{AccountKey, format_rfc1123, format_sas_time, parse_query};
use azlite_store::{Resource, ResourceGroup, WriteBatch};
use forge::Attack;
use serde_json::json;
use time::{Duration, OffsetDateTime};

const VERSION: &str = "2021-08-06";
const STORAGE_API: &str = "2023-05-01";

/// Writes `resource` and its group to the store, as ARM writes them.
async fn create(a: &Attack, group: &str, resource_type: &str, name: &str, body: serde_json::Value) {
    let cloud = &a.cloud;
    let subscription = cloud.info.subscription_id.parse().unwrap();
    let id = format!(
        "/subscriptions/{}/resourceGroups/{group}/providers/{resource_type}/{name}",
        cloud.info.subscription_id
    );
    cloud
        .store
        .apply(WriteBatch {
            resource_groups: vec![ResourceGroup {
                subscription_id: subscription,
                name: group.into(),
                location: "eastus".into(),
                tags: BTreeMap::new(),
                managed_by: None,
                created_at: 0,
                updated_at: 0,
            }],
            resources: vec![Resource {
                id: id.parse().unwrap(),
                subscription_id: subscription,
                resource_group: group.into(),
                resource_type: resource_type.into(),
                name: name.into(),
                location: "eastus".into(),
                tags: BTreeMap::new(),
                body,
                created_at: 0,
                updated_at: 0,
            }],
            ..Default::default()
        })
        .await
        .unwrap();
}

/// A client that reaches `host` at the test listener.
fn client(a: &Attack, host: &str) -> reqwest::Client {
    a.cloud.client_for(host)
}

#[tokio::test]
async fn blob_refuses_every_forged_token() {
    let a = Attack::new().await;
    let account = "stattack";
    create(
        &a,
        "st-rg",
        "Microsoft.Storage/storageAccounts",
        account,
        json!({ "kind": "StorageV2", "sku": { "name": "Standard_LRS" }, "properties": {} }),
    )
    .await;
    let token = a
        .cloud
        .owner_v1_token("https://storage.azure.com/")
        .await
        .unwrap();
    let host = format!("{account}.blob.core.windows.net");
    let http = client(&a, &host);
    let url = format!("https://{host}:{}/?comp=list", a.cloud.addr.port());
    a.run(
        "Blob",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let response = http
                    .get(&url)
                    .bearer_auth(&t)
                    .header("x-ms-version", "2021-08-06")
                    .send()
                    .await;
                let response = match response {
                    Ok(response) => response,
                    Err(e) => return (0, e.to_string()),
                };
                let status = response.status().as_u16();
                let code = response
                    .headers()
                    .get("x-ms-error-code")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_owned();
                let body = response.text().await.unwrap_or_default();
                // Azure's codes for a bad bearer token, in the header and the XML body.
                if status == 401 || status == 403 {
                    assert!(
                        ["InvalidAuthenticationInfo", "AuthenticationFailed"]
                            .contains(&code.as_str())
                            && body.contains(&format!("<Code>{code}</Code>")),
                        "{status} {code}: {body}"
                    );
                }
                if status < 300 {
                    assert!(body.contains("<EnumerationResults"), "{body}");
                    // The genuine answer lists containers; a forgery's must not get here.
                    return (status, String::new());
                }
                (status, body)
            }
        },
        &[401, 403, 431],
    )
    .await;
}

#[tokio::test]
async fn data_lake_refuses_every_forged_token() {
    let a = Attack::new().await;
    let account = "dlsattack";
    let host = format!("{account}.azuredatalakestore.net");
    create(
        &a,
        "dls-rg",
        "Microsoft.DataLakeStore/accounts",
        account,
        json!({ "properties": { "endpoint": host } }),
    )
    .await;
    let token = a
        .cloud
        .owner_v1_token("https://datalake.azure.net/")
        .await
        .unwrap();
    let http = client(&a, &host);
    let url = format!(
        "https://{host}:{}/webhdfs/v1/?op=LISTSTATUS",
        a.cloud.addr.port()
    );
    a.run(
        "Data Lake",
        &token,
        |t| {
            let (http, url) = (http.clone(), url.clone());
            async move {
                let response = match http.get(&url).bearer_auth(&t).send().await {
                    Ok(response) => response,
                    Err(e) => return (0, e.to_string()),
                };
                let status = response.status().as_u16();
                let body = response.text().await.unwrap_or_default();
                if status == 401 {
                    let error: serde_json::Value = serde_json::from_str(&body).unwrap();
                    assert_eq!(
                        error["RemoteException"]["exception"], "SecurityException",
                        "{body}"
                    );
                }
                if status < 300 {
                    assert!(body.contains("FileStatuses"), "{body}");
                    return (status, String::new());
                }
                (status, body)
            }
        },
        &[401, 431],
    )
    .await;
}

/// A storage account made through ARM, with its first key (from `listKeys`).
struct KeyedAccount {
    name: String,
    base: String,
    http: reqwest::Client,
    key: AccountKey,
}

async fn keyed_account(a: &Attack) -> KeyedAccount {
    let cloud = &a.cloud;
    let owner = cloud.owner_arm_token().await;
    let name = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let id = cloud.storage_account("st-forged", &name).await;
    let (status, keys) = cloud
        .arm(&owner, "POST", &format!("{id}/listKeys"), None, STORAGE_API)
        .await;
    assert_eq!(status, 200, "{keys}");
    let host = format!("{name}.blob.core.windows.net");
    KeyedAccount {
        base: format!("https://{host}:{}", cloud.addr.port()),
        http: client(a, &host),
        key: AccountKey::from_base64(keys["keys"][0]["value"].as_str().unwrap()).unwrap(),
        name,
    }
}

/// What one forged signed request changes from the genuine one.
#[derive(Default)]
struct Forgery {
    /// Sign with this key instead of the account's.
    key: Option<AccountKey>,
    /// Sign this path and query, send the genuine one.
    signed_path: Option<&'static str>,
    /// `x-ms-date` this far from now, signed as sent.
    date_offset: Option<Duration>,
    /// Send this `x-ms-date`, sign the genuine one.
    sent_date_offset: Option<Duration>,
    /// Rewrite the signed `Authorization` value.
    authorization: Option<fn(&str) -> String>,
}

impl KeyedAccount {
    /// `GET path` with Shared Key, forged as `forgery` says: (status, error code, body).
    async fn shared_key(&self, path: &str, forgery: &Forgery) -> (u16, String, String) {
        let now = OffsetDateTime::now_utc();
        let date = format_rfc1123(now + forgery.date_offset.unwrap_or_default());
        let signed_path = forgery.signed_path.unwrap_or(path);
        let (bare, query) = signed_path.split_once('?').unwrap_or((signed_path, ""));
        let query = parse_query(query);
        let headers = [("x-ms-date", date.as_str()), ("x-ms-version", VERSION)];
        let request = SignedRequest {
            method: "GET",
            account: &self.name,
            path: bare,
            query: &query,
            headers: &headers,
        };
        let key = forgery.key.as_ref().unwrap_or(&self.key);
        let mut authorization = shared_key::sign(SharedKeyScheme::SharedKey, &request, key);
        if let Some(rewrite) = forgery.authorization {
            authorization = rewrite(&authorization);
        }
        let sent_date = match forgery.sent_date_offset {
            Some(offset) => format_rfc1123(now + offset),
            None => date.clone(),
        };
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header("Authorization", authorization)
            .header("x-ms-date", sent_date)
            .header("x-ms-version", VERSION)
            .send()
            .await
            .unwrap();
        outcome(response).await
    }

    /// `GET path` with the SAS query `sas`: (status, error code, body).
    async fn sas(&self, path: &str, sas: &str) -> (u16, String, String) {
        let response = self
            .http
            .get(format!("{}{path}&{sas}", self.base))
            .header("x-ms-version", VERSION)
            .send()
            .await
            .unwrap();
        outcome(response).await
    }
}

async fn outcome(response: reqwest::Response) -> (u16, String, String) {
    let status = response.status().as_u16();
    let code = response
        .headers()
        .get("x-ms-error-code")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, code, response.text().await.unwrap_or_default())
}

/// Azure's answer to a signature it does not accept: 403 `AuthenticationFailed` (400
/// `InvalidHeaderValue`/`InvalidQueryParameterValue` for a field it cannot even parse).
fn assert_refused(kind: &str, name: &str, (status, code, body): &(u16, String, String)) {
    let refused = matches!(
        (*status, code.as_str()),
        (403, "AuthenticationFailed")
            | (
                400,
                "InvalidHeaderValue" | "InvalidQueryParameterValue" | "InvalidAuthenticationInfo"
            )
    );
    assert!(refused, "{kind} '{name}': {status} {code}: {body}");
    assert!(
        body.contains(&format!("<Code>{code}</Code>")),
        "{kind} '{name}': the XML body carries the code: {body}"
    );
    assert!(
        !body.contains("<EnumerationResults"),
        "{kind} '{name}' leaked a listing: {body}"
    );
}

#[tokio::test]
async fn blob_refuses_every_forged_shared_key_request() {
    let a = Attack::new().await;
    let account = keyed_account(&a).await;
    let path = "/?comp=list";
    let genuine = account.shared_key(path, &Forgery::default()).await;
    assert_eq!(genuine.0, 200, "{genuine:?}");

    let forgeries: Vec<(&str, Forgery)> = vec![
        (
            "wrong key",
            Forgery {
                key: Some(AccountKey::from_bytes(vec![7; 64])),
                ..Default::default()
            },
        ),
        (
            "signature altered",
            Forgery {
                authorization: Some(|v| {
                    let (head, signature) = v.rsplit_once(':').unwrap();
                    let flipped = if signature.starts_with('A') { 'B' } else { 'A' };
                    format!("{head}:{flipped}{}", &signature[1..])
                }),
                ..Default::default()
            },
        ),
        (
            "another account named",
            Forgery {
                authorization: Some(|v| {
                    let (_, signature) = v.rsplit_once(':').unwrap();
                    format!("SharedKey someoneelse:{signature}")
                }),
                ..Default::default()
            },
        ),
        (
            "tampered query",
            Forgery {
                signed_path: Some("/?comp=list&prefix=nothing"),
                ..Default::default()
            },
        ),
        (
            "tampered date",
            Forgery {
                sent_date_offset: Some(Duration::seconds(-1)),
                ..Default::default()
            },
        ),
        (
            "stale date",
            Forgery {
                date_offset: Some(Duration::minutes(-30)),
                ..Default::default()
            },
        ),
        (
            "empty signature",
            Forgery {
                authorization: Some(|v| format!("{}:", v.rsplit_once(':').unwrap().0)),
                ..Default::default()
            },
        ),
        (
            "signature not base64",
            Forgery {
                authorization: Some(|v| {
                    format!("{}:!!not base64!!", v.rsplit_once(':').unwrap().0)
                }),
                ..Default::default()
            },
        ),
    ];
    for (name, forgery) in &forgeries {
        let answer = account.shared_key(path, forgery).await;
        assert_refused("Shared Key", name, &answer);
    }
    let again = account.shared_key(path, &Forgery::default()).await;
    assert_eq!(again.0, 200, "still up: {again:?}");
}

#[tokio::test]
async fn blob_refuses_every_forged_sas() {
    let a = Attack::new().await;
    let account = keyed_account(&a).await;
    for container in ["mine", "other"] {
        let made = account.shared_key_put_container(container).await;
        assert_eq!(made, 201);
    }
    let path = "/mine?restype=container&comp=list";
    let now = OffsetDateTime::now_utc();
    let sas = |key: &AccountKey, container: &str, edit: &dyn Fn(&mut SasFields)| {
        let mut fields = SasFields {
            version: Some(VERSION.into()),
            resource: Some("c".into()),
            permissions: Some("rl".into()),
            expiry: Some(format_sas_time(now + Duration::hours(1))),
            protocol: Some("https".into()),
            ..Default::default()
        };
        edit(&mut fields);
        fields
            .sign_service(key, &format!("/blob/{}/{container}", account.name), "")
            .unwrap();
        fields
    };
    let genuine = sas(&account.key, "mine", &|_| {});
    let answer = account.sas(path, &genuine.to_query_string()).await;
    assert_eq!(answer.0, 200, "{answer:?}");

    let after_signing = |edit: &dyn Fn(&mut SasFields)| {
        let mut fields = genuine.clone();
        edit(&mut fields);
        fields.to_query_string()
    };
    let wrong_key = AccountKey::from_bytes(vec![7; 64]);
    let forgeries: Vec<(&str, String)> = vec![
        (
            "wrong key",
            sas(&wrong_key, "mine", &|_| {}).to_query_string(),
        ),
        (
            "signature altered",
            after_signing(&|f| {
                let sig = f.signature.clone().unwrap();
                let flipped = if sig.starts_with('A') { "B" } else { "A" };
                f.signature = Some(format!("{flipped}{}", &sig[1..]));
            }),
        ),
        (
            "tampered permissions",
            after_signing(&|f| f.permissions = Some("rwdl".into())),
        ),
        (
            "tampered expiry",
            after_signing(&|f| f.expiry = Some(format_sas_time(now + Duration::days(365)))),
        ),
        (
            "tampered protocol",
            after_signing(&|f| f.protocol = Some("https,http".into())),
        ),
        (
            "another container's SAS",
            sas(&account.key, "other", &|_| {}).to_query_string(),
        ),
        (
            "expired",
            sas(&account.key, "mine", &|f| {
                f.start = Some(format_sas_time(now - Duration::hours(2)));
                f.expiry = Some(format_sas_time(now - Duration::hours(1)));
            })
            .to_query_string(),
        ),
        (
            "not yet valid",
            sas(&account.key, "mine", &|f| {
                f.start = Some(format_sas_time(now + Duration::hours(1)));
                f.expiry = Some(format_sas_time(now + Duration::hours(2)));
            })
            .to_query_string(),
        ),
    ];
    for (name, query) in &forgeries {
        let answer = account.sas(path, query).await;
        assert_refused("SAS", name, &answer);
    }
    let again = account.sas(path, &genuine.to_query_string()).await;
    assert_eq!(again.0, 200, "still up: {again:?}");
}

impl KeyedAccount {
    /// Creates a container with Shared Key; the status.
    async fn shared_key_put_container(&self, container: &str) -> u16 {
        let date = format_rfc1123(OffsetDateTime::now_utc());
        let path = format!("/{container}");
        let query = parse_query("restype=container");
        let headers = [
            ("x-ms-date", date.as_str()),
            ("x-ms-version", VERSION),
            ("content-length", "0"),
        ];
        let request = SignedRequest {
            method: "PUT",
            account: &self.name,
            path: &path,
            query: &query,
            headers: &headers,
        };
        let authorization = shared_key::sign(SharedKeyScheme::SharedKey, &request, &self.key);
        let mut builder = self
            .http
            .put(format!("{}{path}?restype=container", self.base))
            .header("Authorization", authorization);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        builder.send().await.unwrap().status().as_u16()
    }
}
