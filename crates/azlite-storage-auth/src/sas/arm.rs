//! ARM's `listServiceSas` and `listAccountSas`: the request body's fields in, the token out,
//! signed with `sv=2015-04-05` as Azure's resource provider still does (the tutorial's
//! answer: `sv=2015-04-05&sr=c&spr=https&st=…&se=…&sp=rcw&sig=…`). Times are written to the
//! second, fractions dropped, as ARM does (`2017-05-24T11:32:48.8457197Z` →
//! `2017-05-24T11:32:48Z`). Only Blob resources (`/blob/…`, `sr=b|c`) are signable here.

use crate::keys::AccountKey;
use crate::sas::SasFields;
use crate::times::{format_sas_time, parse_sas_time};

/// The version ARM signs with.
pub const ARM_SAS_VERSION: &str = "2015-04-05";

/// Why ARM cannot make the SAS asked for: the message names the offending parameter. ARM
/// answers it as a 400.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArmSasError(pub String);

/// The body of `listServiceSas` (field names as in the REST spec, camelCase on the wire).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceSasParameters {
    /// `canonicalizedResource`: `/blob/<account>/<container>[/<blob>]`.
    pub canonicalized_resource: String,
    /// `signedResource`: `b` or `c`.
    pub signed_resource: Option<String>,
    /// `signedPermission`.
    pub signed_permission: Option<String>,
    /// `signedProtocol`: `https` or `https,http`.
    pub signed_protocol: Option<String>,
    /// `signedStart`.
    pub signed_start: Option<String>,
    /// `signedExpiry`.
    pub signed_expiry: Option<String>,
    /// `signedIp`.
    pub signed_ip: Option<String>,
    /// `signedIdentifier` (stored access policies are not supported: refused).
    pub signed_identifier: Option<String>,
    /// `rscc`, `rscd`, `rsce`, `rscl`, `rsct`.
    pub response_overrides: [Option<String>; 5],
}

/// The body of `listAccountSas`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountSasParameters {
    /// `signedServices` (`b`, `q`, `t`, `f`).
    pub signed_services: String,
    /// `signedResourceTypes` (`s`, `c`, `o`).
    pub signed_resource_types: String,
    /// `signedPermission`.
    pub signed_permission: String,
    /// `signedProtocol`.
    pub signed_protocol: Option<String>,
    /// `signedStart`.
    pub signed_start: Option<String>,
    /// `signedExpiry`.
    pub signed_expiry: String,
    /// `signedIp`.
    pub signed_ip: Option<String>,
}

fn bad(parameter: &str, value: &str) -> ArmSasError {
    ArmSasError(format!(
        "Values for request parameters are invalid: {parameter} ('{value}')."
    ))
}

fn time(parameter: &str, value: &Option<String>) -> Result<Option<String>, ArmSasError> {
    match value.as_deref().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse_sas_time(v)
            .map(|t| Some(format_sas_time(t)))
            .ok_or_else(|| bad(parameter, v)),
    }
}

fn letters(parameter: &str, value: &str, allowed: &str) -> Result<String, ArmSasError> {
    if value.is_empty() || !value.chars().all(|c| allowed.contains(c)) {
        return Err(bad(parameter, value));
    }
    Ok(value.to_owned())
}

fn protocol(value: &Option<String>) -> Result<Option<String>, ArmSasError> {
    match value.as_deref() {
        None | Some("") => Ok(None),
        Some(p @ ("https" | "https,http")) => Ok(Some(p.to_owned())),
        Some(p) => Err(bad("signedProtocol", p)),
    }
}

fn ip(value: &Option<String>) -> Result<Option<String>, ArmSasError> {
    match value.as_deref().filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => {
            let ok = v
                .split('-')
                .all(|part| part.parse::<std::net::IpAddr>().is_ok())
                && v.split('-').count() <= 2;
            if ok {
                Ok(Some(v.to_owned()))
            } else {
                Err(bad("signedIp", v))
            }
        }
    }
}

/// Signs a service SAS for `account` with `key` (the one `keyToSign` names).
pub fn list_service_sas(
    p: &ServiceSasParameters,
    account: &str,
    key: &AccountKey,
) -> Result<String, ArmSasError> {
    let resource = p.canonicalized_resource.as_str();
    let path = resource
        .strip_prefix("/blob/")
        .and_then(|rest| rest.strip_prefix(account))
        .and_then(|rest| rest.strip_prefix('/'))
        .filter(|rest| !rest.is_empty())
        .ok_or_else(|| bad("canonicalizedResource", resource))?;
    let depth = if path.contains('/') { "b" } else { "c" };
    let sr = p.signed_resource.as_deref().unwrap_or("");
    if sr != depth {
        return Err(bad("signedResource", sr));
    }
    if let Some(si) = p.signed_identifier.as_deref().filter(|s| !s.is_empty()) {
        return Err(ArmSasError(format!(
            "Stored access policies are not supported by azlite (signedIdentifier '{si}')."
        )));
    }
    let expiry = time("signedExpiry", &p.signed_expiry)?.ok_or_else(|| bad("signedExpiry", ""))?;
    let [rscc, rscd, rsce, rscl, rsct] = p.response_overrides.clone();
    let mut fields = SasFields {
        version: Some(ARM_SAS_VERSION.into()),
        resource: Some(sr.into()),
        protocol: protocol(&p.signed_protocol)?,
        ip: ip(&p.signed_ip)?,
        start: time("signedStart", &p.signed_start)?,
        expiry: Some(expiry),
        permissions: Some(letters(
            "signedPermission",
            p.signed_permission.as_deref().unwrap_or(""),
            "racwdl",
        )?),
        cache_control: rscc,
        content_disposition: rscd,
        content_encoding: rsce,
        content_language: rscl,
        content_type: rsct,
        ..Default::default()
    };
    fields
        .sign_service(key, resource, "")
        .map_err(|e| ArmSasError(e.to_string()))?;
    Ok(fields.to_query_string())
}

