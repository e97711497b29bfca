//! Container operations: create, properties and metadata, delete, lease; and which
//! anonymous reads a container's public access level allows.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::{ContainerRecord, StoreError};

use crate::conditions::{self, Current};
use crate::lease::{self, Target};
use crate::operation::Operation;
use crate::policy::{self, Authorized};
use crate::wire::{self, header, http_date, new_etag};
use crate::{Account, Blob, BlobError, Context, Retry, retrying};

/// Whether `name` is a valid container name: 3–63 lowercase letters, digits and single
/// hyphens, starting and ending with a letter or digit (`$root` and `$logs` included).
pub(crate) fn valid_name(name: &str) -> bool {
    if matches!(name, "$root" | "$logs" | "$web") {
        return true;
    }
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn invalid_name() -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidResourceName",
        "The specified resource name contains invalid characters.",
    )
}

/// The container, or 404 `ContainerNotFound`.
pub(crate) async fn load(context: &Context<'_>, name: &str) -> Result<ContainerRecord, BlobError> {
    context
        .blob
        .store
        .get_container(&context.account.id, name)
        .await?
        .ok_or_else(BlobError::container_not_found)
}

/// `ETag` and `Last-Modified` of an answer.
pub(crate) fn stamp(headers: &mut HeaderMap, etag: &str, last_modified: i64) {
    if let Ok(value) = HeaderValue::from_str(etag) {
        headers.insert(axum::http::header::ETAG, value);
    }
    if let Ok(value) = HeaderValue::from_str(&http_date(last_modified)) {
        headers.insert(axum::http::header::LAST_MODIFIED, value);
    }
}

/// `x-ms-meta-*` headers of an answer.
pub(crate) fn metadata_headers(headers: &mut HeaderMap, metadata: &[(String, String)]) {
    for (name, value) in metadata {
        if let (Ok(name), Ok(value)) = (
            axum::http::HeaderName::try_from(format!("x-ms-meta-{name}")),
            HeaderValue::from_str(value),
        ) {
            headers.append(name, value);
        }
    }
}

fn public_access(context: &Context<'_>) -> Result<Option<String>, BlobError> {
    match header(context.headers, "x-ms-blob-public-access") {
        None => Ok(None),
        Some(level @ ("container" | "blob")) => {
            if !context.account.allow_public_access {
                return Err(BlobError::new(
                    StatusCode::CONFLICT,
                    "PublicAccessNotPermitted",
                    "Public access is not permitted on this storage account.",
                ));
            }
            Ok(Some(level.to_owned()))
        }
        Some(other) => Err(BlobError::invalid_header("x-ms-blob-public-access", other)),
    }
}

pub(crate) async fn create_container(
    context: &Context<'_>,
    name: &str,
) -> Result<Response, BlobError> {
    if !valid_name(name) {
        return Err(invalid_name());
    }
    let metadata = wire::metadata(context.headers)?;
    let record = ContainerRecord {
        account: context.account.id.clone(),
        name: name.to_owned(),
        metadata,
        public_access: public_access(context)?,
        etag: new_etag(context.now),
        created_at: context.now,
        last_modified: context.now,
        lease: None,
        generation: 0,
    };
    match context.blob.store.create_container(&record).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(BlobError::new(
                StatusCode::CONFLICT,
                "ContainerAlreadyExists",
                "The specified container already exists.",
            ));
        }
        Err(other) => return Err(other.into()),
    }
    let mut response = StatusCode::CREATED.into_response();
    stamp(response.headers_mut(), &record.etag, record.last_modified);
    Ok(response)
}

pub(crate) async fn get_container_properties(
    context: &Context<'_>,
    name: &str,
) -> Result<Response, BlobError> {
    let container = load(context, name).await?;
    lease::check_write(
        context.headers,
        container.lease.as_ref(),
        context.now,
        Target::Container,
    )
    .or_else(|e| {
        if header(context.headers, "x-ms-lease-id").is_none() {
            Ok(())
        } else {
            Err(e)
        }
    })?;
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    stamp(headers, &container.etag, container.last_modified);
    metadata_headers(headers, &container.metadata);
    lease::headers(container.lease.as_ref(), context.now, headers);
    if let Some(level) = container
        .public_access
        .as_deref()
        .and_then(|l| HeaderValue::from_str(l).ok())
    {
        headers.insert("x-ms-blob-public-access", level);
    }
    headers.insert(
        "x-ms-has-immutability-policy",
        HeaderValue::from_static("false"),
    );
    headers.insert("x-ms-has-legal-hold", HeaderValue::from_static("false"));
    headers.insert(
        "x-ms-default-encryption-scope",
        HeaderValue::from_static("$account-encryption-key"),
    );
    headers.insert(
        "x-ms-deny-encryption-scope-override",
        HeaderValue::from_static("false"),
    );
    Ok(response)
}

