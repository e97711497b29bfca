//! The smaller checks of SAS verification: `sip`, `spr`, the user delegation key's own
//! fields, and the request values that `srh`/`srq` sign.

use std::net::IpAddr;

use time::OffsetDateTime;

use crate::error::AuthError;
use crate::sas::SasFields;
use crate::sas::verify::{NOT_WELL_FORMED, SasRequest, failed, mandatory};
use crate::times::{format_rfc1123, parse_sas_time};
use crate::version::ServiceVersion;

/// An `sip`: one address, or an inclusive range of one family.
pub(crate) fn ip_allowed(sip: &str, client: IpAddr) -> Result<bool, AuthError> {
    let client = match client {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(client, IpAddr::V4),
        v4 => v4,
    };
    let parse = |s: &str| {
        s.trim()
            .parse::<IpAddr>()
            .map_err(|_| failed(NOT_WELL_FORMED))
    };
    let (low, high) = match sip.split_once('-') {
        Some((a, b)) => (parse(a)?, parse(b)?),
        None => {
            let one = parse(sip)?;
            (one, one)
        }
    };
    Ok(match (low, high, client) {
        (IpAddr::V4(l), IpAddr::V4(h), IpAddr::V4(c)) => l <= c && c <= h,
        (IpAddr::V6(l), IpAddr::V6(h), IpAddr::V6(c)) => l <= c && c <= h,
        _ => false,
    })
}

/// Whether `spr` allows plain HTTP (`Ok(false)`: HTTPS only).
pub(crate) fn http_allowed(spr: Option<&str>) -> Result<bool, AuthError> {
    match spr {
        None | Some("") => Ok(true),
        Some("https") => Ok(false),
        Some("https,http") | Some("http,https") => Ok(true),
        Some(_) => Err(failed(NOT_WELL_FORMED)),
    }
}

/// The user delegation key's own fields: all present, for the Blob service, and valid now.
pub(crate) fn verify_key_fields(fields: &SasFields, now: OffsetDateTime) -> Result<(), AuthError> {
    for (value, name) in [
        (&fields.key_object_id, "skoid"),
        (&fields.key_tenant_id, "sktid"),
        (&fields.key_start, "skt"),
        (&fields.key_expiry, "ske"),
        (&fields.key_service, "sks"),
        (&fields.key_version, "skv"),
    ] {
        mandatory(value, name)?;
    }
    if fields.key_service.as_deref() != Some("b") {
        return Err(failed(NOT_WELL_FORMED));
    }
    let key_start = parse_sas_time(fields.key_start.as_deref().unwrap_or(""))
        .ok_or_else(|| failed(NOT_WELL_FORMED))?;
    let key_expiry = parse_sas_time(fields.key_expiry.as_deref().unwrap_or(""))
        .ok_or_else(|| failed(NOT_WELL_FORMED))?;
    if now < key_start || now > key_expiry {
        return Err(failed(format!(
            "The user delegation key is not valid in the specified time frame: Start [{}] - Expiry [{}] - Current [{}]",
            format_rfc1123(key_start),
            format_rfc1123(key_expiry),
            format_rfc1123(now)
        )));
    }
    Ok(())
}

pub(crate) type Pairs<'a> = Vec<(&'a str, &'a str)>;

/// The values of the headers and query parameters `srh`/`srq` name (2026-04-06 on). Each
/// must be present in the request: its value is what the client signed.
pub(crate) fn signed_request_values<'a>(
    fields: &'a SasFields,
    request: &SasRequest<'a>,
    version: ServiceVersion,
) -> Result<(Pairs<'a>, Pairs<'a>), AuthError> {
    if version < ServiceVersion::V2026_04_06 {
        return Ok((Vec::new(), Vec::new()));
    }
    let names = |list: &'a Option<String>| -> Vec<&'a str> {
        list.as_deref()
            .unwrap_or("")
            .split(',')
            .filter(|s| !s.is_empty())
            .collect()
    };
    let mut headers = Vec::new();
    for name in names(&fields.request_headers) {
        let value = request
            .headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| *v)
            .ok_or_else(|| {
                failed(format!(
                    "The signed request header '{name}' is missing from the request."
                ))
            })?;
        headers.push((name, value));
    }
    let mut query = Vec::new();
    for name in names(&fields.request_query_params) {
        let value = request
            .query
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| {
                failed(format!(
                    "The signed query parameter '{name}' is missing from the request."
                ))
            })?;
        query.push((name, value));
    }
    Ok((headers, query))
}
