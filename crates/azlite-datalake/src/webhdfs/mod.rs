//! WebHDFS, Gen1's wire (reference §4): one request → one [`Operation`] → one call of the
//! tree → the answer in [`wire`]'s shapes. Handlers are the arms of [`dispatch`]'s match.
//!
//! The curl flow (§4.5): CREATE without `write=true` reads (and drops) the body, so that
//! `Expect: 100-continue` gets its `100 Continue` as Gen1 sends it, then answers 307 to the
//! same URL with `write=true`; OPEN without `read=true` answers 307 with `read=true`.

pub mod operation;
pub mod wire;

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_posix_acl::Caller;
use http_body_util::BodyExt;
use serde_json::Value;

use crate::error::DataLakeError;
use crate::tree::FileSystem;
use crate::tree::access::AclChange;
use crate::{DataLake, DataLakeHost, account, auth, path};
pub use operation::Operation;
use operation::Params;

/// The largest MSCONCAT body read.
const MAX_CONCAT_BODY: usize = 1024 * 1024;

/// The listing size when the client gives none.
const DEFAULT_LIST_SIZE: usize = 4000;

fn json(status: StatusCode, value: &Value) -> Response {
    let mut response = (status, value.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

fn empty(status: StatusCode) -> Response {
    let mut response = status.into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from_static("0"));
    response
}

/// The URL the client asked for: `https://` + its `Host` + path and query.
fn request_url(parts: &Parts) -> String {
    let host = parts
        .headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| parts.uri.authority().map(|a| a.to_string()))
        .unwrap_or_default();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    format!("https://{host}{}{query}", parts.uri.path())
}

/// An empty answer with `Location` (CREATE's 201, and the 307s).
fn located(status: StatusCode, location: &str) -> Response {
    let mut response = empty(status);
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(location) {
        headers.insert(header::LOCATION, value);
    }
    // Gen1 sends this misspelt twin of Content-Length too (the tutorial shows it).
    headers.insert("contentlength", HeaderValue::from_static("0"));
    response
}

fn redirect(parts: &Parts, flag: &str) -> Response {
    let url = request_url(parts);
    let separator = if url.contains('?') { '&' } else { '?' };
    located(
        StatusCode::TEMPORARY_REDIRECT,
        &format!("{url}{separator}{flag}=true"),
    )
}

/// Reads the body to its end and drops it.
async fn drain(mut body: Body) {
    while let Some(Ok(_)) = body.frame().await {}
}

/// The sources of an MSCONCAT body: `{"sources":[…]}` (or `sources=a,b`, as old clients
/// sent it).
async fn concat_sources(body: Body) -> Result<Vec<String>, DataLakeError> {
    let bytes = axum::body::to_bytes(body, MAX_CONCAT_BODY)
        .await
        .map_err(|_| DataLakeError::illegal_argument("The MSCONCAT body is too large."))?;
    let invalid = || DataLakeError::illegal_argument("The MSCONCAT body names no sources.");
    let list: Vec<String> = match serde_json::from_slice::<Value>(&bytes) {
        Ok(value) => value
            .get("sources")
            .and_then(Value::as_array)
            .ok_or_else(invalid)?
            .iter()
            .map(|s| s.as_str().map(str::to_owned).ok_or_else(invalid))
            .collect::<Result<_, _>>()?,
        Err(_) => std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| t.trim().strip_prefix("sources="))
            .ok_or_else(invalid)?
            .split(',')
            .map(str::to_owned)
            .collect(),
    };
    list.iter()
        .map(|s| {
            path::percent_decode(s)
                .and_then(|d| path::normalize(&d))
                .map_err(|_| invalid())
        })
        .collect()
}

