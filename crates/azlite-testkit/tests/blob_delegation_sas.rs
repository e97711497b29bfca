//! The object ids of a user delegation SAS, enforced as Azure does: `saoid` and `suoid` only
//! on an account with a hierarchical namespace (403 `AuthorizationFailure` on a flat one),
//! and `sduoid` (2025-07-05) only together with a Bearer token issued to that user (403
//! `AuthenticationFailed` without one or with another user's), which then needs no data
//! role of its own: the signer's is what authorizes.

use azlite_storage_auth::sas::SasFields;
use azlite_storage_auth::{AccountKey, format_sas_time};
use azlite_testkit::TestCloud;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};

const STORAGE_SCOPE: &str = "https://storage.azure.com/.default";
const DATA_OWNER: &str = "b7e6dc6d-f1e8-4753-8033-0f276bb0955b";
const VERSION: &str = "2025-07-05";
const API: &str = "2023-05-01";

/// A new application's object id and a storage token of its own.
async fn storage_principal(cloud: &TestCloud, name: &str) -> (String, String) {
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
        ("scope", STORAGE_SCOPE),
    ];
    let (status, body) = cloud
        .token_request(&cloud.info.tenant_id, &form)
        .await
        .unwrap();
    assert_eq!(status, 200, "{body}");
    (
        app["servicePrincipalObjectId"].as_str().unwrap().to_owned(),
        body["access_token"].as_str().unwrap().to_owned(),
    )
}

fn element<'a>(xml: &'a str, name: &str) -> &'a str {
    let start = xml.find(&format!("<{name}>")).unwrap() + name.len() + 2;
    let end = xml[start..].find(&format!("</{name}>")).unwrap();
    &xml[start..start + end]
}

#[tokio::test]
async fn delegation_sas_object_ids_are_enforced() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let name = "studsas1";
    let id = cloud.storage_account("st-udsas", name).await;

    // The signer: the owner, with a data role on the account.
    let signer = cloud.owner_token(STORAGE_SCOPE).await.unwrap();
    let payload = signer.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, payload)
            .unwrap(),
    )
    .unwrap();
    let role = json!({ "properties": {
        "roleDefinitionId": format!("/subscriptions/{}/providers/Microsoft.Authorization/roleDefinitions/{DATA_OWNER}", cloud.info.subscription_id),
        "principalId": claims["oid"],
    }});
    let path = format!(
        "{id}/providers/Microsoft.Authorization/roleAssignments/{}",
        uuid::Uuid::new_v4()
    );
    let (status, body) = cloud.arm(&owner, "PUT", &path, Some(role), API).await;
    assert_eq!(status, 201, "{body}");
    // The delegated user, without any role, and a third one.
    let (user, user_token) = storage_principal(&cloud, "udsas-user").await;
    let (_, other_token) = storage_principal(&cloud, "udsas-other").await;

    let ca = std::fs::read(&cloud.info.ca_certificate).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .no_proxy()
        .resolve(&format!("{name}.blob.core.windows.net"), cloud.addr)
        .build()
        .unwrap();
    let base = format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port());
    let send = |method: &str, url: String, token: Option<&str>, body: &'static str| {
        let mut request = http
            .request(method.parse().unwrap(), url)
            .header("x-ms-version", VERSION)
            .header("x-ms-blob-type", "BlockBlob")
            .body(body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    let status_and_code = |response: reqwest::Response| {
        let code = response
            .headers()
            .get("x-ms-error-code")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default();
        (response.status().as_u16(), code)
    };
    let created = send(
        "PUT",
        format!("{base}/data?restype=container"),
        Some(&signer),
        "",
    )
    .await
    .unwrap();
    assert_eq!(created.status(), 201);
    let put = send("PUT", format!("{base}/data/b.txt"), Some(&signer), "shared")
        .await
        .unwrap();
    assert_eq!(put.status(), 201);

    let now = OffsetDateTime::now_utc();
    let (start, expiry) = (
        format_sas_time(now - Duration::minutes(5)),
        format_sas_time(now + Duration::hours(1)),
    );
    let request = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><KeyInfo><Start>{start}</Start><Expiry>{expiry}</Expiry></KeyInfo>"
    );
    let key = http
        .post(format!("{base}/?restype=service&comp=userdelegationkey"))
        .header("x-ms-version", VERSION)
        .bearer_auth(&signer)
        .body(request)
        .send()
        .await
        .unwrap();
    assert_eq!(key.status(), 200);
    let xml = key.text().await.unwrap();
    let value = AccountKey::from_base64(element(&xml, "Value")).unwrap();
    let sas = |edit: &dyn Fn(&mut SasFields)| {
        let mut fields = SasFields {
            version: Some(VERSION.into()),
            resource: Some("b".into()),
            permissions: Some("r".into()),
            expiry: Some(expiry.clone()),
            protocol: Some("https".into()),
            key_object_id: Some(element(&xml, "SignedOid").into()),
            key_tenant_id: Some(element(&xml, "SignedTid").into()),
            key_start: Some(element(&xml, "SignedStart").into()),
            key_expiry: Some(element(&xml, "SignedExpiry").into()),
            key_service: Some(element(&xml, "SignedService").into()),
            key_version: Some(element(&xml, "SignedVersion").into()),
            ..Default::default()
        };
        edit(&mut fields);
        fields
            .sign_user_delegation(&value, &format!("/blob/{name}/data/b.txt"), "", &[], &[])
            .unwrap();
        fields.to_query_string()
    };
    let read = |sas: String, token: Option<String>| {
        let url = format!("{base}/data/b.txt?{sas}");
        async move {
            let response = send("GET", url, token.as_deref(), "").await.unwrap();
            status_and_code(response)
        }
    };
    let ok = (200, String::new());
    let denied = |code: &str| (403, code.to_owned());

    assert_eq!(
        read(sas(&|_| {}), None).await,
        ok,
        "a plain user delegation SAS"
    );
    let agent = uuid::Uuid::new_v4().to_string();
    assert_eq!(
        read(sas(&|f| f.authorized_object_id = Some(agent.clone())), None).await,
        denied("AuthorizationFailure"),
        "saoid on a flat account"
    );
    assert_eq!(
        read(
            sas(&|f| f.unauthorized_object_id = Some(agent.clone())),
            None
        )
        .await,
        denied("AuthorizationFailure"),
        "suoid on a flat account"
    );

    let for_user = sas(&|f| f.delegated_user_object_id = Some(user.clone()));
    assert_eq!(
        read(for_user.clone(), None).await,
        denied("AuthenticationFailed"),
        "sduoid without the user's token"
    );
    assert_eq!(
        read(for_user.clone(), Some(other_token.clone())).await,
        denied("AuthenticationFailed"),
        "sduoid with another principal's token"
    );
    assert_eq!(
        read(for_user.clone(), Some(user_token.clone())).await,
        ok,
        "sduoid with the user's own token: the signer's role authorizes"
    );
    assert_eq!(
        read(for_user.replace(&user, &agent), Some(user_token.clone())).await,
        denied("AuthenticationFailed"),
        "an sduoid changed after signing"
    );
    // Without the SAS, the delegated user has no access of its own.
    let alone = send("GET", format!("{base}/data/b.txt"), Some(&user_token), "")
        .await
        .unwrap();
    assert_eq!(
        status_and_code(alone),
        denied("AuthorizationPermissionMismatch")
    );
}
