//! Verifying a SAS against the request that carries it.
//!
//! Order of the checks (each failure is Azure's 403):
//! 1. `sv` is a version azlite speaks (2015-04-05 on; 2018-11-09 on for user delegation);
//!    the fields the kind requires are present; `si` (stored access policies) is refused,
//!    since azlite has none; times, `sip` and `spr` are well formed; `se` is after `st`.
//! 2. The signature, recomputed for the resource the request addresses (so a container SAS
//!    used on another container fails here), with both account keys, or with the user
//!    delegation key re-derived from the SAS's own `sk*` fields; compared in constant time.
//! 3. `st` ≤ now ≤ `se` (and the user delegation key's own `skt`/`ske`), `spr`, `sip`, and an
//!    account SAS's `ss`.
//!
//! What remains, the operation against `sp`/`srt`, is [`VerifiedSas::authorize`]; for a user
//! delegation SAS the caller must also check the signer's RBAC data actions
//! ([`VerifiedSas::delegation`]).

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::error::AuthError;
use crate::keys::AccountKey;
use crate::sas::checks::{http_allowed, ip_allowed, signed_request_values, verify_key_fields};
use crate::sas::permissions::{BlobOperation, SasPermissions};
use crate::sas::{SasFields, SasKind, string_to_sign};
use crate::times::{format_rfc1123, parse_sas_time};
use crate::udk::{UserDelegationKeyFields, UserDelegationKeyIssuer};
use crate::version::ServiceVersion;

/// The request a SAS is presented with.
#[derive(Debug, Clone, Copy)]
pub struct SasRequest<'a> {
    /// The service's letter in an account SAS's `ss`: `b` for Blob (and Data Lake Gen2).
    pub service: char,
    /// The account addressed.
    pub account: &'a str,
    /// The container addressed, if any.
    pub container: Option<&'a str>,
    /// The blob addressed (decoded name), if any.
    pub blob: Option<&'a str>,
    /// The request's `snapshot` or `versionid`, which an `sr=bs`/`sr=bv` SAS signs.
    pub snapshot_time: Option<&'a str>,
    /// Whether the request came over TLS.
    pub https: bool,
    /// The client's address.
    pub client_ip: IpAddr,
    /// The request's headers (for `srh`).
    pub headers: &'a [(&'a str, &'a str)],
    /// The request's decoded query (for `srq`).
    pub query: &'a [(String, String)],
}

/// What a verified SAS is scoped to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignedScope {
    /// An account SAS: services (`ss`) and resource types (`srt`).
    Account {
        /// `ss`.
        services: String,
        /// `srt`.
        resource_types: String,
    },
    /// `sr=c`: one container and its blobs.
    Container,
    /// `sr=b`, `bs`, `bv`: one blob.
    Blob,
    /// `sr=d`: one directory (hierarchical namespace) and what is below it.
    Directory,
}

/// Who signed a user delegation SAS: the caller must check this principal's RBAC data
/// actions for the operation, as Azure does at request time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delegation {
    /// `skoid`.
    pub object_id: String,
    /// `sktid`.
    pub tenant_id: String,
    /// `saoid`.
    pub authorized_object_id: Option<String>,
    /// `suoid`.
    pub unauthorized_object_id: Option<String>,
    /// `sduoid`: the request must also carry this user's bearer token.
    pub delegated_user_object_id: Option<String>,
    /// `skdutid`.
    pub delegated_user_tenant_id: Option<String>,
    /// `scid`.
    pub correlation_id: Option<String>,
}

/// A SAS whose signature, time frame, protocol, address and service have been verified.
#[derive(Debug, Clone)]
pub struct VerifiedSas {
    /// Which kind it is.
    pub kind: SasKind,
    /// `sv`.
    pub version: ServiceVersion,
    /// `sp`.
    pub permissions: SasPermissions,
    /// What it is scoped to.
    pub scope: SignedScope,
    /// The signer of a user delegation SAS.
    pub delegation: Option<Delegation>,
    /// The fields, for the response overrides (`rscc` …) and `ses`.
    pub fields: SasFields,
}

impl VerifiedSas {
    /// Whether this SAS allows `operation` (on the resource it was verified against).
    pub fn authorize(&self, operation: BlobOperation) -> Result<(), AuthError> {
        match &self.scope {
            SignedScope::Account { resource_types, .. } => {
                operation.check_account_sas(resource_types, self.permissions)
            }
            _ => operation.check_service_sas(self.permissions),
        }
    }

