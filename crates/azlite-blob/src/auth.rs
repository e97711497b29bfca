//! Authentication: which credential a request carries ([`Credential`]), and the Bearer
//! checks (reference dataplane §2.5).
//!
//! A Bearer token is accepted only over TLS (every SDK refuses to send one over plain HTTP,
//! and Azurite refuses it there), only with `x-ms-version` 2017-11-09 or later, with an
//! audience of `https://storage.azure.com`, Storage's app id, or the account's own blob
//! URL (each with or without a trailing slash), and from the account's tenant. Shared Key,
//! Shared Key Lite and SAS are recognized here and verified in `signed` with
//! `azlite-storage-auth`.

use axum::http::{HeaderMap, StatusCode, header};
use azlite_token::{
    IssuerPolicy, KeyRing, SignatureCache, TokenError, Validation, verify_with_cache,
};
use azlite_types::{ObjectId, TenantId, UnixTime};

use crate::BlobError;

/// Azure Storage's first-party application id (a v2 token's `aud`).
pub const STORAGE_APP_ID: &str = "e406a681-f3d4-42a8-90b6-c2b029497af1";
/// The resource Azure Storage names in its challenge.
pub const STORAGE_RESOURCE: &str = "https://storage.azure.com";
/// The oldest `x-ms-version` that accepts Bearer tokens.
pub const BEARER_MIN_VERSION: &str = "2017-11-09";

/// The credential a request carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    /// `Authorization: Bearer <token>`.
    Bearer(String),
    /// `Authorization: SharedKey <account>:<signature>`.
    SharedKey {
        /// The account named.
        account: String,
        /// The base64 signature.
        signature: String,
    },
    /// `Authorization: SharedKeyLite <account>:<signature>`.
    SharedKeyLite {
        /// The account named.
        account: String,
        /// The base64 signature.
        signature: String,
    },
    /// A shared access signature in the query (`sig=`).
    Sas,
    /// Nothing.
    Anonymous,
}

impl Credential {
    /// The credential of a request; an `Authorization` header of another scheme, or a
    /// malformed one, is an error.
    pub fn of(headers: &HeaderMap, query: &crate::request::Query) -> Result<Self, BlobError> {
        let Some(value) = headers.get(header::AUTHORIZATION) else {
            return Ok(if query.get("sig").is_some() {
                Self::Sas
            } else {
                Self::Anonymous
            });
        };
        let text = value
            .to_str()
            .map_err(|_| invalid_authorization("<binary>"))?;
        let (scheme, rest) = text
            .trim()
            .split_once(' ')
            .ok_or_else(|| invalid_authorization(text))?;
        let rest = rest.trim();
        let key_parts = || {
            rest.split_once(':')
                .filter(|(account, signature)| !account.is_empty() && !signature.is_empty())
                .map(|(account, signature)| (account.to_owned(), signature.to_owned()))
                .ok_or_else(|| invalid_authorization(text))
        };
        match scheme {
            s if s.eq_ignore_ascii_case("bearer") && !rest.is_empty() => {
                Ok(Self::Bearer(rest.to_owned()))
            }
            "SharedKey" => {
                key_parts().map(|(account, signature)| Self::SharedKey { account, signature })
            }
            "SharedKeyLite" => {
                key_parts().map(|(account, signature)| Self::SharedKeyLite { account, signature })
            }
            _ => Err(invalid_authorization(text)),
        }
    }
}

fn invalid_authorization(value: &str) -> BlobError {
    BlobError::new(
        StatusCode::BAD_REQUEST,
        "InvalidAuthenticationInfo",
        "Authentication information is not given in the correct format. Check the value of Authorization header.",
    )
    .with_detail("HeaderName", "Authorization")
    .with_detail("HeaderValue", value)
}

/// Who is calling, from a verified token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Caller {
    /// `oid`: the principal role assignments name.
    pub object_id: ObjectId,
    /// `tid`.
    pub tenant_id: TenantId,
}

/// The challenge of a 401 for an account of `tenant`, in the form Azure Storage sends
/// (space-separated, unquoted; the SDKs split on spaces when there is no comma).
pub fn challenge(authority: &str, tenant: TenantId) -> String {
    format!(
        "Bearer authorization_uri={}/{tenant}/oauth2/authorize resource_id={STORAGE_RESOURCE}",
        authority.trim_end_matches('/')
    )
}

/// The audiences an account accepts.
pub fn audiences(account_url: &str) -> Vec<String> {
    let account_url = account_url.trim_end_matches('/');
    vec![
        STORAGE_RESOURCE.to_owned(),
        format!("{STORAGE_RESOURCE}/"),
        STORAGE_APP_ID.to_owned(),
        account_url.to_owned(),
        format!("{account_url}/"),
    ]
}

