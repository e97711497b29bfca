//! A bare HTTP/1.1 server (axum on hyper, two tokio workers) that answers every request with
//! the same bytes: the baseline `scripts/bench-imds.sh` measures IMDS against, with the same
//! load generator and connections. Usage: `bare_http ADDR FILE`; prints the bound address.

use std::net::SocketAddr;

use axum::Router;
use axum::http::header;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(addr), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_http ADDR FILE");
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
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("{}", listener.local_addr()?);
    axum::serve(listener, app).await?;
    Ok(())
}

fn bytes_of(file: &str) -> anyhow::Result<axum::body::Bytes> {
    Ok(axum::body::Bytes::from(std::fs::read(file)?))
}
