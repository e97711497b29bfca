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
//!
//! The key files are bounded: each holds [`SECRET_LENGTH`] bytes, at most
//! [`MAX_OUTSTANDING`] are on disk at once (a new challenge beyond that removes the oldest
//! file and forgets its secret), files left by an earlier run are removed at start, and
//! those still outstanding when the endpoint goes away are removed with it.

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

/// The most key files on disk at once. A client reads its file right after the challenge,
/// so only a flood of challenges reaches this; the flood then costs its own oldest secrets,
/// never disk space.
pub(crate) const MAX_OUTSTANDING: usize = 64;

/// The length of a secret (and of its key file): two simple GUIDs, far under the 4096 bytes
/// clients accept.
pub(crate) const SECRET_LENGTH: usize = 64;

/// Whether `name` is the name of a key file this endpoint writes: a simple GUID and `.key`.
fn is_key_file_name(name: &str) -> bool {
    name.strip_suffix(".key").is_some_and(|stem| {
        stem.len() == 32
            && stem
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

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
    /// Secrets written under `directory`, which the client sees as `client_directory`. Key
    /// files an earlier run left there are removed (their secrets died with it).
    pub(crate) fn new(directory: PathBuf, client_directory: PathBuf) -> Self {
        if let Ok(entries) = std::fs::read_dir(&directory) {
            for entry in entries.flatten() {
                let stale = entry.file_name().to_str().is_some_and(is_key_file_name)
                    && entry.file_type().is_ok_and(|t| t.is_file());
                if stale {
                    let _ = std::fs::remove_file(entry.path());
                }
            }
        }
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
        debug_assert_eq!(secret.len(), SECRET_LENGTH);
        let removed = {
            let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
            let mut removed = take_expired(&mut issued, now);
            while issued.len() >= MAX_OUTSTANDING {
                let oldest = issued
                    .iter()
                    .min_by_key(|(_, (_, at))| *at)
                    .map(|(secret, _)| secret.clone());
                let Some(entry) = oldest.and_then(|secret| issued.remove(&secret)) else {
                    break;
                };
                removed.push(entry.0);
            }
            issued.insert(secret, (path.clone(), now));
            removed
        };
        for old in removed {
            let _ = tokio::fs::remove_file(old).await;
        }
        Ok(self.client_directory.join(name))
    }

    /// How many secrets are outstanding (their files on disk).
    #[cfg(test)]
    pub(crate) fn outstanding(&self) -> usize {
        self.issued
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .len()
    }

    /// Takes `secret` if it was handed out and is still valid.
    async fn redeem(&self, secret: &str, now: UnixTime) -> bool {
        let (taken, expired) = {
            let mut issued = self.issued.lock().unwrap_or_else(PoisonError::into_inner);
            let taken = issued.remove(secret);
            (taken, take_expired(&mut issued, now))
        };
        for old in expired {
            let _ = tokio::fs::remove_file(old).await;
        }
        match taken {
            Some((path, at)) => {
                let _ = tokio::fs::remove_file(path).await;
                now - at <= SECRET_LIFETIME
            }
            None => false,
        }
    }
}

/// Forgets the expired secrets of `issued`; their files, to remove.
fn take_expired(issued: &mut HashMap<String, (PathBuf, UnixTime)>, now: UnixTime) -> Vec<PathBuf> {
    let mut expired = Vec::new();
    issued.retain(|_, (path, at)| {
        let alive = now - *at <= SECRET_LIFETIME;
        if !alive {
            expired.push(path.clone());
        }
        alive
    });
    expired
}

impl Drop for ArcSecrets {
    /// The endpoint is going away: no secret can be redeemed any more, so no file stays.
    fn drop(&mut self) {
        let issued = self
            .issued
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner);
        for (path, _) in issued.values() {
            let _ = std::fs::remove_file(path);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn key_files(directory: &std::path::Path) -> usize {
        std::fs::read_dir(directory)
            .map(|entries| entries.count())
            .unwrap_or(0)
    }

    #[tokio::test]
    async fn key_files_are_bounded_swept_and_removed_with_the_endpoint() {
        let dir = tempfile::tempdir().unwrap();
        let directory = dir.path().join("tokens");
        std::fs::create_dir_all(&directory).unwrap();
        // An earlier run's file goes at start; a file that is not a key file stays.
        let stale = directory.join(format!("{}.key", uuid::Uuid::new_v4().simple()));
        std::fs::write(&stale, "old").unwrap();
        std::fs::write(directory.join("notes.txt"), "mine").unwrap();
        let secrets = ArcSecrets::new(directory.clone(), directory.clone());
        assert!(!stale.exists());
        assert_eq!(key_files(&directory), 1);

        let mut first = None;
        for i in 0..(MAX_OUTSTANDING + 20) {
            let path = secrets.challenge(1_000 + i as i64 / 10).await.unwrap();
            let secret = std::fs::read_to_string(&path).unwrap();
            assert_eq!(secret.len(), SECRET_LENGTH);
            first.get_or_insert(secret);
        }
        assert_eq!(secrets.outstanding(), MAX_OUTSTANDING);
        assert_eq!(key_files(&directory), MAX_OUTSTANDING + 1);
        // The oldest secrets were forgotten with their files.
        assert!(!secrets.redeem(&first.unwrap(), 1_010).await);

        // Expired secrets go with their files at the next challenge or redemption.
        assert!(!secrets.redeem("nothing", 1_010 + SECRET_LIFETIME * 2).await);
        assert_eq!(secrets.outstanding(), 0);
        assert_eq!(key_files(&directory), 1);

        secrets.challenge(5_000).await.unwrap();
        secrets.challenge(5_000).await.unwrap();
        assert_eq!(key_files(&directory), 3);
        drop(secrets);
        assert_eq!(
            key_files(&directory),
            1,
            "only the file azlite did not write is left"
        );
    }
}
