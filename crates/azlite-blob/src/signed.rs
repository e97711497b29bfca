//! Shared Key, Shared Key Lite and SAS on the Blob endpoint (reference dataplane §2.6–2.7):
//! the credential is parsed and verified by `azlite-storage-auth`, with the account's keys
//! read from the store on every request (so `regenerateKey` takes effect at once) and user
//! delegation keys re-derived from the server secret ([`Blob::with_user_delegation_secret`]).
//!
//! Order: an account-key credential on an account with `allowSharedKeyAccess: false` is
//! 403 `KeyBasedAuthenticationNotPermitted`; then the signature; then a SAS's permissions
//! (`sp`, `srt`) against the operation; then, for a user delegation SAS, the signer's RBAC
//! data actions at the addressed scope, as Azure checks them at request time.

use axum::http::request::Parts;
use azlite_storage_auth::sas::{self, BlobOperation, SasKind, SasRequest};
use azlite_storage_auth::udk::{UserDelegationKeyFields, UserDelegationKeyIssuer};
use azlite_storage_auth::{AccountKey, AuthError, UnverifiedCredential, classify, shared_key};
use std::sync::Arc;

use time::OffsetDateTime;

use crate::auth::Caller;
use crate::operation::Operation;
use crate::policy;
use crate::request::BlobHost;
use crate::{Account, Blob, BlobError};

/// Azure's error for an [`AuthError`].
pub(crate) fn blob_error(error: &AuthError) -> BlobError {
    let status = axum::http::StatusCode::from_u16(error.status())
        .unwrap_or(axum::http::StatusCode::FORBIDDEN);
    let e = BlobError::new(status, error.code(), error.message());
    match error.authentication_error_detail() {
        Some(detail) => e.with_detail("AuthenticationErrorDetail", detail),
        None => e,
    }
}

/// The SAS permission class of an operation; `exists` says whether the blob a write
/// addresses exists (a SAS with `c` but not `w` may create, not overwrite).
fn sas_operation(operation: &Operation, exists: bool) -> BlobOperation {
    use BlobOperation as B;
    use Operation as O;
    match operation {
        O::ListContainers => B::ListContainers,
        O::GetServiceProperties => B::GetServiceProperties,
        O::SetServiceProperties => B::SetServiceProperties,
        O::GetAccountInformation => B::GetAccountInformation,
        O::GetUserDelegationKey => B::GetUserDelegationKey,
        O::CreateContainer(_) => B::CreateContainer,
        O::DeleteContainer(_) => B::DeleteContainer,
        O::GetContainerProperties(_) | O::GetContainerMetadata(_) => B::GetContainerProperties,
        O::SetContainerMetadata(_) => B::SetContainerMetadata,
        O::LeaseContainer(_) => B::LeaseContainer,
        O::ListBlobs(_) => B::ListBlobs,
        O::GetBlob(..)
        | O::GetBlobProperties(..)
        | O::GetBlobMetadata(..)
        | O::GetBlockList(..) => B::ReadBlob,
        O::PutBlob(..)
        | O::PutBlock(..)
        | O::PutBlockList(..)
        | O::CopyBlob(..)
        | O::CreateAppendBlob(..) => B::WriteBlob { exists },
        O::AppendBlock(..) => B::AppendBlock,
        O::SetBlobProperties(..) | O::SetBlobMetadata(..) => B::SetBlobProperties,
        O::LeaseBlob(..) => B::LeaseBlob,
        O::DeleteBlob(..) => B::DeleteBlob,
    }
}

fn container_and_blob(operation: &Operation) -> (Option<&str>, Option<&str>) {
    use Operation as O;
    match operation {
        O::PutBlob(c, b)
        | O::CreateAppendBlob(c, b)
        | O::CopyBlob(c, b)
        | O::PutBlock(c, b)
        | O::PutBlockList(c, b)
        | O::GetBlockList(c, b)
        | O::AppendBlock(c, b)
        | O::GetBlob(c, b)
        | O::GetBlobProperties(c, b)
        | O::GetBlobMetadata(c, b)
        | O::SetBlobProperties(c, b)
        | O::SetBlobMetadata(c, b)
        | O::DeleteBlob(c, b)
        | O::LeaseBlob(c, b) => (Some(c), Some(b)),
        other => (other.container(), None),
    }
}