/// Signs an account SAS for `account` with `key`.
pub fn list_account_sas(
    p: &AccountSasParameters,
    account: &str,
    key: &AccountKey,
) -> Result<String, ArmSasError> {
    let expiry = time("signedExpiry", &Some(p.signed_expiry.clone()))?
        .ok_or_else(|| bad("signedExpiry", ""))?;
    let mut fields = SasFields {
        version: Some(ARM_SAS_VERSION.into()),
        services: Some(letters("signedServices", &p.signed_services, "bqtf")?),
        resource_types: Some(letters(
            "signedResourceTypes",
            &p.signed_resource_types,
            "sco",
        )?),
        permissions: Some(letters(
            "signedPermission",
            &p.signed_permission,
            "rwdlacup",
        )?),
        start: time("signedStart", &p.signed_start)?,
        expiry: Some(expiry),
        ip: ip(&p.signed_ip)?,
        protocol: protocol(&p.signed_protocol)?,
        ..Default::default()
    };
    fields
        .sign_account(key, account)
        .map_err(|e| ArmSasError(e.to_string()))?;
    Ok(fields.to_query_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_query;
    use crate::sas::{self, BlobOperation, SasRequest};

    fn key() -> AccountKey {
        AccountKey::from_bytes(b"key1".to_vec())
    }

    #[test]
    fn the_tutorial_request() {
        let p = ServiceSasParameters {
            canonicalized_resource: "/blob/acct/photos".into(),
            signed_resource: Some("c".into()),
            signed_permission: Some("rcw".into()),
            signed_protocol: Some("https".into()),
            signed_expiry: Some("2017-09-22T02:00:00.8457197Z".into()),
            ..Default::default()
        };
        let token = list_service_sas(&p, "acct", &key()).unwrap();
        assert!(
            token.starts_with(
                "sv=2015-04-05&sr=c&spr=https&se=2017-09-22T02%3A00%3A00Z&sp=rcw&sig="
            ),
            "{token}"
        );
        // It verifies on the container, with the permissions asked for.
        let query = parse_query(&token);
        let fields = sas::SasFields::from_query(&query).unwrap().unwrap();
        let request = SasRequest {
            service: 'b',
            account: "acct",
            container: Some("photos"),
            blob: Some("test.txt"),
            snapshot_time: None,
            https: true,
            client_ip: "127.0.0.1".parse().unwrap(),
            headers: &[],
            query: &query,
        };
        let now = parse_sas_time("2017-09-22T01:00:00Z").unwrap();
        let v = sas::verify(&fields, &request, &[key()], None, now).unwrap();
        assert_eq!(
            v.authorize(BlobOperation::WriteBlob { exists: false }),
            Ok(())
        );
    }

    #[test]
    fn refusals() {
        let base = ServiceSasParameters {
            canonicalized_resource: "/blob/acct/photos/a.txt".into(),
            signed_resource: Some("b".into()),
            signed_permission: Some("r".into()),
            signed_expiry: Some("2030-01-01".into()),
            ..Default::default()
        };
        assert!(list_service_sas(&base, "acct", &key()).is_ok());
        for broken in [
            ServiceSasParameters {
                canonicalized_resource: "/blob/other/photos/a.txt".into(),
                ..base.clone()
            },
            ServiceSasParameters {
                signed_resource: Some("c".into()),
                ..base.clone()
            },
            ServiceSasParameters {
                signed_permission: Some("rz".into()),
                ..base.clone()
            },
            ServiceSasParameters {
                signed_expiry: None,
                ..base.clone()
            },
            ServiceSasParameters {
                signed_protocol: Some("http".into()),
                ..base.clone()
            },
            ServiceSasParameters {
                signed_identifier: Some("p".into()),
                ..base.clone()
            },
        ] {
            assert!(
                list_service_sas(&broken, "acct", &key()).is_err(),
                "{broken:?}"
            );
        }
        let account = AccountSasParameters {
            signed_services: "b".into(),
            signed_resource_types: "s".into(),
            signed_permission: "r".into(),
            signed_protocol: Some("https,http".into()),
            signed_expiry: "2030-01-01T00:00:00Z".into(),
            ..Default::default()
        };
        let token = list_account_sas(&account, "acct", &key()).unwrap();
        assert!(
            token.starts_with(
                "sv=2015-04-05&ss=b&srt=s&spr=https,http&se=2030-01-01T00%3A00%3A00Z&sp=r&sig="
            ),
            "{token}"
        );
        let bad_types = AccountSasParameters {
            signed_resource_types: "x".into(),
            ..account
        };
        assert!(list_account_sas(&bad_types, "acct", &key()).is_err());
    }
}
