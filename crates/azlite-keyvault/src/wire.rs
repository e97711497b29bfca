//! Key Vault's JSON on the wire (reference §1.3): request bodies, the bundles and items of
//! responses, `api-version`, and list paging with `maxresults` and `nextLink`.
//!
//! Ids and `nextLink`s are built from the authority the client used (scheme `https`, its
//! `Host` with the port as sent): the SDKs parse the vault URL back out of `id`, and key
//! their challenge cache on it.

use std::collections::BTreeMap;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::KeyVaultError;
pub use crate::bundle::{SecretBundle, bundle, deleted_bundle, deleted_item, item};

/// The newest stable api-version, named in the error for an unknown one.
pub const LATEST_API_VERSION: &str = "7.6";

/// Largest value accepted (Key Vault's limit is 25 KB).
pub const MAX_VALUE_BYTES: usize = 25 * 1024;

/// A JSON response body with Key Vault's content type, serialized straight into the
/// body's bytes.
pub fn json_body<T: Serialize + ?Sized>(value: &T) -> Response {
    let mut body = Vec::with_capacity(512);
    if let Err(e) = serde_json::to_writer(&mut body, value) {
        // Only a map with non-string keys fails, which no shape here has.
        tracing::error!(error = %e, "cannot serialize a response");
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let mut response = Response::new(Body::from(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    response
}

/// Whether Key Vault serves `version`: `2016-10-01`, `7.0`–`7.6` (and their previews), and
/// the date-style versions of 2025 on (with or without `-preview`), which the spec and the
/// newest SDKs use (reference §1.1). The secret surface is the same in all of them.
pub fn is_supported_api_version(version: &str) -> bool {
    if version == "2016-10-01" {
        return true;
    }
    if let Some(minor) = version.strip_prefix("7.") {
        let minor = minor.split_once("-preview").map_or(minor, |(m, _)| m);
        return matches!(minor, "0" | "1" | "2" | "3" | "4" | "5" | "6");
    }
    let date = version.strip_suffix("-preview").unwrap_or(version);
    let parts: Vec<&str> = date.split('-').collect();
    matches!(parts.as_slice(), [y, m, d]
        if y.len() == 4 && m.len() == 2 && d.len() == 2
            && [y, m, d].iter().all(|p| p.bytes().all(|b| b.is_ascii_digit()))
            && *y >= "2025")
}

/// The query of a request, first value of each parameter.
#[derive(Debug, Default)]
pub struct Query {
    /// `api-version`.
    pub api_version: Option<String>,
    /// `maxresults`.
    pub max_results: Option<String>,
    /// `$skiptoken`.
    pub skip_token: Option<String>,
}

impl Query {
    /// Parses a query string.
    pub fn parse(query: Option<&str>) -> Self {
        let mut out = Query::default();
        for (key, value) in form_urlencoded::parse(query.unwrap_or_default().as_bytes()) {
            let slot = match key.as_ref() {
                k if k.eq_ignore_ascii_case("api-version") => &mut out.api_version,
                k if k.eq_ignore_ascii_case("maxresults") => &mut out.max_results,
                k if k.eq_ignore_ascii_case("$skiptoken") => &mut out.skip_token,
                _ => continue,
            };
            if slot.is_none() {
                *slot = Some(value.into_owned());
            }
        }
        out
    }

    /// The api-version, if Key Vault serves it.
    pub fn require_api_version(&self) -> Result<&str, KeyVaultError> {
        match self.api_version.as_deref() {
            Some(v) if is_supported_api_version(v) => Ok(v),
            Some(v) => Err(KeyVaultError::bad_parameter(format!(
                "The specified version ({v}) is not recognized. Consider using the latest supported version ({LATEST_API_VERSION})."
            ))),
            None => Err(KeyVaultError::bad_parameter(
                "The api-version query parameter is missing. Consider using the latest supported version (7.6).",
            )),
        }
    }

    /// The page: where to start and how many (1–25, default 25).
    pub fn page(&self) -> Result<(usize, usize), KeyVaultError> {
        let size = match self.max_results.as_deref() {
            None | Some("") => 25,
            Some(text) => text
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=25).contains(n))
                .ok_or_else(|| {
                    KeyVaultError::bad_parameter(format!(
                        "Invalid value for parameter maxresults: {text}. It must be between 1 and 25."
                    ))
                })?,
        };
        let start = match self.skip_token.as_deref() {
            None | Some("") => 0,
            Some(token) => token
                .parse()
                .map_err(|_| KeyVaultError::bad_parameter("The $skiptoken is invalid."))?,
        };
        Ok((start, size))
    }
}

/// `attributes` of a request.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributesRequest {
    /// `enabled`.
    pub enabled: Option<bool>,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `exp`.
    pub exp: Option<i64>,
}

/// The body of Set Secret.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SetSecretRequest {
    /// `value` (required).
    pub value: Option<String>,
    /// `contentType`.
    pub content_type: Option<String>,
    /// `tags`.
    pub tags: Option<BTreeMap<String, String>>,
    /// `attributes`.
    #[serde(default)]
    pub attributes: Option<AttributesRequest>,
}

