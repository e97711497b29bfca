//! Authentication in Key Vault's words: the challenge, and the caller of a verified token.
//!
//! Key Vault's clients discover where to get a token from the 401 they provoke with a first
//! request that carries no token and no body (reference §1.7). So a request without a
//! bearer token is answered with the challenge before anything else about it is looked at
//! (its body is never read); the challenge names the vault's tenant at azlite's authority
//! and the resource `https://<vault suffix>`, whose host every vault host ends with (the
//! SDKs check that).
//!
//! Accepted tokens: RS256 signed by the STS (`azlite_token::verify`), audience exactly
//! `https://` + the configured suffix (`https://vault.azure.net`) or Key Vault's app id,
//! issuer of the token's own tenant, which must be the vault's. A token for
//! `https://vault.azure.net/` (trailing slash) is refused with 401 AKV10022, as Key Vault
//! refuses it (reference §0.2).

use axum::http::{HeaderMap, StatusCode, header};
use std::sync::Arc;

use azlite_token::{
    IssuerPolicy, KeyRing, SignatureCache, TokenError, Validation, VerifiedToken, verify_shared,
};
use azlite_types::{ObjectId, TenantId, UnixTime};

use crate::KeyVaultError;

/// Azure Key Vault's first-party application id, the `aud` of a v2 token for it.
pub const KEY_VAULT_APP_ID: &str = "cfa8b339-82a2-471a-a3c9-0fc0be7a4093";

/// The resource Azure's vaults name in their challenge.
pub const AZURE_VAULT_RESOURCE: &str = "https://vault.azure.net";

/// Who is calling.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `oid`: the principal access policies and role assignments name.
    pub object_id: ObjectId,
    /// `tid`.
    pub tenant_id: TenantId,
    /// The verified token (shared with the signature cache: nothing is copied per request).
    token: Arc<VerifiedToken>,
}

impl Caller {
    /// `appid` (v1) or `azp` (v2): the client application, for compound access policies.
    pub fn app_id(&self) -> Option<&str> {
        let claims = &self.token.claims;
        claims.appid.as_deref().or(claims.azp.as_deref())
    }

    /// `iss`, for error messages.
    pub fn issuer(&self) -> &str {
        &self.token.claims.iss
    }

    /// How Key Vault names the caller in a 403: `appid=…;oid=…;iss=…`.
    pub fn describe(&self) -> String {
        format!(
            "appid={};oid={};iss={}",
            self.app_id().unwrap_or_default(),
            self.object_id,
            self.issuer()
        )
    }
}

/// The challenge of a 401 for a vault of `tenant`.
pub(crate) fn challenge(authority: &str, resource: &str, tenant: TenantId) -> String {
    format!(
        "Bearer authorization=\"{}/{tenant}\", resource=\"{resource}\"",
        authority.trim_end_matches('/')
    )
}

/// The audiences a vault accepts: exactly the resource of the challenge (no trailing
/// slash: Key Vault answers AKV10022 for `https://vault.azure.net/`) and Key Vault's app id.
pub(crate) fn audiences(resource: &str) -> Vec<String> {
    vec![
        resource.trim_end_matches('/').to_owned(),
        KEY_VAULT_APP_ID.to_owned(),
    ]
}

/// The bearer token of a request, if it has one.
pub(crate) fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
}

/// What a token for `resource` must be: one of [`audiences`], from its own tenant (the
/// vault's tenant is checked after).
pub(crate) fn validation(resource: &str) -> Validation {
    Validation::new(audiences(resource), IssuerPolicy::AnyEntraTenant)
}

/// What the verifier needs for one request.
pub(crate) struct Verifier<'a> {
    /// The STS's keys.
    pub(crate) keys: &'a KeyRing,
    /// Tokens whose signature was already verified.
    pub(crate) signatures: &'a SignatureCache,
    /// [`validation`] of the resource.
    pub(crate) validation: &'a Validation,
    /// The resource of the challenge.
    pub(crate) resource: &'a str,
    /// The vault's tenant.
    pub(crate) tenant: TenantId,
    /// Now.
    pub(crate) now: UnixTime,
}

impl Verifier<'_> {
    /// Verifies `token`; every failure is a 401 (the caller adds the challenge).
    pub(crate) fn verify(&self, token: &str) -> Result<Caller, KeyVaultError> {
        let unauthorized =
            |message: String| KeyVaultError::new(StatusCode::UNAUTHORIZED, "Unauthorized", message);
        let verified = verify_shared(token, self.keys, self.validation, self.now, self.signatures);
        let verified = verified.map_err(|e| match e {
            TokenError::InvalidAudience(found) => unauthorized(format!(
                "AKV10022: Invalid audience. Expected {} or {KEY_VAULT_APP_ID}, found: {found}.",
                self.resource.trim_end_matches('/')
            )),
            TokenError::InvalidIssuer(found) => self.invalid_issuer(&found),
            TokenError::Expired { .. } | TokenError::NotYetValid { .. } => {
                unauthorized(format!("AKV10021: Token is not valid at this time: {e}."))
            }
            TokenError::InvalidSignature | TokenError::UnknownKey(_) | TokenError::MissingKeyId => {
                unauthorized(format!("AKV10013: Invalid token signature: {e}."))
            }
            other => unauthorized(format!("AKV10014: Invalid token: {other}.")),
        })?;
        let claims = &verified.claims;
        let tenant_id: TenantId = claims
            .tid
            .parse()
            .map_err(|_| self.invalid_issuer(&claims.iss))?;
        if tenant_id != self.tenant {
            return Err(self.invalid_issuer(&claims.iss));
        }
        let object_id: ObjectId = claims.oid.parse().map_err(|_| {
            unauthorized("AKV10014: Invalid token: the 'oid' claim is not an object id.".into())
        })?;
        Ok(Caller {
            object_id,
            tenant_id,
            token: verified,
        })
    }

    fn invalid_issuer(&self, found: &str) -> KeyVaultError {
        KeyVaultError::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            format!(
                "AKV10032: Invalid issuer. Expected one of https://sts.windows.net/{}/, found {found}.",
                self.tenant
            ),
        )
    }
}

/// The 401 of a request without a bearer token.
pub(crate) fn missing_token() -> KeyVaultError {
    KeyVaultError::new(
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "AKV10000: Request is missing a Bearer or PoP token.",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn the_challenge_has_the_shape_clients_parse() {
        let tenant: TenantId = "00000000-0000-0000-0000-0000000000aa".parse().unwrap();
        assert_eq!(
            challenge(
                "https://login.microsoftonline.com/",
                AZURE_VAULT_RESOURCE,
                tenant
            ),
            "Bearer authorization=\"https://login.microsoftonline.com/00000000-0000-0000-0000-0000000000aa\", resource=\"https://vault.azure.net\""
        );
    }

    #[test]
    fn audiences_are_exactly_the_resource_without_slash_and_the_app_id() {
        assert_eq!(
            audiences("https://vault.azure.net"),
            ["https://vault.azure.net", KEY_VAULT_APP_ID]
        );
        assert_eq!(
            audiences("https://vault.example/"),
            ["https://vault.example", KEY_VAULT_APP_ID]
        );
    }

    #[test]
    fn only_bearer_tokens_count() {
        let mut headers = HeaderMap::new();
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic x"));
        assert_eq!(bearer(&headers), None);
        headers.insert(header::AUTHORIZATION, HeaderValue::from_static("Bearer  "));
        assert_eq!(bearer(&headers), None);
        headers.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        assert_eq!(bearer(&headers), Some("abc"));
    }
}
