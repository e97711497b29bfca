//! A SAS's `sip` is checked against the TCP peer of the TLS listener: a client bound to
//! 127.0.0.2 is 127.0.0.2 (loopback answers on all of 127.0.0.0/8), not 127.0.0.1.

use azlite_storage_auth::sas::SasFields;
use azlite_storage_auth::{AccountKey, format_sas_time};
use azlite_testkit::TestCloud;
use time::{Duration, OffsetDateTime};

const API: &str = "2023-05-01";
const VERSION: &str = "2021-08-06";

#[tokio::test]
async fn sip_is_the_connections_source_address() {
    let cloud = TestCloud::start().await.unwrap();
    let owner = cloud.owner_arm_token().await;
    let name = "stsip1";
    let id = cloud.storage_account("st-sip", name).await;
    let (status, keys) = cloud
        .arm(&owner, "POST", &format!("{id}/listKeys"), None, API)
        .await;
    assert_eq!(status, 200, "{keys}");
    let key = AccountKey::from_base64(keys["keys"][0]["value"].as_str().unwrap()).unwrap();

    let ca = std::fs::read(&cloud.info.ca_certificate).unwrap();
    let client = |source: [u8; 4]| {
        reqwest::Client::builder()
            .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
            .no_proxy()
            .local_address(std::net::IpAddr::from(source))
            .resolve(&format!("{name}.blob.core.windows.net"), cloud.addr)
            .build()
            .unwrap()
    };
    let base = format!("https://{name}.blob.core.windows.net:{}", cloud.addr.port());
    let expiry = format_sas_time(OffsetDateTime::now_utc() + Duration::hours(1));
    let sas = |sp: &str, sr: &str, resource: &str, sip: &str| {
        let mut fields = SasFields {
            version: Some(VERSION.into()),
            resource: Some(sr.into()),
            permissions: Some(sp.into()),
            expiry: Some(expiry.clone()),
            ip: Some(sip.into()),
            protocol: Some("https".into()),
            ..Default::default()
        };
        fields.sign_service(&key, resource, "").unwrap();
        fields.to_query_string()
    };
    let write = sas("rcw", "c", &format!("/blob/{name}/data"), "127.0.0.2");
    let local = client([127, 0, 0, 2]);
    let date = azlite_storage_auth::format_rfc1123(OffsetDateTime::now_utc());
    let created = local
        .put(format!("{base}/data?restype=container"))
        .header("x-ms-version", VERSION)
        .header(
            "Authorization",
            azlite_storage_auth::shared_key::sign(
                azlite_storage_auth::shared_key::SharedKeyScheme::SharedKey,
                &azlite_storage_auth::shared_key::SignedRequest {
                    method: "PUT",
                    account: name,
                    path: "/data",
                    query: &azlite_storage_auth::parse_query("restype=container"),
                    headers: &[("x-ms-version", VERSION), ("x-ms-date", &date)],
                },
                &key,
            ),
        )
        .header("x-ms-date", &date)
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201, "{}", created.text().await.unwrap());
    let put = local
        .put(format!("{base}/data/b.txt?{write}"))
        .header("x-ms-version", VERSION)
        .header("x-ms-blob-type", "BlockBlob")
        .body("by address")
        .send()
        .await
        .unwrap();
    assert_eq!(put.status(), 201, "from 127.0.0.2 with sip=127.0.0.2");

    let read = |source: [u8; 4], sip: &str| {
        let url = format!(
            "{base}/data/b.txt?{}",
            sas("r", "b", &format!("/blob/{name}/data/b.txt"), sip)
        );
        let http = client(source);
        async move {
            let response = http
                .get(url)
                .header("x-ms-version", VERSION)
                .send()
                .await
                .unwrap();
            let code = response
                .headers()
                .get("x-ms-error-code")
                .map(|v| v.to_str().unwrap().to_owned())
                .unwrap_or_default();
            (response.status().as_u16(), code)
        }
    };
    let mismatch = (403, "AuthorizationSourceIPMismatch".to_owned());
    assert_eq!(
        read([127, 0, 0, 2], "127.0.0.2").await,
        (200, String::new())
    );
    assert_eq!(read([127, 0, 0, 2], "127.0.0.1").await, mismatch);
    assert_eq!(read([127, 0, 0, 1], "127.0.0.2").await, mismatch);
    assert_eq!(
        read([127, 0, 0, 2], "127.0.0.0-127.0.0.9").await,
        (200, String::new())
    );
}
