//! Bearer-token authentication in ARM's words, shared by every route that ARM's rules
//! govern (ARM itself, and azlite's admin routes).
//!
//! 401 policy: no `Authorization` header → `AuthenticationFailed`; a header that is not
//! `Bearer <token>` → `AuthenticationFailedInvalidHeader`; a token that fails verification →
//! `InvalidAuthenticationToken` (with the verifier's reason in the message),
//! `InvalidAuthenticationTokenAudience` or `ExpiredAuthenticationToken`. Every 401 carries a
//! `WWW-Authenticate` challenge naming the authority, as ARM's does.

use axum::http::{HeaderMap, StatusCode, header};
use std::sync::Arc;

use azlite_token::{
    IssuerPolicy, KeyRing, SignatureCache, TokenError, Validation, VerifiedToken, verify,
    verify_shared, verify_with_cache,
};
use azlite_types::UnixTime;
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::ArmError;

/// The audiences ARM accepts (reference: arm-rbac-protocol.md §1.9).
pub const ARM_AUDIENCES: [&str; 4] = [
    "https://management.core.windows.net/",
    "https://management.core.windows.net",
    "https://management.azure.com/",
    "https://management.azure.com",
];

/// `M/d/yyyy h:mm:ss tt`, the .NET format ARM prints times in.
fn arm_time(t: UnixTime) -> String {
    let Ok(d) = OffsetDateTime::from_unix_timestamp(t) else {
        return t.to_string();
    };
    let hour12 = match d.hour() % 12 {
        0 => 12,
        h => h,
    };
    let tail = d
        .format(format_description!("[minute]:[second]"))
        .unwrap_or_default();
    let meridiem = if d.hour() < 12 { "AM" } else { "PM" };
    format!(
        "{}/{}/{} {hour12}:{tail} {meridiem}",
        u8::from(d.month()),
        d.day(),
        d.year()
    )
}

/// Maps a verifier failure to ARM's 401.
pub fn arm_token_error(error: &TokenError) -> ArmError {
    let unauthorized =
        |code, message: String| ArmError::new(StatusCode::UNAUTHORIZED, code, message);
    match error {
        TokenError::Expired { exp, now } => unauthorized(
            "ExpiredAuthenticationToken",
            format!(
                "The access token expiry UTC time '{}' is earlier than current UTC time '{}'.",
                arm_time(*exp),
                arm_time(*now)
            ),
        ),
        TokenError::InvalidAudience(aud) => unauthorized(
            "InvalidAuthenticationTokenAudience",
            format!(
                "The access token has been obtained for wrong audience or resource '{aud}'. It should exactly match with one of the allowed audiences {}.",
                ARM_AUDIENCES.map(|a| format!("'{a}'")).join(",")
            ),
        ),
        other => unauthorized(
            "InvalidAuthenticationToken",
            format!("The access token is invalid. {other}"),
        ),
    }
}

/// Verifies the bearer token of a request for an ARM-audience route.
pub fn authenticate(
    headers: &HeaderMap,
    keys: &KeyRing,
    issuers: IssuerPolicy,
    now: UnixTime,
) -> Result<VerifiedToken, ArmError> {
    authenticate_with_cache(headers, keys, issuers, now, None)
}

/// [`authenticate`], skipping the signature check of a token `signatures` saw verified
/// (`azlite_token::verify_with_cache`: every other check still runs).
pub fn authenticate_with_cache(
    headers: &HeaderMap,
    keys: &KeyRing,
    issuers: IssuerPolicy,
    now: UnixTime,
    signatures: Option<&SignatureCache>,
) -> Result<VerifiedToken, ArmError> {
    let token = bearer(headers)?;
    let validation = validation(issuers);
    match signatures {
        Some(cache) => verify_with_cache(token, keys, &validation, now, cache),
        None => verify(token, keys, &validation, now),
    }
    .map_err(|e| arm_token_error(&e))
}

/// [`authenticate_with_cache`] with the validation built once ([`validation`]), answering
/// with the signature cache's own copy of the verified token: ARM's hot path.
pub fn authenticate_shared(
    headers: &HeaderMap,
    keys: &KeyRing,
    validation: &Validation,
    now: UnixTime,
    signatures: &SignatureCache,
) -> Result<Arc<VerifiedToken>, ArmError> {
    verify_shared(bearer(headers)?, keys, validation, now, signatures)
        .map_err(|e| arm_token_error(&e))
}

/// What a token for ARM must be: one of [`ARM_AUDIENCES`], from an issuer `issuers` accepts.
pub fn validation(issuers: IssuerPolicy) -> Validation {
    Validation::new(
        ARM_AUDIENCES.iter().map(|a| (*a).to_owned()).collect(),
        issuers,
    )
}

/// The bearer token of a request, or ARM's 401 for a missing or malformed header.
fn bearer(headers: &HeaderMap) -> Result<&str, ArmError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Err(ArmError::new(
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    value
        .to_str()
        .ok()
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
        .ok_or_else(|| {
            ArmError::new(
                StatusCode::UNAUTHORIZED,
                "AuthenticationFailedInvalidHeader",
                "Authentication failed. The 'Authorization' header is provided in an invalid format.",
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn times_are_printed_the_dotnet_way() {
        assert_eq!(arm_time(1_452_304_932), "1/9/2016 2:02:12 AM");
        assert_eq!(arm_time(1_452_350_000), "1/9/2016 2:33:20 PM");
        assert_eq!(arm_time(1_452_297_600), "1/9/2016 12:00:00 AM");
    }

    #[test]
    fn missing_and_malformed_headers_have_their_own_codes() {
        let ring = KeyRing::from_jwks(&Default::default()).unwrap();
        let err =
            authenticate(&HeaderMap::new(), &ring, IssuerPolicy::AnyEntraTenant, 0).unwrap_err();
        assert_eq!(err.code, "AuthenticationFailed");
        let mut h = HeaderMap::new();
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        let err = authenticate(&h, &ring, IssuerPolicy::AnyEntraTenant, 0).unwrap_err();
        assert_eq!(err.code, "AuthenticationFailedInvalidHeader");
    }
}