/// The account's keys as the store holds them now (kept decoded while the store's epoch
/// does not move: a regenerated key moves it).
async fn account_keys(blob: &Blob, account: &Account) -> Result<Arc<[AccountKey]>, BlobError> {
    // The epoch before the read: see `EpochMemo`.
    let epoch = blob.store.epoch()?;
    if let Some(keys) = blob.account_keys.get(epoch, account.id.as_str()) {
        return Ok(keys);
    }
    let stored = blob.store.list_storage_account_keys(&account.id).await?;
    let keys: Arc<[AccountKey]> = stored
        .iter()
        .filter_map(|k| AccountKey::from_base64(&k.value))
        .collect();
    blob.account_keys
        .put(epoch, account.id.as_str().to_owned(), Arc::clone(&keys));
    Ok(keys)
}

/// Verifies a Shared Key, Shared Key Lite or SAS request for `operation`. `delegated_user`
/// is the verified Bearer caller of a request that carries a user delegation SAS with
/// `sduoid` as well as a token (the SAS is the credential then).
pub(crate) async fn verify(
    blob: &Blob,
    account: &Account,
    host: &BlobHost,
    parts: &Parts,
    operation: &Operation,
    delegated_user: Option<&Caller>,
) -> Result<(), BlobError> {
    let authorization = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .filter(|_| delegated_user.is_none());
    let query = azlite_storage_auth::parse_query(parts.uri.query().unwrap_or(""));
    let credential = classify(authorization, &query).map_err(|e| blob_error(&e))?;
    if credential.uses_account_key() && !account.allow_shared_key {
        return Err(blob_error(&AuthError::KeyBasedAuthenticationNotPermitted));
    }
    let headers: Vec<(&str, &str)> = parts
        .headers
        .iter()
        .filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v)))
        .collect();
    let now =
        OffsetDateTime::from_unix_timestamp(blob.clock.now()).map_err(|_| BlobError::internal())?;
    match credential {
        UnverifiedCredential::SharedKey(key) => {
            let keys = account_keys(blob, account).await?;
            let request = shared_key::SignedRequest {
                method: parts.method.as_str(),
                account: &host.account,
                path: parts.uri.path(),
                query: &query,
                headers: &headers,
            };
            shared_key::verify(&key, &request, &keys, now).map_err(|e| blob_error(&e))
        }
        UnverifiedCredential::Sas(fields) => {
            let (container, name) = container_and_blob(operation);
            let keys = if fields.kind() == SasKind::UserDelegation {
                Arc::from(Vec::new())
            } else {
                account_keys(blob, account).await?
            };
            let snapshot = query
                .iter()
                .find(|(n, _)| n == "snapshot" || n == "versionid")
                .map(|(_, v)| v.as_str());
            // The TCP peer (the listeners put it on every request); a request that comes
            // with none (an in-process call) is checked as loopback's.
            let client_ip = parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map_or(std::net::IpAddr::from([127, 0, 0, 1]), |c| c.0.ip());
            let request = SasRequest {
                service: 'b',
                account: &host.account,
                container,
                blob: name,
                snapshot_time: snapshot,
                https: host.secure,
                client_ip,
                headers: &headers,
                query: &query,
            };
            let verified = sas::verify(&fields, &request, &keys, blob.udk.as_ref(), now)
                .map_err(|e| blob_error(&e))?;
            // Whether the blob exists matters only to a write the SAS allows to create but
            // not to overwrite: look it up only then.
            let mut decision = verified.authorize(sas_operation(operation, true));
            if decision.is_err()
                && let (Some(c), Some(b)) = (container, name)
                && sas_operation(operation, false) != sas_operation(operation, true)
                && blob.store.get_blob(&account.id, c, b).await?.is_none()
            {
                decision = verified.authorize(sas_operation(operation, false));
            }
            decision.map_err(|e| blob_error(&e))?;
            if let Some(signer) = verified.delegation() {
                check_object_ids(signer, account, delegated_user)?;
                let caller = Caller {
                    object_id: signer
                        .object_id
                        .parse()
                        .map_err(|_| blob_error(&AuthError::AuthorizationPermissionMismatch))?,
                    tenant_id: signer
                        .tenant_id
                        .parse()
                        .map_err(|_| blob_error(&AuthError::AuthorizationPermissionMismatch))?,
                };
                if caller.tenant_id != account.tenant {
                    return Err(blob_error(&AuthError::AuthorizationPermissionMismatch));
                }
                policy::authorize(
                    blob.rbac.as_ref(),
                    &caller,
                    &policy::scope(&account.id, operation),
                    &policy::permission(operation),
                )?;
            }
            if delegated_user.is_some() && verified.delegation().is_none() {
                // A token beside a SAS that names no delegated user: not a credential pair.
                return Err(blob_error(&AuthError::InvalidAuthenticationInfo));
            }
            Ok(())
        }
        UnverifiedCredential::Anonymous | UnverifiedCredential::Bearer(_) => {
            Err(blob_error(&AuthError::InvalidAuthenticationInfo))
        }
    }
}

