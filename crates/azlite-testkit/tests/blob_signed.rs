//! The Blob service with the account's keys and SAS (issue 11), end to end over HTTPS on the
//! account's host name: Shared Key and Shared Key Lite, service SAS (`sr=c`, `sr=b`) and
//! account SAS, and each denial with Azure's status and code: a wrong key, a container SAS
//! on another container, a read-only SAS writing, an expired SAS, a key after
//! `regenerateKey`, and keys on an account with `allowSharedKeyAccess: false`. The account
//! and its keys come from ARM (`PUT`, `listKeys`), as a user gets them.

use azlite_storage_auth::sas::SasFields;
use azlite_storage_auth::shared_key::{self, SharedKeyScheme, SignedRequest};
use azlite_storage_auth::{AccountKey, format_rfc1123, format_sas_time, parse_query};
use azlite_testkit::TestCloud;
use serde_json::json;
use time::{Duration, OffsetDateTime};

const VERSION: &str = "2021-08-06";
const API: &str = "2023-05-01";

struct Account {
    name: String,
    id: String,
    base: String,
    http: reqwest::Client,
}

async fn create_account(cloud: &TestCloud) -> Account {
    let name = format!("st{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
    let id = cloud.storage_account("st-signed", &name).await;
    let http = cloud.client_for(&format!("{name}.blob.core.windows.net"));
    Account {
        base: format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port()),
        name,
        id,
        http,
    }
}

async fn keys(cloud: &TestCloud, account: &Account) -> (AccountKey, AccountKey) {
    let owner = cloud.owner_arm_token().await;
    let (status, body) = cloud
        .arm(
            &owner,
            "POST",
            &format!("{}/listKeys", account.id),
            None,
            API,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let key =
        |i: usize| AccountKey::from_base64(body["keys"][i]["value"].as_str().unwrap()).unwrap();
    (key(0), key(1))
}

impl Account {
    /// A request signed with `key` (Shared Key or Shared Key Lite).
    async fn keyed(
        &self,
        scheme: SharedKeyScheme,
        key: &AccountKey,
        method: &str,
        path_and_query: &str,
        body: &'static [u8],
    ) -> reqwest::Response {
        let date = format_rfc1123(OffsetDateTime::now_utc());
        let (path, query) = path_and_query
            .split_once('?')
            .unwrap_or((path_and_query, ""));
        let length = body.len().to_string();
        let mut headers = vec![("x-ms-date", date.as_str()), ("x-ms-version", VERSION)];
        if method == "PUT" {
            headers.push(("content-length", &length));
            if !path_and_query.contains("restype=container") {
                headers.push(("x-ms-blob-type", "BlockBlob"));
            }
        }
        let query = parse_query(query);
        let request = SignedRequest {
            method,
            account: &self.name,
            path,
            query: &query,
            headers: &headers,
        };
        // `sign` answers the whole header value: `<scheme> <account>:<signature>`.
        let authorization = shared_key::sign(scheme, &request, key);
        let mut builder = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{path_and_query}", self.base),
            )
            .header("Authorization", authorization);
        for (name, value) in &headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body).send().await.unwrap()
    }

    /// A request carrying `sas`.
    async fn with_sas(
        &self,
        method: &str,
        path: &str,
        sas: &str,
        body: &'static [u8],
    ) -> reqwest::Response {
        let separator = if path.contains('?') { '&' } else { '?' };
        let mut builder = self
            .http
            .request(
                method.parse().unwrap(),
                format!("{}{path}{separator}{sas}", self.base),
            )
            .header("x-ms-version", VERSION);
        if method == "PUT" {
            builder = builder.header("x-ms-blob-type", "BlockBlob");
        }
        builder.body(body).send().await.unwrap()
    }
}

fn service_sas(
    key: &AccountKey,
    resource: &str,
    sr: &str,
    sp: &str,
    expiry: OffsetDateTime,
) -> String {
    let mut fields = SasFields {
        version: Some(VERSION.into()),
        resource: Some(sr.into()),
        permissions: Some(sp.into()),
        expiry: Some(format_sas_time(expiry)),
        protocol: Some("https".into()),
        ..Default::default()
    };
    fields.sign_service(key, resource, "").unwrap();
    fields.to_query_string()
}

fn code(response: &reqwest::Response) -> (u16, String) {
    let code = response
        .headers()
        .get("x-ms-error-code")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (response.status().as_u16(), code)
}

fn denied(code_: &str) -> (u16, String) {
    (403, code_.to_owned())
}

