//! The request pipeline (account, version, operation, credential, authorization, then the
//! operation) and the service-level operations: service properties, account information,
//! user delegation key.

use axum::body::Body;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::StoreError;

use crate::auth::{self, Credential, Verifier};
use crate::operation::{self, Operation};
use crate::policy::{self, Authorized};
use crate::request::{BlobHost, Query, split_path};
use crate::wire::{header, iso8601, xml_escape};
use crate::{Account, Blob, BlobError, Context, append, blobs, blocks, containers, listing};

/// Versions are dates; anything else is not a version.
fn valid_version(version: &str) -> bool {
    let bytes = version.as_bytes();
    bytes.len() == 10
        && bytes.iter().enumerate().all(|(i, b)| {
            if i == 4 || i == 7 {
                *b == b'-'
            } else {
                b.is_ascii_digit()
            }
        })
}

pub(crate) async fn dispatch(
    blob: &Blob,
    parts: &Parts,
    body: Body,
    version: &str,
) -> Result<Response, BlobError> {
    let Some(host) = parts.extensions.get::<BlobHost>() else {
        return Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "InvalidUri",
            "The request URI is invalid.",
        ));
    };
    if let Some(only) = parts.extensions.get::<crate::development::OnlyAccount>() {
        only.check(host)?;
    }
    let found = match parts.extensions.get::<crate::FoundAccount>() {
        Some(found) if found.0.name == host.account => Some(std::sync::Arc::clone(&found.0)),
        _ => blob.find_account(&host.account).await?,
    };
    let Some(account) = found else {
        return Err(BlobError::account_not_found());
    };
    let account: &Account = &account;
    if header(&parts.headers, "x-ms-version").is_some_and(|v| !valid_version(v)) {
        return Err(BlobError::invalid_header("x-ms-version", version));
    }
    let query = Query::parse(parts.uri.query());
    let (container, name) = split_path(parts.uri.path(), host.path_style);
    let checked = async {
        let operation = operation::parse(&parts.method, container, name, &query, &parts.headers)?;
        let credential = Credential::of(&parts.headers, &query)?;
        let (authorized, caller) =
            authenticate(blob, account, host, parts, &credential, &operation).await?;
        Ok::<_, BlobError>((operation, authorized, caller))
    }
    .await;
    let (operation, authorized, caller) = match checked {
        Ok(checked) => checked,
        Err(error) => {
            crate::drain(parts, body).await;
            return Err(error);
        }
    };
    let context = Context {
        blob,
        account,
        host,
        headers: &parts.headers,
        query: &query,
        version,
        now: blob.now_ms(),
        caller,
        _authorized: authorized,
    };
    run(&context, &operation, parts, body).await
}

async fn authenticate(
    blob: &Blob,
    account: &Account,
    host: &BlobHost,
    parts: &Parts,
    credential: &Credential,
    operation: &Operation,
) -> Result<(Authorized, Option<auth::Caller>), BlobError> {
    let challenge = auth::challenge(&blob.config.authority, account.tenant);
    let with_challenge = |mut e: BlobError| {
        e.challenge = Some(challenge.clone());
        e
    };
    match credential {
        Credential::Bearer(token) if query_has(parts, "sig") && query_has(parts, "sduoid") => {
            // A user delegation SAS for a delegated user: the SAS authorizes, the token
            // proves who uses it.
            let user = verify_bearer(blob, account, host, parts, token, &with_challenge)?;
            if matches!(operation, Operation::GetUserDelegationKey) {
                return Err(policy::permission_mismatch());
            }
            crate::signed::verify(blob, account, host, parts, operation, Some(&user)).await?;
            Ok((policy::granted(), None))
        }
        Credential::Bearer(token) => {
            let caller = verify_bearer(blob, account, host, parts, token, &with_challenge)?;
            let scope = policy::scope(&account.id, operation);
            let authorized = policy::authorize(
                blob.rbac.as_ref(),
                &caller,
                &scope,
                &policy::permission(operation),
            )?;
            Ok((authorized, Some(caller)))
        }
        Credential::Anonymous => {
            if let Some(granted) = containers::anonymous_read(blob, account, operation).await? {
                return Ok((granted, None));
            }
            Err(with_challenge(auth::no_authentication()))
        }
        signed => {
            if matches!(operation, Operation::GetUserDelegationKey) {
                return Err(policy::permission_mismatch());
            }
            match &blob.signed {
                Some(verifier) => verifier.verify(account, parts, signed, operation)?,
                None => crate::signed::verify(blob, account, host, parts, operation, None).await?,
            }
            Ok((policy::granted(), None))
        }
    }
}

/// Whether the request's query has `name`.
fn query_has(parts: &Parts, name: &str) -> bool {
    Query::parse(parts.uri.query()).has(name)
}