/// The body of Update Secret: what is given replaces, what is omitted stays.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSecretRequest {
    /// `contentType`.
    pub content_type: Option<String>,
    /// `tags`.
    pub tags: Option<BTreeMap<String, String>>,
    /// `attributes`.
    pub attributes: Option<AttributesRequest>,
}

/// Parses a JSON body into `T`, as a 400 `BadParameter` when it does not fit.
pub fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, KeyVaultError> {
    serde_json::from_slice(body)
        .map_err(|e| KeyVaultError::bad_parameter(format!("The request body is not valid: {e}.")))
}

/// Checks the limits on content type and tags (reference §1.3).
pub fn check_properties(
    content_type: Option<&str>,
    tags: Option<&BTreeMap<String, String>>,
) -> Result<(), KeyVaultError> {
    if content_type.is_some_and(|c| c.chars().count() > 255) {
        return Err(KeyVaultError::bad_parameter(
            "The content type must be at most 255 characters long.",
        ));
    }
    if let Some(tags) = tags {
        if tags.len() > 15 {
            return Err(KeyVaultError::bad_parameter(
                "A secret has at most 15 tags.",
            ));
        }
        if tags
            .iter()
            .any(|(k, v)| k.chars().count() > 512 || v.chars().count() > 512)
        {
            return Err(KeyVaultError::bad_parameter(
                "Tag names and values must be at most 512 characters long.",
            ));
        }
    }
    Ok(())
}

/// Where ids point: `https://<host as the client sent it>`.
#[derive(Debug, Clone)]
pub struct VaultUrl(pub String);

impl VaultUrl {
    /// `…/secrets/{name}/{version}`, or `…/secrets/{name}` without a version.
    pub fn secret_id(&self, name: &str, version: Option<&str>) -> String {
        match version {
            Some(version) => format!("{}/secrets/{name}/{version}", self.0),
            None => format!("{}/secrets/{name}", self.0),
        }
    }

    /// `…/deletedsecrets/{name}`.
    pub fn recovery_id(&self, name: &str) -> String {
        format!("{}/deletedsecrets/{name}", self.0)
    }
}

/// One page of a list, with the `nextLink` to the next page (null on the last).
pub fn page<T: Serialize>(
    items: Vec<T>,
    (start, size): (usize, usize),
    next_base: &str,
    api_version: &str,
) -> Value {
    let total = items.len();
    let value: Vec<T> = items.into_iter().skip(start).take(size).collect();
    let next = start.saturating_add(size);
    let next_link = (next < total).then(|| {
        format!("{next_base}?api-version={api_version}&$skiptoken={next}&maxresults={size}")
    });
    json!({ "value": value, "nextLink": next_link })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_versions_of_every_sdk_are_served() {
        for v in [
            "2016-10-01",
            "7.0",
            "7.1",
            "7.2",
            "7.3",
            "7.4",
            "7.5",
            "7.6",
            "7.6-preview.2",
            "2025-06-01",
            "2025-07-01",
            "2026-03-01-preview",
        ] {
            assert!(is_supported_api_version(v), "{v}");
        }
        for v in [
            "",
            "7.7",
            "8.0",
            "2015-06-01",
            "2016-10-02",
            "latest",
            "2024-01-01",
        ] {
            assert!(!is_supported_api_version(v), "{v}");
        }
    }

    #[test]
    fn unknown_and_missing_api_versions_are_bad_parameters() {
        let err = Query::parse(Some("api-version=9.9"))
            .require_api_version()
            .unwrap_err();
        assert_eq!(err.code, "BadParameter");
        assert_eq!(
            err.message,
            "The specified version (9.9) is not recognized. Consider using the latest supported version (7.6)."
        );
        assert_eq!(
            Query::parse(None).require_api_version().unwrap_err().status,
            400
        );
    }

    #[test]
    fn pages_link_to_the_next_until_the_last() {
        let items: Vec<Value> = (0..5).map(|i| json!(i)).collect();
        let base = "https://kv.vault.azure.net:8443/secrets";
        let first = page(items.clone(), (0, 2), base, "7.4");
        assert_eq!(first["value"], json!([0, 1]));
        assert_eq!(
            first["nextLink"],
            "https://kv.vault.azure.net:8443/secrets?api-version=7.4&$skiptoken=2&maxresults=2"
        );
        let q = Query::parse(Some("api-version=7.4&$skiptoken=4&maxresults=2"));
        let last = page(items, q.page().unwrap(), base, "7.4");
        assert_eq!(last["value"], json!([4]));
        assert_eq!(last["nextLink"], Value::Null);
        assert!(Query::parse(Some("maxresults=26")).page().is_err());
        assert!(Query::parse(Some("maxresults=0")).page().is_err());
        assert_eq!(Query::parse(Some("maxresults=")).page().unwrap(), (0, 25));
    }
}