/// Serves one request.
pub(crate) async fn dispatch(
    service: &DataLake,
    parts: &Parts,
    body: Body,
) -> Result<Response, DataLakeError> {
    let Some(DataLakeHost(name)) = parts.extensions.get::<DataLakeHost>() else {
        return Err(DataLakeError::no_account(""));
    };
    let account = account::find(service.store.as_ref(), name).await?;
    let token = auth::bearer(&parts.headers).ok_or_else(|| {
        DataLakeError::unauthenticated(
            "The request has no bearer token in its Authorization header.",
        )
    })?;
    let keys = service.keys.key_ring();
    let now = service.clock.now();
    let object_id = auth::verify(token, &keys, &service.signatures, account.tenant_id, now)?;

    let path = path::from_request(parts.uri.path())
        .ok_or_else(|| DataLakeError::illegal_argument("The path is not under /webhdfs/v1/."))?
        .map_err(|e| DataLakeError::illegal_argument(e.to_string()))?;
    let params = Params::parse(parts.uri.query());
    let operation = operation::parse(&parts.method, &params)?;
    match operation {
        Operation::Create { write: false, .. } => {
            drain(body).await;
            return Ok(redirect(parts, "write"));
        }
        Operation::Open { read: false, .. } => return Ok(redirect(parts, "read")),
        _ => {}
    }

    let caller_id = object_id.to_string().to_ascii_lowercase();
    let superuser = auth::is_superuser(service.rbac.as_ref(), object_id, &account.id);
    let fs = FileSystem {
        store: service.store.as_ref(),
        extents: &service.extents,
        account: &account.id,
        caller: Caller {
            id: &caller_id,
            groups: &[],
            superuser,
        },
        now_ms: now.saturating_mul(1000),
    };
    let name = operation.name();
    let failed = |e| DataLakeError::from_tree(name, e);
    let ok = |value: Value| Ok(json(StatusCode::OK, &value));
    match operation {
        Operation::ListStatus {
            list_size,
            list_after,
        } => {
            let size = list_size.unwrap_or(DEFAULT_LIST_SIZE);
            let listing = fs
                .list(&path, list_after.as_deref(), size)
                .await
                .map_err(failed)?;
            ok(wire::file_statuses(&listing))
        }
        Operation::GetFileStatus => ok(wire::file_status(&fs.status(&path).await.map_err(failed)?)),
        Operation::GetContentSummary => ok(wire::content_summary(
            &fs.content_summary(&path).await.map_err(failed)?,
        )),
        Operation::GetAclStatus => ok(wire::acl_status(
            &fs.acl_status(&path).await.map_err(failed)?,
        )),
        Operation::CheckAccess { fsaction } => {
            fs.check_access(&path, fsaction).await.map_err(failed)?;
            Ok(empty(StatusCode::OK))
        }
        Operation::Open { offset, length, .. } => {
            let (length, stream) = fs.open(&path, offset, length).await.map_err(failed)?;
            let mut response = Response::new(stream);
            let headers = response.headers_mut();
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            headers.insert(header::CONTENT_LENGTH, HeaderValue::from(length));
            Ok(response)
        }
        Operation::Mkdirs { permission } => {
            fs.mkdirs(&path, permission).await.map_err(failed)?;
            ok(wire::boolean(true))
        }
        Operation::Create {
            overwrite,
            permission,
            ..
        } => {
            fs.create(&path, overwrite, permission, body)
                .await
                .map_err(failed)?;
            Ok(located(StatusCode::CREATED, &request_url(parts)))
        }
        Operation::Append { offset } => {
            fs.append(&path, offset, body).await.map_err(failed)?;
            Ok(empty(StatusCode::OK))
        }
        Operation::Delete { recursive } => ok(wire::boolean(
            fs.delete(&path, recursive).await.map_err(failed)?,
        )),
        Operation::Rename { destination } => ok(wire::boolean(
            fs.rename(&path, &destination).await.map_err(failed)?,
        )),
        Operation::Concat { sources } => {
            fs.concat(&path, &sources, false).await.map_err(failed)?;
            Ok(empty(StatusCode::OK))
        }
        Operation::MsConcat {
            delete_source_directory,
        } => {
            let sources = concat_sources(body).await?;
            fs.concat(&path, &sources, delete_source_directory)
                .await
                .map_err(failed)?;
            Ok(empty(StatusCode::OK))
        }
        Operation::SetOwner { owner, group } => {
            fs.set_owner(&path, owner.as_deref(), group.as_deref())
                .await
                .map_err(failed)?;
            Ok(empty(StatusCode::OK))
        }
        Operation::SetPermission { permission } => {
            change(&fs, &path, AclChange::Permission(permission), name).await
        }
        Operation::SetAcl(spec) => change(&fs, &path, AclChange::Set(spec), name).await,
        Operation::ModifyAclEntries(spec) => {
            change(&fs, &path, AclChange::Modify(spec), name).await
        }
        Operation::RemoveAclEntries(keys) => {
            change(&fs, &path, AclChange::RemoveEntries(keys), name).await
        }
        Operation::RemoveDefaultAcl => change(&fs, &path, AclChange::RemoveDefault, name).await,
        Operation::RemoveAcl => change(&fs, &path, AclChange::RemoveAll, name).await,
    }
}

async fn change(
    fs: &FileSystem<'_>,
    path: &str,
    change: AclChange,
    name: &str,
) -> Result<Response, DataLakeError> {
    fs.change_acl(path, change)
        .await
        .map_err(|e| DataLakeError::from_tree(name, e))?;
    Ok(empty(StatusCode::OK))
}