/// Verifies a Bearer token for `account`: TLS only, `x-ms-version` 2017-11-09 or later, then
/// the token itself (signature, audience, tenant, times), whose failures `challenged` marks
/// with the Bearer challenge.
fn verify_bearer(
    blob: &Blob,
    account: &Account,
    host: &BlobHost,
    parts: &Parts,
    token: &str,
    challenged: &dyn Fn(BlobError) -> BlobError,
) -> Result<auth::Caller, BlobError> {
    if !host.secure {
        return Err(auth::authentication_failed(
            "Authentication scheme Bearer is not allowed with HTTP.",
        ));
    }
    if header(&parts.headers, "x-ms-version").is_none_or(|v| v < auth::BEARER_MIN_VERSION) {
        return Err(auth::authentication_failed(
            "Authentication scheme Bearer is not supported in this version.",
        ));
    }
    let keys = blob.keys.key_ring();
    let account_url = format!("https://{}.{}", account.name, blob.config.blob_suffix);
    let verifier = Verifier {
        keys: &keys,
        signatures: &blob.signatures,
        account_url: &account_url,
        tenant: account.tenant,
        now: blob.clock.now(),
    };
    verifier.verify(token).map_err(challenged)
}

async fn run(
    context: &Context<'_>,
    operation: &Operation,
    parts: &Parts,
    body: Body,
) -> Result<Response, BlobError> {
    use Operation as O;
    match operation {
        O::ListContainers => listing::list_containers(context).await,
        O::GetServiceProperties => get_service_properties(context).await,
        O::SetServiceProperties => set_service_properties(context, body).await,
        O::GetAccountInformation => Ok(get_account_information(context.account)),
        O::GetUserDelegationKey => get_user_delegation_key(context, body).await,
        O::CreateContainer(c) => containers::create_container(context, c).await,
        O::GetContainerProperties(c) | O::GetContainerMetadata(c) => {
            containers::get_container_properties(context, c).await
        }
        O::DeleteContainer(c) => containers::delete_container(context, c).await,
        O::SetContainerMetadata(c) => containers::set_container_metadata(context, c).await,
        O::LeaseContainer(c) => containers::lease_container(context, c).await,
        O::ListBlobs(c) => listing::list_blobs(context, c).await,
        O::PutBlob(c, b) => blobs::put_blob(context, c, b, body).await,
        O::CreateAppendBlob(c, b) => append::create_append_blob(context, c, b).await,
        O::CopyBlob(c, b) => blobs::copy_blob(context, c, b).await,
        O::PutBlock(c, b) => blocks::put_block(context, c, b, body).await,
        O::PutBlockList(c, b) => blocks::put_block_list(context, c, b, body).await,
        O::GetBlockList(c, b) => blocks::get_block_list(context, c, b).await,
        O::AppendBlock(c, b) => append::append_block(context, c, b, body).await,
        O::GetBlob(c, b) => blobs::get_blob(context, c, b, false).await,
        O::GetBlobProperties(c, b) | O::GetBlobMetadata(c, b) => {
            blobs::get_blob(
                context,
                c,
                b,
                parts.method == axum::http::Method::HEAD
                    || matches!(operation, O::GetBlobMetadata(..)),
            )
            .await
        }
        O::SetBlobProperties(c, b) => blobs::set_blob_properties(context, c, b, false).await,
        O::SetBlobMetadata(c, b) => blobs::set_blob_properties(context, c, b, true).await,
        O::DeleteBlob(c, b) => blobs::delete_blob(context, c, b).await,
        O::LeaseBlob(c, b) => blobs::lease_blob(context, c, b).await,
    }
}

const DEFAULT_SERVICE_PROPERTIES: &str = "<?xml version=\"1.0\" encoding=\"utf-8\"?><StorageServiceProperties>\
<Logging><Version>1.0</Version><Read>false</Read><Write>false</Write><Delete>false</Delete>\
<RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></Logging>\
<HourMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></HourMetrics>\
<MinuteMetrics><Version>1.0</Version><Enabled>false</Enabled><RetentionPolicy><Enabled>false</Enabled></RetentionPolicy></MinuteMetrics>\
<Cors /><DeleteRetentionPolicy><Enabled>false</Enabled></DeleteRetentionPolicy>\
<StaticWebsite><Enabled>false</Enabled></StaticWebsite></StorageServiceProperties>";

async fn get_service_properties(context: &Context<'_>) -> Result<Response, BlobError> {
    let stored = context
        .blob
        .store
        .get_service_properties(&context.account.id)
        .await?;
    let body = stored.unwrap_or_else(|| DEFAULT_SERVICE_PROPERTIES.to_owned());
    Ok(xml_response(StatusCode::OK, body))
}

/// The largest service properties document taken.
const MAX_PROPERTIES_BYTES: usize = 64 * 1024;

