//! Azure Arc's HIMDS (reference §2.4): IMDS's token path and parameters, behind a
//! challenge. A request without `Authorization` gets 401 with
//! `WWW-Authenticate: Basic realm=<dir>/<random>.key`, and the endpoint writes a one-time
//! secret to that file; the client reads it and asks again with
//! `Authorization: Basic <file contents>` (the contents verbatim, not base64 of a pair).
//!
//! Clients insist on the directory (`/var/opt/azcmagent/tokens`), the `.key` extension and
//! at most 4096 bytes; the name holds no `=` (MSAL splits the challenge on it). Each secret
//! is good for one request within [`SECRET_LIFETIME`] seconds; its file is removed when it
//! is used or found expired.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;
use axum::routing::get;
use azlite_types::UnixTime;
use tokio::io::AsyncWriteExt;

use crate::error::ImdsError;
use crate::metadata::method_not_allowed;
use crate::request::{IDENTITY_SINCE, Params, TokenQuery, check_api_version, check_headers};
use crate::selection::Rules;
use crate::{Imds, wire};

/// How long a challenge's secret stays valid, in seconds.
pub(crate) const SECRET_LIFETIME: i64 = 60;

/// The secrets handed out and not yet used.
#[derive(Debug)]
pub(crate) struct ArcSecrets {
    /// Where the key files are written.
    directory: PathBuf,
    /// Where the client finds them (the challenge names this path).
    client_directory: PathBuf,
    issued: Mutex<HashMap<String, (PathBuf, UnixTime)>>,
}

impl ArcSecrets {
    /// Secrets written under `directory`, which the client sees as `client_directory`.
    pub(crate) fn new(directory: PathBuf, client_directory: PathBuf) -> Self {
        Self {
            directory,
            client_directory,
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// Writes a new secret to a new key file; returns the file's path as the client sees it.
    async fn challenge(&self, now: UnixTime) -> Result<PathBuf, ImdsError> {
        let internal = |e: std::io::Error| ImdsError::Internal(Box::new(e));
        tokio::fs::create_dir_all(&self.directory)
            .await
            .map_err(internal)?;
        let name = format!("{}.key", uuid::Uuid::new_v4().simple());
        let secret = format!(
            "{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        let path = self.directory.join(&name);
        let mut options = tokio::fs::OpenOptions::new();
        options.write(true).create_new(true);
        // The agent's files are readable by root and the `himds` group only.
        #[cfg(unix)]
        options.mode(0o640);
        let mut file = options.open(&path).await.map_err(internal)?;
        // A tokio file writes in the background: the secret must be on disk before the
        // challenge names the file.
        file.write_all(secret.as_bytes()).await.map_err(internal)?;
        file.flush().await.map_err(internal)?;
        let expired = {
            let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
            let expired: Vec<PathBuf> = issued
                .iter()
                .filter(|(_, (_, at))| now - at > SECRET_LIFETIME)
                .map(|(_, (path, _))| path.clone())
                .collect();
            issued.retain(|_, (_, at)| now - *at <= SECRET_LIFETIME);
            issued.insert(secret, (path.clone(), now));
            expired
        };
        for old in expired {
            let _ = tokio::fs::remove_file(old).await;
        }
        Ok(self.client_directory.join(name))
    }

    /// Takes `secret` if it was handed out and is still valid.
    async fn redeem(&self, secret: &str, now: UnixTime) -> bool {
        let taken = self
            .issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(secret);
        match taken {
            Some((path, at)) => {
                let _ = tokio::fs::remove_file(path).await;
                now - at <= SECRET_LIFETIME
            }
            None => false,
        }
    }
}

/// The HIMDS route.
pub(crate) fn routes() -> Router<Arc<Imds>> {
    Router::new().route(
        "/metadata/identity/oauth2/token",
        get(get_arc_identity_token).fallback(method_not_allowed),
    )
}

/// What a request without a valid secret gets.
enum Outcome {
    Token(wire::Served),
    Challenge(PathBuf),
}

/// `GET /metadata/identity/oauth2/token` on HIMDS.
async fn get_arc_identity_token(
    State(imds): State<Arc<Imds>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let result = async {
        let Some(secrets) = &imds.arc else {
            return Err(ImdsError::VmNotFound);
        };
        let _admitted = imds.admit()?;
        check_headers(&headers)?;
        let params = Params::from_query(query.as_deref());
        if let Some(name) = params.duplicate() {
            return Err(ImdsError::DuplicateParameter(name.to_owned()));
        }
        check_api_version(&params, IDENTITY_SINCE)?;
        let now = imds.clock.now();
        let Some(authorization) = headers.get(header::AUTHORIZATION) else {
            return Ok(Outcome::Challenge(secrets.challenge(now).await?));
        };
        let secret = authorization
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Basic "))
            .map(str::trim)
            .unwrap_or_default();
        if !secrets.redeem(secret, now).await {
            return Err(ImdsError::WrongArcSecret);
        }
        let query = TokenQuery::parse_imds(&params)?;
        Ok(Outcome::Token(imds.token(&query, Rules::Imds).await?))
    }
    .await;
    match result {
        Ok(Outcome::Token(served)) => wire::imds_token(&served),
        Ok(Outcome::Challenge(path)) => {
            let mut response = ImdsError::WrongArcSecret.to_imds_response();
            let challenge = format!("Basic realm={}", path.display());
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
            response
        }
        Err(e) => e.to_imds_response(),
    }
}