#[tokio::test]
async fn shared_key_and_sas_authorize_and_deny_as_azure() {
    let cloud = TestCloud::start().await.unwrap();
    let account = create_account(&cloud).await;
    let (key1, key2) = keys(&cloud, &account).await;
    let later = OffsetDateTime::now_utc() + Duration::hours(1);

    // Shared Key and Shared Key Lite.
    for path in ["/one?restype=container", "/two?restype=container"] {
        let r = account
            .keyed(SharedKeyScheme::SharedKey, &key1, "PUT", path, b"")
            .await;
        assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    }
    let r = account
        .keyed(
            SharedKeyScheme::SharedKey,
            &key1,
            "PUT",
            "/one/b.txt",
            b"hello",
        )
        .await;
    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
    let r = account
        .keyed(
            SharedKeyScheme::SharedKeyLite,
            &key2,
            "GET",
            "/one/b.txt",
            b"",
        )
        .await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text().await.unwrap(), "hello");
    let wrong = AccountKey::from_bytes(b"not the key".to_vec());
    let r = account
        .keyed(SharedKeyScheme::SharedKey, &wrong, "GET", "/one/b.txt", b"")
        .await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));
    assert!(
        r.text()
            .await
            .unwrap()
            .contains("AuthenticationErrorDetail")
    );

    // Service SAS: a container SAS reads its container only, and cannot write with `r`.
    let container = service_sas(
        &key1,
        &format!("/blob/{}/one", account.name),
        "c",
        "r",
        later,
    );
    let r = account.with_sas("GET", "/one/b.txt", &container, b"").await;
    assert_eq!(r.status(), 200);
    let r = account.with_sas("GET", "/two/b.txt", &container, b"").await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));
    let r = account
        .with_sas("PUT", "/one/c.txt", &container, b"x")
        .await;
    assert_eq!(code(&r), denied("AuthorizationPermissionMismatch"));
    // A blob SAS with create may create, not overwrite.
    let blob = service_sas(
        &key2,
        &format!("/blob/{}/one/new.txt", account.name),
        "b",
        "c",
        later,
    );
    let r = account.with_sas("PUT", "/one/new.txt", &blob, b"new").await;
    assert_eq!(r.status(), 201);
    let r = account
        .with_sas("PUT", "/one/new.txt", &blob, b"again")
        .await;
    assert_eq!(code(&r), denied("AuthorizationPermissionMismatch"));
    // Expired; tampered.
    let expired = service_sas(
        &key1,
        &format!("/blob/{}/one", account.name),
        "c",
        "r",
        OffsetDateTime::now_utc() - Duration::minutes(5),
    );
    let r = account.with_sas("GET", "/one/b.txt", &expired, b"").await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));
    let tampered = container.replace("sp=r", "sp=rw");
    let r = account.with_sas("GET", "/one/b.txt", &tampered, b"").await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));

    // Account SAS: objects only, so listing containers is refused.
    let mut fields = SasFields {
        version: Some(VERSION.into()),
        services: Some("b".into()),
        resource_types: Some("o".into()),
        permissions: Some("rl".into()),
        expiry: Some(format_sas_time(later)),
        ..Default::default()
    };
    fields.sign_account(&key1, &account.name).unwrap();
    let account_sas = fields.to_query_string();
    let r = account
        .with_sas("GET", "/one/b.txt", &account_sas, b"")
        .await;
    assert_eq!(r.status(), 200);
    let r = account
        .with_sas("GET", "/?comp=list", &account_sas, b"")
        .await;
    assert_eq!(code(&r), denied("AuthorizationResourceTypeMismatch"));

    // regenerateKey: key1 and what it signed stop working at once; key2 goes on.
    let owner = cloud.owner_arm_token().await;
    let (status, body) = cloud
        .arm(
            &owner,
            "POST",
            &format!("{}/regenerateKey", account.id),
            Some(json!({ "keyName": "key1" })),
            API,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = account
        .keyed(SharedKeyScheme::SharedKey, &key1, "GET", "/one/b.txt", b"")
        .await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));
    let r = account.with_sas("GET", "/one/b.txt", &container, b"").await;
    assert_eq!(code(&r), denied("AuthenticationFailed"));
    let r = account
        .keyed(SharedKeyScheme::SharedKey, &key2, "GET", "/one/b.txt", b"")
        .await;
    assert_eq!(r.status(), 200);

    // allowSharedKeyAccess: false refuses keys and key-signed SAS.
    let (status, body) = cloud
        .arm(
            &owner,
            "PATCH",
            &account.id,
            Some(json!({ "properties": { "allowSharedKeyAccess": false } })),
            API,
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let r = account
        .keyed(SharedKeyScheme::SharedKey, &key2, "GET", "/one/b.txt", b"")
        .await;
    assert_eq!(code(&r), denied("KeyBasedAuthenticationNotPermitted"));
    let sas = service_sas(
        &key2,
        &format!("/blob/{}/one", account.name),
        "c",
        "r",
        later,
    );
    let r = account.with_sas("GET", "/one/b.txt", &sas, b"").await;
    assert_eq!(code(&r), denied("KeyBasedAuthenticationNotPermitted"));
}