async fn set_service_properties(context: &Context<'_>, body: Body) -> Result<Response, BlobError> {
    let bytes = axum::body::to_bytes(body, MAX_PROPERTIES_BYTES)
        .await
        .map_err(|_| BlobError::invalid_xml())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| BlobError::invalid_xml())?;
    let trimmed = text.trim_start_matches('\u{feff}').trim();
    let document = trimmed.strip_prefix("<?xml").map_or(trimmed, |rest| {
        rest.split_once("?>").map_or("", |(_, r)| r.trim())
    });
    if !document.starts_with("<StorageServiceProperties")
        || !document.ends_with("</StorageServiceProperties>")
    {
        return Err(BlobError::invalid_xml());
    }
    // Kept as sent and answered back by Get Blob Service Properties; azlite applies none of
    // it (no logging, metrics, CORS or retention): docs/protocols/blob.md.
    let stored = format!("<?xml version=\"1.0\" encoding=\"utf-8\"?>{document}");
    match context
        .blob
        .store
        .set_service_properties(&context.account.id, &stored)
        .await
    {
        Ok(()) => {}
        // Deleted since this request found it.
        Err(StoreError::Changed(_)) => return Err(BlobError::account_not_found()),
        Err(error) => return Err(error.into()),
    }
    Ok(StatusCode::ACCEPTED.into_response())
}

/// Get Account Information: the account's SKU, kind and hierarchical namespace, as ARM
/// stores them.
fn get_account_information(account: &Account) -> Response {
    let mut response = StatusCode::OK.into_response();
    let headers = response.headers_mut();
    for (name, value) in [
        ("x-ms-sku-name", account.sku_name.as_str()),
        ("x-ms-account-kind", account.kind.as_str()),
        (
            "x-ms-is-hns-enabled",
            if account.hierarchical_namespace {
                "true"
            } else {
                "false"
            },
        ),
    ] {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    response
}

/// The largest `KeyInfo` document taken.
const MAX_KEY_INFO_BYTES: usize = 4096;

/// Get User Delegation Key: the key's identity, validity and signed fields, and its value
/// derived from the user-delegation secret (`azlite-storage-auth`'s `udk`), so the SAS
/// verifier derives the same key from a SAS's signed fields and never stores one.
async fn get_user_delegation_key(context: &Context<'_>, body: Body) -> Result<Response, BlobError> {
    let bytes = axum::body::to_bytes(body, MAX_KEY_INFO_BYTES)
        .await
        .map_err(|_| BlobError::invalid_xml())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| BlobError::invalid_xml())?;
    let element = |name: &str| {
        let open = format!("<{name}>");
        let close = format!("</{name}>");
        let start = text.find(&open)? + open.len();
        let end = text[start..].find(&close)? + start;
        Some(text[start..end].trim().to_owned())
    };
    let expiry = element("Expiry").ok_or_else(BlobError::invalid_xml)?;
    let start = element("Start").unwrap_or_else(|| iso8601(context.now / 1000));
    let parse = |t: &str| {
        time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|_| BlobError::invalid_xml())
    };
    let (start_at, expiry_at) = (parse(&start)?, parse(&expiry)?);
    let now = context.now / 1000;
    if expiry_at <= now || expiry_at <= start_at || expiry_at > now + 7 * 24 * 3600 {
        return Err(BlobError::new(
            StatusCode::BAD_REQUEST,
            "InvalidInput",
            "One of the request inputs is not valid.",
        ));
    }
    let Some(caller) = context.caller.map(|c| c.object_id) else {
        return Err(policy::permission_mismatch());
    };
    let (oid, tid) = (caller.to_string(), context.account.tenant.to_string());
    let (signed_start, signed_expiry) = (iso8601(start_at), iso8601(expiry_at));
    let Some(value) = crate::signed::user_delegation_key_value(
        context.blob.udk.as_ref(),
        &azlite_storage_auth::udk::UserDelegationKeyFields {
            account: &context.account.name,
            object_id: &oid,
            tenant_id: &tid,
            start: &signed_start,
            expiry: &signed_expiry,
            service: "b",
            version: context.version,
            delegated_user_tenant_id: None,
        },
    ) else {
        tracing::error!("getUserDelegationKey without a user delegation secret");
        return Err(BlobError::internal());
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?><UserDelegationKey><SignedOid>{}</SignedOid><SignedTid>{}</SignedTid>\
<SignedStart>{}</SignedStart><SignedExpiry>{}</SignedExpiry><SignedService>b</SignedService><SignedVersion>{}</SignedVersion>\
<Value>{}</Value></UserDelegationKey>",
        oid,
        tid,
        xml_escape(&signed_start),
        xml_escape(&signed_expiry),
        xml_escape(context.version),
        value,
    );
    Ok(xml_response(StatusCode::OK, body))
}

/// An XML answer.
pub(crate) fn xml_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    response
}
