//! `listServiceSas` and `listAccountSas`: a SAS signed by ARM with one of the account's
//! keys (`keyToSign`, `key1` unless named), built and signed by
//! `azlite_storage_auth::sas::arm` with the same string-to-sign the Blob endpoint verifies.
//!
//! RBAC as in Azure: `…/listServiceSas/action` and `…/listAccountSas/action` on the account
//! (Storage Account Contributor and Contributor have them; Reader does not). An account with
//! `allowSharedKeyAccess: false` still answers (Azure signs; the data plane refuses).

use axum::http::StatusCode;
use axum::response::Response;
use azlite_storage_auth::AccountKey;
use azlite_storage_auth::sas::arm::{
    AccountSasParameters, ArmSasError, ServiceSasParameters, list_account_sas as sign_account,
    list_service_sas as sign_service,
};
use serde::Deserialize;
use serde_json::json;

use super::STORAGE_ACCOUNTS as KIND;
use super::account_model::invalid_values;
use crate::providers::TrackedResource;
use crate::resources;
use crate::wire::{body, json};
use crate::{Arm, ArmError, Caller};

/// The action of `listServiceSas`.
pub(crate) const LIST_SERVICE_SAS: &str = "Microsoft.Storage/storageAccounts/listServiceSas/action";
/// The action of `listAccountSas`.
pub(crate) const LIST_ACCOUNT_SAS: &str = "Microsoft.Storage/storageAccounts/listAccountSas/action";

/// `ServiceSasParameters` on the wire.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceBody {
    canonicalized_resource: Option<String>,
    signed_resource: Option<String>,
    signed_permission: Option<String>,
    signed_protocol: Option<String>,
    signed_start: Option<String>,
    signed_expiry: Option<String>,
    signed_ip: Option<String>,
    signed_identifier: Option<String>,
    key_to_sign: Option<String>,
    rscc: Option<String>,
    rscd: Option<String>,
    rsce: Option<String>,
    rscl: Option<String>,
    rsct: Option<String>,
}

/// `AccountSasParameters` on the wire.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountBody {
    signed_services: Option<String>,
    signed_resource_types: Option<String>,
    signed_permission: Option<String>,
    signed_protocol: Option<String>,
    signed_start: Option<String>,
    signed_expiry: Option<String>,
    signed_ip: Option<String>,
    key_to_sign: Option<String>,
}

fn sas_error(error: ArmSasError) -> ArmError {
    ArmError::bad_request("InvalidValuesForRequestParameters", error.0)
}

/// The account's key that `key_to_sign` names (`key1` when absent).
async fn key(
    arm: &Arm,
    resource: &TrackedResource,
    key_to_sign: Option<&str>,
) -> Result<(String, AccountKey), ArmError> {
    let found = arm
        .store
        .get_resource(&resource.id)
        .await?
        .ok_or_else(|| resources::not_found(KIND, resource))?;
    let wanted = key_to_sign.unwrap_or("key1");
    let keys = arm.store.list_storage_account_keys(&found.id).await?;
    let key = keys
        .iter()
        .find(|k| k.key_name.eq_ignore_ascii_case(wanted))
        .and_then(|k| AccountKey::from_base64(&k.value))
        .ok_or_else(|| invalid_values("keyToSign"))?;
    Ok((found.id.name().unwrap_or_default().to_owned(), key))
}

/// `POST …/storageAccounts/{name}/listServiceSas`: `{"serviceSasToken": "…"}`.
pub(crate) async fn list_service_sas(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, LIST_SERVICE_SAS).await?;
    let sent: ServiceBody = body(request)?;
    let (account, key) = key(arm, resource, sent.key_to_sign.as_deref()).await?;
    let parameters = ServiceSasParameters {
        canonicalized_resource: sent
            .canonicalized_resource
            .ok_or_else(|| invalid_values("canonicalizedResource"))?,
        signed_resource: sent.signed_resource,
        signed_permission: sent.signed_permission,
        signed_protocol: sent.signed_protocol,
        signed_start: sent.signed_start,
        signed_expiry: sent.signed_expiry,
        signed_ip: sent.signed_ip,
        signed_identifier: sent.signed_identifier,
        response_overrides: [sent.rscc, sent.rscd, sent.rsce, sent.rscl, sent.rsct],
    };
    let token = sign_service(&parameters, &account, &key).map_err(sas_error)?;
    Ok(json(StatusCode::OK, json!({ "serviceSasToken": token })))
}

/// `POST …/storageAccounts/{name}/listAccountSas`: `{"accountSasToken": "…"}`.
pub(crate) async fn list_account_sas(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, LIST_ACCOUNT_SAS).await?;
    let sent: AccountBody = body(request)?;
    let (account, key) = key(arm, resource, sent.key_to_sign.as_deref()).await?;
    let parameters = AccountSasParameters {
        signed_services: sent.signed_services.unwrap_or_default(),
        signed_resource_types: sent.signed_resource_types.unwrap_or_default(),
        signed_permission: sent.signed_permission.unwrap_or_default(),
        signed_protocol: sent.signed_protocol,
        signed_start: sent.signed_start,
        signed_expiry: sent.signed_expiry.unwrap_or_default(),
        signed_ip: sent.signed_ip,
    };
    let token = sign_account(&parameters, &account, &key).map_err(sas_error)?;
    Ok(json(StatusCode::OK, json!({ "accountSasToken": token })))
}
