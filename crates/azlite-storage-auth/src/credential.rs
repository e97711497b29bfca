//! Telling a storage request's credential apart, once, before anything else looks at it.
//!
//! The `Authorization` header wins when present: `Bearer` (checked by the service with
//! `azlite_token`), `SharedKey`/`SharedKeyLite` (checked by [`crate::shared_key`]); any
//! other form is Azure's 400 `InvalidAuthenticationInfo`. Without the header, a query with
//! `sig` is a SAS ([`crate::sas`]); otherwise the request is anonymous.

use crate::error::AuthError;
use crate::sas::SasFields;
use crate::shared_key::UnverifiedSharedKey;

/// The credential of a request, parsed but not verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnverifiedCredential<'a> {
    /// No credential at all.
    Anonymous,
    /// `Authorization: Bearer <token>`: the token text.
    Bearer(&'a str),
    /// `Authorization: SharedKey …` or `SharedKeyLite …`.
    SharedKey(UnverifiedSharedKey),
    /// A SAS in the query.
    Sas(Box<SasFields>),
}

impl UnverifiedCredential<'_> {
    /// Whether this credential is made with an account key (Shared Key, Shared Key Lite,
    /// a service or account SAS), which `allowSharedKeyAccess: false` refuses with
    /// [`AuthError::KeyBasedAuthenticationNotPermitted`]. A user delegation SAS is not.
    pub fn uses_account_key(&self) -> bool {
        match self {
            UnverifiedCredential::SharedKey(_) => true,
            UnverifiedCredential::Sas(f) => f.kind() != crate::sas::SasKind::UserDelegation,
            UnverifiedCredential::Anonymous | UnverifiedCredential::Bearer(_) => false,
        }
    }
}

/// Parses the credential of a request from its `Authorization` header (if any) and its
/// decoded query.
pub fn classify<'a>(
    authorization: Option<&'a str>,
    query: &[(String, String)],
) -> Result<UnverifiedCredential<'a>, AuthError> {
    if let Some(value) = authorization {
        let trimmed = value.trim();
        if let Some(token) = trimmed.strip_prefix("Bearer ") {
            return Ok(UnverifiedCredential::Bearer(token.trim()));
        }
        return UnverifiedSharedKey::parse(trimmed)
            .map(UnverifiedCredential::SharedKey)
            .ok_or(AuthError::InvalidAuthenticationInfo);
    }
    match SasFields::from_query(query)? {
        Some(fields) => Ok(UnverifiedCredential::Sas(Box::new(fields))),
        None => Ok(UnverifiedCredential::Anonymous),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_query;

    #[test]
    fn each_kind_of_credential() {
        let none = parse_query("comp=list");
        let sas = parse_query("sv=2015-04-05&sr=c&sig=x");
        let udsas = parse_query("sv=2020-12-06&sr=c&skoid=o&sig=x");
        assert_eq!(
            classify(None, &none).unwrap(),
            UnverifiedCredential::Anonymous
        );
        assert_eq!(
            classify(Some("Bearer abc"), &sas).unwrap(),
            UnverifiedCredential::Bearer("abc")
        );
        let sk = classify(Some("SharedKey acct:sig"), &none).unwrap();
        assert!(matches!(sk, UnverifiedCredential::SharedKey(_)));
        assert!(sk.uses_account_key());
        let s = classify(None, &sas).unwrap();
        assert!(matches!(s, UnverifiedCredential::Sas(_)) && s.uses_account_key());
        assert!(!classify(None, &udsas).unwrap().uses_account_key());
        let bad = classify(Some("Basic dXNlcjpwYXNz"), &none).unwrap_err();
        assert_eq!(bad, AuthError::InvalidAuthenticationInfo);
        assert_eq!(bad.status(), 400);
        assert_eq!(
            AuthError::KeyBasedAuthenticationNotPermitted.message(),
            "Key based authentication is not permitted on this storage account."
        );
    }
}
