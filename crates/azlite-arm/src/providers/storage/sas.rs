//! `listServiceSas` and `listAccountSas` (SPEC-STG, dataplane reference §3): a SAS token
//! for the account, signed by `azlite-storage-auth` with the key `keyToSign` names (`key1`
//! when absent) as Azure's resource provider signs them (`sv=2015-04-05`).
//!
//! The tutorial's request is answered as written: `POST …/listServiceSas/?api-version=2017-06-01`
//! (any casing, trailing slash) with a JSON body sent as a form (`curl -d`), which is read
//! as JSON whatever its content type. RBAC: `…/ListServiceSas/action` and
//! `…/ListAccountSas/action` on the account (Storage Account Contributor has them; Reader
//! does not).

use axum::http::StatusCode;
use axum::response::Response;
use azlite_storage_auth::AccountKey;
use azlite_storage_auth::sas::arm::{
    AccountSasParameters, ServiceSasParameters, list_account_sas, list_service_sas,
};
use serde::Deserialize;
use serde_json::json;

use super::STORAGE_ACCOUNTS as KIND;
use super::account_model::invalid_values;
use crate::providers::TrackedResource;
use crate::resources;
use crate::wire::{body, json};
use crate::{Arm, ArmError, Caller};

/// The action of `listServiceSas` (DOC-PERM-STG's casing; actions match case-insensitively).
pub(crate) const LIST_SERVICE_SAS: &str = "Microsoft.Storage/storageAccounts/ListServiceSas/action";
/// The action of `listAccountSas`.
pub(crate) const LIST_ACCOUNT_SAS: &str = "Microsoft.Storage/storageAccounts/ListAccountSas/action";

/// The body of `listServiceSas` (`ServiceSasParameters`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ServiceSasBody {
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

/// The body of `listAccountSas` (`AccountSasParameters`).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AccountSasBody {
    signed_services: Option<String>,
    signed_resource_types: Option<String>,
    signed_permission: Option<String>,
    signed_protocol: Option<String>,
    signed_start: Option<String>,
    signed_expiry: Option<String>,
    signed_ip: Option<String>,
    key_to_sign: Option<String>,
}

/// The account (which must exist) and the key `key_to_sign` names, read from the store.
async fn signing_key(
    arm: &Arm,
    resource: &TrackedResource,
    key_to_sign: Option<&str>,
) -> Result<AccountKey, ArmError> {
    let found = arm
        .store
        .get_resource(&resource.id)
        .await?
        .ok_or_else(|| resources::not_found(KIND, resource))?;
    let name = key_to_sign.filter(|k| !k.is_empty()).unwrap_or("key1");
    let keys = arm.store.list_storage_account_keys(&found.id).await?;
    let key = keys
        .iter()
        .find(|k| k.key_name.eq_ignore_ascii_case(name))
        .ok_or_else(|| invalid_values("keyToSign"))?;
    AccountKey::from_base64(&key.value).ok_or_else(|| {
        ArmError::internal(&std::io::Error::other("a stored account key is not base64"))
    })
}

fn refused(e: impl std::fmt::Display) -> ArmError {
    ArmError::bad_request("InvalidValuesForRequestParameters", e.to_string())
}

/// `POST …/storageAccounts/{name}/ListServiceSas`: `{"serviceSasToken": "…"}`.
pub(crate) async fn list_service_sas_token(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, LIST_SERVICE_SAS).await?;
    let b: ServiceSasBody = body(request)?;
    let parameters = ServiceSasParameters {
        canonicalized_resource: b
            .canonicalized_resource
            .ok_or_else(|| invalid_values("canonicalizedResource"))?,
        signed_resource: b.signed_resource,
        signed_permission: b.signed_permission,
        signed_protocol: b.signed_protocol,
        signed_start: b.signed_start,
        signed_expiry: b.signed_expiry,
        signed_ip: b.signed_ip,
        signed_identifier: b.signed_identifier,
        response_overrides: [b.rscc, b.rscd, b.rsce, b.rscl, b.rsct],
    };
    let key = signing_key(arm, resource, b.key_to_sign.as_deref()).await?;
    let token = list_service_sas(&parameters, &resource.name, &key).map_err(refused)?;
    Ok(json(StatusCode::OK, json!({ "serviceSasToken": token })))
}

/// `POST …/storageAccounts/{name}/ListAccountSas`: `{"accountSasToken": "…"}`.
pub(crate) async fn list_account_sas_token(
    arm: &Arm,
    caller: &Caller,
    resource: &TrackedResource,
    request: &[u8],
) -> Result<Response, ArmError> {
    let _preamble = resources::preamble(arm, caller, resource, LIST_ACCOUNT_SAS).await?;
    let b: AccountSasBody = body(request)?;
    let required = |value: Option<String>, name: &str| value.ok_or_else(|| invalid_values(name));
    let parameters = AccountSasParameters {
        signed_services: required(b.signed_services, "signedServices")?,
        signed_resource_types: required(b.signed_resource_types, "signedResourceTypes")?,
        signed_permission: required(b.signed_permission, "signedPermission")?,
        signed_protocol: b.signed_protocol,
        signed_start: b.signed_start,
        signed_expiry: required(b.signed_expiry, "signedExpiry")?,
        signed_ip: b.signed_ip,
    };
    let key = signing_key(arm, resource, b.key_to_sign.as_deref()).await?;
    let token = list_account_sas(&parameters, &resource.name, &key).map_err(refused)?;
    Ok(json(StatusCode::OK, json!({ "accountSasToken": token })))
}