    /// The signer, for a user delegation SAS.
    pub fn delegation(&self) -> Option<&Delegation> {
        self.delegation.as_ref()
    }
}

pub(crate) fn failed(detail: impl Into<String>) -> AuthError {
    AuthError::authentication_failed(detail)
}

pub(crate) fn mandatory(value: &Option<String>, name: &str) -> Result<(), AuthError> {
    match value.as_deref() {
        Some(v) if !v.is_empty() => Ok(()),
        _ => Err(failed(format!("{name} is mandatory. Cannot be empty"))),
    }
}

pub(crate) const NOT_WELL_FORMED: &str = "Signature fields not well formed.";

/// `/blob/<account>/<container>[/<path>]` for the resource the request addresses, at the
/// level `sr` names. A request that does not address that level yields a resource the SAS
/// cannot have signed.
fn canonical_resource(fields: &SasFields, request: &SasRequest<'_>) -> Result<String, AuthError> {
    let mut out = format!("/blob/{}", request.account);
    let sr = fields.resource.as_deref().unwrap_or("");
    if let Some(container) = request.container {
        out.push('/');
        out.push_str(container);
        match sr {
            "c" => {}
            "b" | "bs" | "bv" => {
                if let Some(blob) = request.blob {
                    out.push('/');
                    out.push_str(blob);
                }
            }
            "d" => {
                let depth: usize = fields
                    .directory_depth
                    .as_deref()
                    .and_then(|d| d.parse().ok())
                    .ok_or_else(|| failed(NOT_WELL_FORMED))?;
                let segments: Vec<&str> = request
                    .blob
                    .unwrap_or("")
                    .trim_matches('/')
                    .split('/')
                    .filter(|s| !s.is_empty())
                    .collect();
                if depth > 0 {
                    out.push('/');
                    out.push_str(&segments[..depth.min(segments.len())].join("/"));
                }
            }
            _ => return Err(failed(NOT_WELL_FORMED)),
        }
    }
    Ok(out)
}