/// 403 `AuthenticationFailed` with its detail.
pub fn authentication_failed(detail: &str) -> BlobError {
    BlobError::new(
        StatusCode::FORBIDDEN,
        "AuthenticationFailed",
        "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.",
    )
    .with_detail("AuthenticationErrorDetail", detail)
}

/// 401 `InvalidAuthenticationInfo` (the caller adds the challenge).
fn invalid_token(detail: &str) -> BlobError {
    BlobError::new(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationInfo",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    )
    .with_detail("AuthenticationErrorDetail", detail)
}

/// 401 `NoAuthenticationInformation` (the caller adds the challenge).
pub fn no_authentication() -> BlobError {
    BlobError::new(
        StatusCode::UNAUTHORIZED,
        "NoAuthenticationInformation",
        "Server failed to authenticate the request. Please refer to the information in the www-authenticate header.",
    )
}

/// What verifying one request's token needs.
pub struct Verifier<'a> {
    /// The STS's keys.
    pub keys: &'a KeyRing,
    /// Tokens whose signature was already verified.
    pub signatures: &'a SignatureCache,
    /// The account's blob URL (`https://<account>.blob.core.windows.net`).
    pub account_url: &'a str,
    /// The account's tenant.
    pub tenant: TenantId,
    /// Now.
    pub now: UnixTime,
}

impl Verifier<'_> {
    /// Verifies `token`; every failure is a 401 `InvalidAuthenticationInfo` with Azure's
    /// detail (the caller adds the challenge).
    pub fn verify(&self, token: &str) -> Result<Caller, BlobError> {
        let validation = Validation::new(audiences(self.account_url), IssuerPolicy::AnyEntraTenant);
        let verified = verify_with_cache(token, self.keys, &validation, self.now, self.signatures)
            .map_err(|e| match e {
                TokenError::InvalidAudience(_) => {
                    invalid_token("Audience validation failed. Audience did not match.")
                }
                TokenError::InvalidIssuer(_) => {
                    invalid_token("Issuer validation failed. Issuer did not match.")
                }
                TokenError::Expired { .. } => {
                    invalid_token("Lifetime validation failed. The token is expired.")
                }
                TokenError::NotYetValid { .. } => {
                    invalid_token("Lifetime validation failed. The token is not yet valid.")
                }
                TokenError::InvalidSignature
                | TokenError::UnknownKey(_)
                | TokenError::MissingKeyId => {
                    invalid_token("Signature validation failed. Signature is invalid.")
                }
                other => invalid_token(&format!("The token is not valid: {other}.")),
            })?;
        let claims = verified.claims;
        let tenant_id: TenantId = claims
            .tid
            .parse()
            .map_err(|_| invalid_token("Issuer validation failed. Issuer did not match."))?;
        if tenant_id != self.tenant {
            return Err(invalid_token(
                "Issuer validation failed. Issuer did not match.",
            ));
        }
        let object_id = claims
            .oid
            .parse()
            .map_err(|_| invalid_token("The token has no valid 'oid' claim."))?;
        Ok(Caller {
            object_id,
            tenant_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn of(authorization: Option<&'static str>, query: &str) -> Result<Credential, BlobError> {
        let mut headers = HeaderMap::new();
        if let Some(value) = authorization {
            headers.insert(header::AUTHORIZATION, HeaderValue::from_static(value));
        }
        Credential::of(&headers, &crate::request::Query::parse(Some(query)))
    }

    #[test]
    fn credentials_are_recognized() {
        assert_eq!(of(None, "").unwrap(), Credential::Anonymous);
        assert_eq!(of(None, "sv=2020-01-01&sig=abc").unwrap(), Credential::Sas);
        assert_eq!(
            of(Some("Bearer t.o.k"), "").unwrap(),
            Credential::Bearer("t.o.k".into())
        );
        assert_eq!(
            of(Some("SharedKey acct:c2ln"), "").unwrap(),
            Credential::SharedKey {
                account: "acct".into(),
                signature: "c2ln".into()
            }
        );
        assert!(matches!(
            of(Some("SharedKeyLite a:b"), "").unwrap(),
            Credential::SharedKeyLite { .. }
        ));
        for bad in ["Basic x", "SharedKey nocolon", "Bearer", "SharedKey :sig"] {
            assert_eq!(
                of(Some(bad), "").unwrap_err().code,
                "InvalidAuthenticationInfo",
                "{bad}"
            );
        }
    }

    #[test]
    fn the_challenge_is_the_form_clients_parse() {
        let tenant: TenantId = "00000000-0000-0000-0000-0000000000aa".parse().unwrap();
        assert_eq!(
            challenge("https://login.microsoftonline.com/", tenant),
            "Bearer authorization_uri=https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa/oauth2/authorize resource_id=https://storage.azure.com"
        );
    }
}
