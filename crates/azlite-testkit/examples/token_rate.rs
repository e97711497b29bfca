//! Tokens the STS issues per second (the client-credentials grant as a function call, as
//! `benches/token_issuance.rs` measures it: tenant, client and secret lookups, resource
//! resolution, claims, RS256 signature) against raw RS256 signatures per second with the
//! STS's own key (the ceiling of any token service on this machine), alternately, in one
//! process: `scripts/bench` runs it.
//!
//! Usage: `token_rate [ROUNDS] [SECONDS]` (default 3 rounds of 3 s each side). Prints one
//! line per measurement, `sts <per second>` or `raw <per second>`. Everything is in-process
//! (the server it starts listens on 127.0.0.1 only and is not called).

use std::time::{Duration, Instant};

use azlite_sts::{Endpoint, TokenForm, TokenRequest};
use azlite_testkit::TestCloud;

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(Ok(3), |a| a.parse())?;
    let seconds: f64 = args.next().map_or(Ok(3.0), |a| a.parse())?;
    let window = Duration::from_secs_f64(seconds);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let cloud = runtime.block_on(TestCloud::start())?;
    let info = cloud.info.clone();
    let request = TokenRequest {
        endpoint: Endpoint::V2,
        tenant: info.tenant_id.clone(),
        form: TokenForm {
            grant_type: Some("client_credentials".into()),
            client_id: Some(info.client_id.clone()),
            client_secret: Some(info.client_secret.clone()),
            scope: Some("https://management.azure.com/.default".into()),
            ..TokenForm::default()
        },
    };
    let key = cloud.sts.keys().active();
    // A JWT signing input of about a token's size.
    let message = vec![b'a'; 500];

    // Warm-up: the first token fills the caches a steady client sees warm.
    runtime.block_on(cloud.sts.token(request.clone()))?;
    let rate = |mut op: Box<dyn FnMut() -> anyhow::Result<()> + '_>| -> anyhow::Result<f64> {
        let start = Instant::now();
        let mut done = 0u64;
        while start.elapsed() < window {
            op()?;
            done += 1;
        }
        Ok(done as f64 / start.elapsed().as_secs_f64())
    };
    for _ in 0..rounds {
        let sts = rate(Box::new(|| {
            runtime.block_on(cloud.sts.token(request.clone()))?;
            Ok(())
        }))?;
        println!("sts {sts:.1}");
        let raw = rate(Box::new(|| {
            key.sign_raw(&message)?;
            Ok(())
        }))?;
        println!("raw {raw:.1}");
    }
    drop(cloud);
    Ok(())
}