/// Verifies `fields` (from [`SasFields::from_query`]) for `request`. `account_keys` are the
/// account's keys (both are tried); `user_delegation` re-derives user delegation keys
/// (`None`: user delegation SAS are refused).
pub fn verify(
    fields: &SasFields,
    request: &SasRequest<'_>,
    account_keys: &[AccountKey],
    user_delegation: Option<&UserDelegationKeyIssuer>,
    now: OffsetDateTime,
) -> Result<VerifiedSas, AuthError> {
    let kind = fields.kind();
    mandatory(&fields.version, "sv")?;
    let version = fields
        .signed_version()
        .ok_or_else(|| failed(NOT_WELL_FORMED))?;
    let oldest = match kind {
        SasKind::UserDelegation => ServiceVersion::V2018_11_09,
        _ => ServiceVersion::V2015_04_05,
    };
    if version < oldest {
        return Err(failed(format!(
            "The signed version {version} is not supported for this kind of SAS; use {oldest} or later."
        )));
    }
    if let Some(si) = fields.identifier.as_deref().filter(|s| !s.is_empty()) {
        // azlite has no stored access policies (Set Container ACL is not served), so every
        // identifier names a policy that does not exist.
        return Err(failed(format!(
            "The specified signed identifier '{si}' does not exist."
        )));
    }
    mandatory(&fields.permissions, "sp")?;
    mandatory(&fields.expiry, "se")?;
    mandatory(&fields.signature, "sig")?;
    match kind {
        SasKind::Account => {
            mandatory(&fields.services, "ss")?;
            mandatory(&fields.resource_types, "srt")?;
        }
        SasKind::Service | SasKind::UserDelegation => mandatory(&fields.resource, "sr")?,
    }
    let start = match fields.start.as_deref().filter(|s| !s.is_empty()) {
        Some(st) => Some(parse_sas_time(st).ok_or_else(|| failed(NOT_WELL_FORMED))?),
        None => None,
    };
    let expiry = parse_sas_time(fields.expiry.as_deref().unwrap_or(""))
        .ok_or_else(|| failed(NOT_WELL_FORMED))?;
    if let Some(start) = start
        && expiry <= start
    {
        return Err(failed(format!(
            "Signed expiry time [{}] must be after signed start time [{}]",
            format_rfc1123(expiry),
            format_rfc1123(start)
        )));
    }
    let allows_http = http_allowed(fields.protocol.as_deref())?;
    let ip_ok = match fields.ip.as_deref().filter(|s| !s.is_empty()) {
        Some(sip) => ip_allowed(sip, request.client_ip)?,
        None => true,
    };

    // The signature.
    let signature = fields.signature.as_deref().unwrap_or("");
    let snapshot_time = request.snapshot_time.unwrap_or("");
    let (string_to_sign, verified, delegation) = match kind {
        SasKind::Account => {
            let sts = string_to_sign::account(fields, request.account, version);
            let ok = account_keys.iter().any(|k| k.verify(&sts, signature));
            (sts, ok, None)
        }
        SasKind::Service => {
            let resource = canonical_resource(fields, request)?;
            let sts = string_to_sign::service(fields, &resource, snapshot_time, version);
            let ok = account_keys.iter().any(|k| k.verify(&sts, signature));
            (sts, ok, None)
        }
        SasKind::UserDelegation => {
            let issuer = user_delegation
                .ok_or_else(|| failed("User delegation SAS are not accepted by this service."))?;
            verify_key_fields(fields, now)?;
            let resource = canonical_resource(fields, request)?;
            let (headers, query) = signed_request_values(fields, request, version)?;
            let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, *v)).collect();
            let query: Vec<(&str, &str)> = query.iter().map(|(k, v)| (*k, *v)).collect();
            let sts = string_to_sign::user_delegation(
                fields,
                &resource,
                snapshot_time,
                &headers,
                &query,
                version,
            );
            let key = issuer.derive(&UserDelegationKeyFields {
                account: request.account,
                object_id: fields.key_object_id.as_deref().unwrap_or(""),
                tenant_id: fields.key_tenant_id.as_deref().unwrap_or(""),
                start: fields.key_start.as_deref().unwrap_or(""),
                expiry: fields.key_expiry.as_deref().unwrap_or(""),
                service: fields.key_service.as_deref().unwrap_or(""),
                version: fields.key_version.as_deref().unwrap_or(""),
                delegated_user_tenant_id: fields.key_delegated_user_tenant_id.as_deref(),
            });
            let ok = key.verify(&sts, signature);
            let delegation = Delegation {
                object_id: fields.key_object_id.clone().unwrap_or_default(),
                tenant_id: fields.key_tenant_id.clone().unwrap_or_default(),
                authorized_object_id: fields.authorized_object_id.clone(),
                unauthorized_object_id: fields.unauthorized_object_id.clone(),
                delegated_user_object_id: fields.delegated_user_object_id.clone(),
                delegated_user_tenant_id: fields.key_delegated_user_tenant_id.clone(),
                correlation_id: fields.correlation_id.clone(),
            };
            (sts, ok, Some(delegation))
        }
    };
    if !verified {
        return Err(failed(format!(
            "Signature did not match. String to sign used was {string_to_sign}"
        )));
    }

    if start.is_some_and(|s| now < s) || now > expiry {
        return Err(failed(format!(
            "Signature not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
            start.map(format_rfc1123).unwrap_or_default(),
            format_rfc1123(expiry),
            format_rfc1123(now)
        )));
    }
    if !request.https && !allows_http {
        return Err(AuthError::AuthorizationProtocolMismatch);
    }
    if !ip_ok {
        return Err(AuthError::AuthorizationSourceIpMismatch {
            source_ip: request.client_ip,
        });
    }
    let scope = match kind {
        SasKind::Account => {
            let services = fields.services.clone().unwrap_or_default();
            if !services.contains(request.service) {
                return Err(AuthError::AuthorizationServiceMismatch);
            }
            SignedScope::Account {
                services,
                resource_types: fields.resource_types.clone().unwrap_or_default(),
            }
        }
        _ => match fields.resource.as_deref() {
            Some("c") => SignedScope::Container,
            Some("d") => SignedScope::Directory,
            _ => SignedScope::Blob,
        },
    };
    Ok(VerifiedSas {
        kind,
        version,
        permissions: SasPermissions::parse(fields.permissions.as_deref().unwrap_or("")),
        scope,
        delegation,
        fields: fields.clone(),
    })
}
