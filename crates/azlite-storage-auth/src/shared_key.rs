//! Shared Key and Shared Key Lite (Blob form): `Authorization: SharedKey <account>:<sig>`.
//!
//! Spec: "Authorize with Shared Key" (learn.microsoft.com, rest/api/storageservices), checked
//! against azure-storage-blob's `SharedKeyCredentialPolicy`, which is what clients send:
//!
//! ```text
//! SharedKey (x-ms-version 2009-09-19 and later):
//!   VERB \n Content-Encoding \n Content-Language \n Content-Length \n Content-MD5 \n
//!   Content-Type \n Date \n If-Modified-Since \n If-Match \n If-None-Match \n
//!   If-Unmodified-Since \n Range \n CanonicalizedHeaders CanonicalizedResource
//! SharedKeyLite:
//!   VERB \n Content-MD5 \n Content-Type \n Date \n CanonicalizedHeaders LiteResource
//! ```
//!
//! * `Content-Length` is an empty line when it is `0`, from version 2015-02-21 on.
//! * CanonicalizedHeaders: every `x-ms-*` header, name lowercased, value trimmed, repeated
//!   headers joined by `,`, one `name:value\n` each, in the service's order
//!   ([`crate::header_order`]).
//! * CanonicalizedResource: `/` + account + the URI path as sent (still percent-encoded;
//!   path-style URLs therefore name the account twice), then one `\nname:value` per query
//!   parameter, names lowercased and sorted, values decoded, several values of one name
//!   sorted and joined by `,`.
//! * The Lite resource (and Shared Key before 2009-09-19): `/` + account + path, plus
//!   `?comp=<value>` when the query has `comp`.
//!
//! The request must carry `x-ms-date` (or `Date`) no more than 15 minutes away from the
//! server's clock ("The storage service ensures that a request is no older than 15 minutes").

use std::cmp::Ordering;

use time::{Duration, OffsetDateTime};

use crate::error::AuthError;
use crate::header_order::compare_header_names;
use crate::keys::AccountKey;
use crate::times::{format_rfc1123, parse_rfc1123};
use crate::version::ServiceVersion;

/// How far `x-ms-date`/`Date` may be from the server's clock.
pub const MAX_CLOCK_SKEW: Duration = Duration::minutes(15);

/// The two Shared Key schemes of the `Authorization` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SharedKeyScheme {
    /// `SharedKey`.
    SharedKey,
    /// `SharedKeyLite`.
    SharedKeyLite,
}

impl SharedKeyScheme {
    /// The scheme's name in the header.
    pub fn as_str(self) -> &'static str {
        match self {
            SharedKeyScheme::SharedKey => "SharedKey",
            SharedKeyScheme::SharedKeyLite => "SharedKeyLite",
        }
    }
}

/// A parsed `Authorization: SharedKey[Lite] <account>:<signature>` header, not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnverifiedSharedKey {
    /// Which of the two schemes.
    pub scheme: SharedKeyScheme,
    /// The account the client says it signs for.
    pub account: String,
    /// The base64 signature as sent.
    pub signature: String,
}

impl UnverifiedSharedKey {
    /// Parses the header's value; `None` when it is not a Shared Key header at all or is
    /// malformed (no `:`, empty account or signature).
    pub fn parse(value: &str) -> Option<Self> {
        let (scheme, rest) = value.trim().split_once(' ')?;
        let scheme = match scheme {
            "SharedKey" => SharedKeyScheme::SharedKey,
            "SharedKeyLite" => SharedKeyScheme::SharedKeyLite,
            _ => return None,
        };
        let (account, signature) = rest.trim().split_once(':')?;
        if account.is_empty() || signature.is_empty() {
            return None;
        }
        Some(Self {
            scheme,
            account: account.to_owned(),
            signature: signature.to_owned(),
        })
    }
}

/// The parts of an HTTP request that a Shared Key signature covers.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    /// `GET`, `PUT`, …, as sent.
    pub method: &'a str,
    /// The account addressed (from the host name, or the first path segment path-style).
    pub account: &'a str,
    /// The URI path exactly as sent, percent-encoding kept (`/c/b`, or
    /// `/devstoreaccount1/c/b` path-style).
    pub path: &'a str,
    /// The query parameters, decoded ([`crate::parse_query`]).
    pub query: &'a [(String, String)],
    /// Every request header, name and value as received.
    pub headers: &'a [(&'a str, &'a str)],
}

impl SignedRequest<'_> {
    /// The value of a header (case-insensitive name), repeated values joined by `,`.
    pub fn header(&self, name: &str) -> Option<String> {
        let mut values = self
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim());
        let first = values.next()?;
        Some(values.fold(first.to_owned(), |mut acc, v| {
            acc.push(',');
            acc.push_str(v);
            acc
        }))
    }

    /// `x-ms-version`, when present and well-formed.
    pub fn version(&self) -> Option<ServiceVersion> {
        self.header("x-ms-version")
            .and_then(|v| ServiceVersion::parse(&v))
    }
}