/// The object ids a user delegation SAS may carry besides its signer's, as Azure enforces
/// them: `saoid` and `suoid` only on an account with a hierarchical namespace, never both
/// (403 `AuthorizationFailure` otherwise), and `suoid` asks for a POSIX ACL check azlite's
/// Blob service does not make, so it is refused too; `sduoid` must be the object id (and
/// `skdutid`, else `sktid`, the tenant) of the Bearer token sent with the SAS (403
/// `AuthenticationFailed` when the token is missing or another user's).
fn check_object_ids(
    signer: &sas::Delegation,
    account: &Account,
    delegated_user: Option<&Caller>,
) -> Result<(), BlobError> {
    let (agent, unauthorized) = (
        signer
            .authorized_object_id
            .as_deref()
            .filter(|v| !v.is_empty()),
        signer
            .unauthorized_object_id
            .as_deref()
            .filter(|v| !v.is_empty()),
    );
    if (agent.is_some() || unauthorized.is_some())
        && (!account.hierarchical_namespace || agent.is_some() == unauthorized.is_some())
    {
        return Err(blob_error(&AuthError::AuthorizationFailure));
    }
    if unauthorized.is_some() {
        return Err(blob_error(&AuthError::AuthorizationFailure));
    }
    let Some(expected) = signer
        .delegated_user_object_id
        .as_deref()
        .filter(|v| !v.is_empty())
    else {
        return Ok(());
    };
    let Some(user) = delegated_user else {
        return Err(blob_error(&AuthError::authentication_failed(
            "The user delegation SAS names a delegated user (sduoid): the request must carry that user's bearer token.",
        )));
    };
    let tenant = signer
        .delegated_user_tenant_id
        .as_deref()
        .filter(|v| !v.is_empty())
        .unwrap_or(&signer.tenant_id);
    let same = |id: &str, expected: &str| id.eq_ignore_ascii_case(expected);
    if !same(&user.object_id.to_string(), expected) || !same(&user.tenant_id.to_string(), tenant) {
        return Err(blob_error(&AuthError::authentication_failed(
            "The bearer token was not issued to the delegated user of the user delegation SAS (sduoid).",
        )));
    }
    Ok(())
}

/// The value of the user delegation key with these fields, or `None` when this Blob has no
/// user delegation secret.
pub(crate) fn user_delegation_key_value(
    issuer: Option<&UserDelegationKeyIssuer>,
    fields: &UserDelegationKeyFields<'_>,
) -> Option<String> {
    issuer.map(|i| i.derive(fields).to_base64())
}