pub(crate) async fn delete_container(
    context: &Context<'_>,
    name: &str,
) -> Result<Response, BlobError> {
    retrying(|| async {
        let container = load(context, name).await?;
        lease::check_write(
            context.headers,
            container.lease.as_ref(),
            context.now,
            Target::Container,
        )?;
        check_dates(context, &container)?;
        let freed = context
            .blob
            .store
            .delete_container(&context.account.id, name, container.generation)
            .await?;
        context.blob.release(freed);
        Ok::<_, Retry>(StatusCode::ACCEPTED.into_response())
    })
    .await
}

/// Containers honour only the date conditions (and `If-Match`/`If-None-Match` are
/// rejected by Azure; azlite ignores nothing it was given: it checks them too).
fn check_dates(context: &Context<'_>, container: &ContainerRecord) -> Result<(), BlobError> {
    conditions::check_write(
        context.headers,
        Some(Current {
            etag: &container.etag,
            last_modified: container.last_modified,
        }),
        None,
    )
}

pub(crate) async fn set_container_metadata(
    context: &Context<'_>,
    name: &str,
) -> Result<Response, BlobError> {
    let metadata = wire::metadata(context.headers)?;
    retrying(|| async {
        let mut container = load(context, name).await?;
        lease::check_write(
            context.headers,
            container.lease.as_ref(),
            context.now,
            Target::Container,
        )
        .or_else(|e| {
            if header(context.headers, "x-ms-lease-id").is_none() {
                Ok(())
            } else {
                Err(e)
            }
        })?;
        check_dates(context, &container)?;
        let generation = container.generation;
        container.metadata = metadata.clone();
        container.etag = new_etag(context.now);
        container.last_modified = context.now;
        context
            .blob
            .store
            .update_container(&container, generation)
            .await?;
        let mut response = StatusCode::OK.into_response();
        stamp(
            response.headers_mut(),
            &container.etag,
            container.last_modified,
        );
        Ok::<_, Retry>(response)
    })
    .await
}

pub(crate) async fn lease_container(
    context: &Context<'_>,
    name: &str,
) -> Result<Response, BlobError> {
    retrying(|| async {
        let mut container = load(context, name).await?;
        check_dates(context, &container)?;
        let outcome = lease::act(context.headers, container.lease.as_ref(), context.now)?;
        let generation = container.generation;
        container.lease = outcome.lease;
        context
            .blob
            .store
            .update_container(&container, generation)
            .await?;
        let mut response = outcome.response;
        stamp(
            response.headers_mut(),
            &container.etag,
            container.last_modified,
        );
        Ok::<_, Retry>(response)
    })
    .await
}

/// Anonymous access: granted only for reads a public container allows (`blob`: blob
/// reads; `container`: also listing its blobs and reading its properties), on an account
/// that allows public access.
pub(crate) async fn anonymous_read(
    blob: &Blob,
    account: &Account,
    operation: &Operation,
) -> Result<Option<Authorized>, BlobError> {
    use Operation as O;
    if !account.allow_public_access {
        return Ok(None);
    }
    let (container, needs_container_level) = match operation {
        O::GetBlob(c, _)
        | O::GetBlobProperties(c, _)
        | O::GetBlobMetadata(c, _)
        | O::GetBlockList(c, _) => (c, false),
        O::ListBlobs(c) | O::GetContainerProperties(c) | O::GetContainerMetadata(c) => (c, true),
        _ => return Ok(None),
    };
    let Some(record) = blob.store.get_container(&account.id, container).await? else {
        return Ok(None);
    };
    let allowed = match record.public_access.as_deref() {
        Some("container") => true,
        Some("blob") => !needs_container_level,
        _ => false,
    };
    Ok(allowed.then(policy::granted))
}