/// The string a Shared Key or Shared Key Lite signature is computed over.
pub fn string_to_sign(scheme: SharedKeyScheme, request: &SignedRequest<'_>) -> String {
    let version = request.version();
    let header = |name: &str| request.header(name).unwrap_or_default();
    let mut out = String::with_capacity(256);
    out.push_str(request.method);
    out.push('\n');
    match scheme {
        SharedKeyScheme::SharedKey => {
            let mut content_length = header("content-length");
            let zero_is_empty = version.is_none_or(|v| v >= ServiceVersion::V2015_02_21);
            if zero_is_empty && content_length == "0" {
                content_length.clear();
            }
            for value in [
                header("content-encoding"),
                header("content-language"),
                content_length,
                header("content-md5"),
                header("content-type"),
                header("date"),
                header("if-modified-since"),
                header("if-match"),
                header("if-none-match"),
                header("if-unmodified-since"),
                header("range"),
            ] {
                out.push_str(&value);
                out.push('\n');
            }
            canonicalized_headers(request, &mut out);
            if version.is_some_and(|v| v < ServiceVersion::V2009_09_19) {
                lite_resource(request, &mut out);
            } else {
                canonicalized_resource(request, &mut out);
            }
        }
        SharedKeyScheme::SharedKeyLite => {
            for value in [
                header("content-md5"),
                header("content-type"),
                header("date"),
            ] {
                out.push_str(&value);
                out.push('\n');
            }
            canonicalized_headers(request, &mut out);
            lite_resource(request, &mut out);
        }
    }
    out
}

fn canonicalized_headers(request: &SignedRequest<'_>, out: &mut String) {
    let mut names: Vec<String> = request
        .headers
        .iter()
        .map(|(n, _)| n.to_ascii_lowercase())
        .filter(|n| n.starts_with("x-ms-"))
        .collect();
    names.sort_by(|a, b| match compare_header_names(a, b) {
        Ordering::Equal => a.cmp(b),
        other => other,
    });
    names.dedup();
    for name in names {
        out.push_str(&name);
        out.push(':');
        out.push_str(&request.header(&name).unwrap_or_default());
        out.push('\n');
    }
}

fn canonicalized_resource(request: &SignedRequest<'_>, out: &mut String) {
    out.push('/');
    out.push_str(request.account);
    out.push_str(request.path);
    let mut params: Vec<(String, &str)> = request
        .query
        .iter()
        .map(|(n, v)| (n.to_lowercase(), v.as_str()))
        .collect();
    params.sort();
    let mut i = 0;
    while i < params.len() {
        let name = &params[i].0;
        let same: Vec<&str> = params[i..]
            .iter()
            .take_while(|(n, _)| n == name)
            .map(|(_, v)| *v)
            .collect();
        out.push('\n');
        out.push_str(name);
        out.push(':');
        out.push_str(&same.join(","));
        i += same.len();
    }
}

fn lite_resource(request: &SignedRequest<'_>, out: &mut String) {
    out.push('/');
    out.push_str(request.account);
    out.push_str(request.path);
    if let Some((_, comp)) = request
        .query
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("comp"))
    {
        out.push_str("?comp=");
        out.push_str(comp);
    }
}

/// The `Authorization` header value for `request` signed with `key`.
pub fn sign(scheme: SharedKeyScheme, request: &SignedRequest<'_>, key: &AccountKey) -> String {
    let signature = key.sign(&string_to_sign(scheme, request));
    format!("{} {}:{}", scheme.as_str(), request.account, signature)
}

/// Verifies a Shared Key or Shared Key Lite request: the account named in the header is the
/// one addressed, `x-ms-date`/`Date` is within [`MAX_CLOCK_SKEW`] of `now`, and the
/// signature is one of `keys`' (both account keys are tried), compared in constant time.
pub fn verify(
    credential: &UnverifiedSharedKey,
    request: &SignedRequest<'_>,
    keys: &[AccountKey],
    now: OffsetDateTime,
) -> Result<(), AuthError> {
    let string_to_sign = string_to_sign(credential.scheme, request);
    let mac_mismatch = || {
        AuthError::authentication_failed(format!(
            "The MAC signature found in the HTTP request '{}' is not the same as any computed signature. Server used following string to sign: '{}'.",
            credential.signature, string_to_sign
        ))
    };
    if credential.account != request.account {
        // Azure computes the signature for the account addressed, so a header naming
        // another account cannot match.
        return Err(mac_mismatch());
    }
    check_request_date(request, now)?;
    if keys
        .iter()
        .any(|key| key.verify(&string_to_sign, &credential.signature))
    {
        Ok(())
    } else {
        Err(mac_mismatch())
    }
}

fn check_request_date(request: &SignedRequest<'_>, now: OffsetDateTime) -> Result<(), AuthError> {
    let Some(text) = request
        .header("x-ms-date")
        .filter(|v| !v.is_empty())
        .or_else(|| request.header("date").filter(|v| !v.is_empty()))
    else {
        return Err(AuthError::authentication_failed(
            "Request date header not specified",
        ));
    };
    let Some(date) = parse_rfc1123(&text) else {
        return Err(AuthError::authentication_failed(format!(
            "The request date header '{text}' is not a valid RFC 1123 date."
        )));
    };
    if date < now - MAX_CLOCK_SKEW {
        return Err(AuthError::authentication_failed(format!(
            "Request date header too old: '{}'",
            format_rfc1123(date)
        )));
    }
    if date > now + MAX_CLOCK_SKEW {
        return Err(AuthError::authentication_failed(format!(
            "Request date header too far in the future: '{}'",
            format_rfc1123(date)
        )));
    }
    Ok(())
}
