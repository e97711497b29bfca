//! A bare HTTP/1.1 server (axum on hyper, two tokio workers) that answers every request with
//! the same bytes: the baseline the benchmarks measure azlite against, with the same load
//! generator and connections. `scripts/bench-imds.sh` uses it over plain HTTP;
//! `scripts/bench-keyvault.sh` over TLS (`--tls DIR`: a leaf certificate from a local CA in
//! DIR, made the way azlite makes its own: ECDSA P-256, rustls with aws-lc-rs, HTTP/1.1 on
//! hyper with keep-alive, so the baseline pays the same TLS cost).
//! Usage: `bare_http ADDR FILE [--tls DIR]`; prints the bound address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use axum::Router;
use axum::http::header;
use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_http ADDR FILE [--tls DIR]");
    };
    let tls_dir = match (args.next().as_deref(), args.next()) {
        (None, _) => None,
        (Some("--tls"), Some(dir)) => Some(PathBuf::from(dir)),
        _ => anyhow::bail!("usage: bare_http ADDR FILE [--tls DIR]"),
    };
    let addr: SocketAddr = addr.parse()?;
    anyhow::ensure!(
        addr.ip().is_loopback(),
        "the baseline listens on loopback only"
    );
    let body = bytes_of(&file)?;
    let app = Router::new().fallback(move || {
        let body = body.clone();
        async move {
            (
                [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
                body,
            )
        }
    });
    let listener = TcpListener::bind(addr).await?;
    println!("{}", listener.local_addr()?);
    match tls_dir {
        None => axum::serve(listener, app).await?,
        Some(dir) => serve_tls(listener, app, &dir).await?,
    }
    Ok(())
}

/// Accept, TLS handshake, HTTP/1.1 with keep-alive: what azlite's listener does, minus routing.
async fn serve_tls(
    listener: TcpListener,
    app: Router,
    dir: &std::path::Path,
) -> anyhow::Result<()> {
    let ca = azlite_server::LocalCa::load_or_create(dir)?;
    let names = ["*.vault.azure.net".to_owned(), "127.0.0.1".to_owned()];
    let acceptor = TlsAcceptor::from(Arc::clone(&ca.server_config(&names)?));
    loop {
        let (tcp, _) = listener.accept().await?;
        let _ = tcp.set_nodelay(true);
        let acceptor = acceptor.clone();
        let service = TowerToHyperService::new(app.clone());
        tokio::spawn(async move {
            let Ok(tls) = acceptor.accept(tcp).await else {
                return;
            };
            let _ = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(tls), service)
                .await;
        });
    }
}

fn bytes_of(file: &str) -> anyhow::Result<axum::body::Bytes> {
    Ok(axum::body::Bytes::from(std::fs::read(file)?))
}
