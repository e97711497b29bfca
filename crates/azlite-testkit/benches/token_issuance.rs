//! Tokens issued per second against raw RS256 signatures per second, in one run.
//!
//! - `raw_rs256_sign`: one RSA-2048 PKCS#1 v1.5 signature of a 500-byte JWT signing input,
//!   with the STS's own key: the ceiling of any token service on this machine.
//! - `sts_token`: the STS's client-credentials grant as a function call (tenant, client and
//!   secret lookups in SQLite, resource resolution, claims, signature).
//! - `https_token`: the same grant over HTTPS to the in-process server, one keep-alive
//!   connection, as a client sees it.
//!
//! Run: `cargo bench -p azlite-testkit --bench token_issuance`. All traffic is loopback.

use std::time::Duration;

use azlite_sts::{Endpoint, TokenForm, TokenRequest};
use azlite_testkit::TestCloud;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn token_issuance(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cloud = runtime.block_on(TestCloud::start()).unwrap();
    let info = cloud.info.clone();
    let form = TokenForm {
        grant_type: Some("client_credentials".into()),
        client_id: Some(info.client_id.clone()),
        client_secret: Some(info.client_secret.clone()),
        scope: Some("https://management.azure.com/.default".into()),
        ..TokenForm::default()
    };
    let request = TokenRequest {
        endpoint: Endpoint::V2,
        tenant: info.tenant_id.clone(),
        form: form.clone(),
    };
    let message = vec![b'a'; 500];
    let key = cloud.sts.keys().active();

    let mut group = c.benchmark_group("token_issuance");
    group
        .throughput(Throughput::Elements(1))
        .sample_size(30)
        .measurement_time(Duration::from_secs(5));
    group.bench_function("raw_rs256_sign", |b| {
        b.iter(|| key.sign_raw(&message).unwrap())
    });
    group.bench_function("sts_token", |b| {
        b.iter(|| runtime.block_on(cloud.sts.token(request.clone())).unwrap())
    });
    let body = [
        ("grant_type", "client_credentials"),
        ("client_id", info.client_id.as_str()),
        ("client_secret", info.client_secret.as_str()),
        ("scope", "https://management.azure.com/.default"),
    ];
    let url = cloud.url(&format!("/{}/oauth2/v2.0/token", info.tenant_id));
    group.bench_function("https_token", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let response = cloud.http.post(&url).form(&body).send().await.unwrap();
                assert!(response.status().is_success());
                response.bytes().await.unwrap()
            })
        })
    });
    group.finish();
    drop(cloud);
}

criterion_group!(benches, token_issuance);
criterion_main!(benches);
