//! The sandbox's listeners: each connection a program makes to IMDS, the extension endpoint,
//! Arc or port 443 is carried to the azlite server over its Unix socket, behind one header
//! line that names the VM and the endpoint (`azlite_server::sandbox`).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use azlite_server::sandbox::{Endpoint, Header, HelloReply, MAGIC};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream, UnixStream};

use crate::SandboxError;

/// Asks the server, before anything else, whether it is there and which VM `vm` names, and
/// opens the sandbox's session: it lasts while the returned connection is open.
pub(crate) fn hello(
    socket: &Path,
    vm: &str,
) -> Result<(HelloReply, std::os::unix::net::UnixStream), SandboxError> {
    use std::io::{BufRead, BufReader, Write};

    let not_running = |source: std::io::Error| SandboxError::NotRunning {
        socket: socket.to_owned(),
        source,
    };
    let mut stream = std::os::unix::net::UnixStream::connect(socket).map_err(not_running)?;
    let timeout = Some(std::time::Duration::from_secs(10));
    stream.set_read_timeout(timeout).map_err(not_running)?;
    let line = Header::Hello { vm: vm.to_owned() }.encode();
    stream.write_all(line.as_bytes()).map_err(not_running)?;
    let mut answer = String::new();
    // One line, read a byte at a time: nothing after it is taken from the stream.
    let mut reader = BufReader::with_capacity(1, &stream);
    reader.read_line(&mut answer).map_err(not_running)?;
    let answer = answer.trim_end();
    if let Some(json) = answer.strip_prefix("ok ") {
        let reply = serde_json::from_str(json)
            .map_err(|e| SandboxError::Protocol(format!("{MAGIC} hello: {e}")))?;
        stream.set_read_timeout(None).map_err(not_running)?;
        return Ok((reply, stream));
    }
    match answer.strip_prefix("error ") {
        Some(message) => Err(SandboxError::NoVm(message.to_owned())),
        None => Err(SandboxError::Protocol(format!(
            "unexpected answer to hello: {answer:?}"
        ))),
    }
}

/// Where a forwarder sends what it accepts.
pub(crate) struct Upstream {
    /// The server's sandbox socket.
    pub(crate) socket: PathBuf,
    /// The session's secret (which names the VM to the server). Only this process holds it.
    pub(crate) session: String,
}

/// Accepts on `listener` until the task is dropped, carrying each connection to `endpoint`.
pub(crate) async fn serve(listener: TcpListener, endpoint: Endpoint, upstream: Arc<Upstream>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            continue;
        };
        let upstream = upstream.clone();
        tokio::spawn(async move {
            let result = carry(client, endpoint, &upstream).await;
            if let Err(e) = result
                && std::env::var_os("AZLITE_RUN_DEBUG").is_some()
            {
                eprintln!("azlite run: {} connection: {e}", endpoint.as_str());
            }
        });
    }
}

async fn carry(
    mut client: TcpStream,
    endpoint: Endpoint,
    upstream: &Upstream,
) -> std::io::Result<()> {
    let _ = client.set_nodelay(true);
    let mut server = UnixStream::connect(&upstream.socket).await?;
    let header = Header::Connect {
        endpoint,
        session: upstream.session.clone(),
    };
    server.write_all(header.encode().as_bytes()).await?;
    tokio::io::copy_bidirectional(&mut client, &mut server).await?;
    Ok(())
}
