//! User delegation keys, derived rather than stored.
//!
//! `Get User Delegation Key` hands a Microsoft Entra principal a key (`Value`, base64) bound
//! to its object id, tenant, validity and version; a user delegation SAS is signed with that
//! value and carries the same fields (`skoid`, `sktid`, `skt`, `ske`, `sks`, `skv`, and
//! `skdutid` from 2025-07-05). Azure never shows how it keeps the key; azlite keeps nothing:
//!
//! ```text
//! Value = HMAC-SHA256(server secret,
//!         "azlite-udk-v1\n" account "\n" skoid "\n" sktid "\n" skt "\n" ske "\n" sks "\n" skv
//!         [ "\n" skdutid ])
//! ```
//!
//! so the server recomputes the key from a SAS's own fields at verification. The fields are
//! the exact strings of the `UserDelegationKey` response (the SDKs copy them into the SAS
//! unchanged), and the account is part of the input so that a key issued for one account
//! signs nothing on another. The secret is the caller's (the server keeps it beside the
//! database); rotating it revokes every key at once.

use crate::keys::AccountKey;

/// The signed fields of a user delegation key, as strings exactly as issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserDelegationKeyFields<'a> {
    /// The storage account the key was issued by.
    pub account: &'a str,
    /// `SignedOid` / `skoid`: the principal's object id.
    pub object_id: &'a str,
    /// `SignedTid` / `sktid`: the principal's tenant.
    pub tenant_id: &'a str,
    /// `SignedStart` / `skt`.
    pub start: &'a str,
    /// `SignedExpiry` / `ske`.
    pub expiry: &'a str,
    /// `SignedService` / `sks` (`b`).
    pub service: &'a str,
    /// `SignedVersion` / `skv`: the `x-ms-version` of the request that got the key.
    pub version: &'a str,
    /// `SignedDelegatedUserTid` / `skdutid`, when the key was requested for a delegated user.
    pub delegated_user_tenant_id: Option<&'a str>,
}

/// Issues and re-derives user delegation keys from one server secret.
#[derive(Clone)]
pub struct UserDelegationKeyIssuer {
    secret: AccountKey,
}

impl std::fmt::Debug for UserDelegationKeyIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UserDelegationKeyIssuer(…)")
    }
}

impl UserDelegationKeyIssuer {
    /// An issuer over `secret` (32 random bytes or more, kept by the server).
    pub fn new(secret: &[u8]) -> Self {
        Self {
            secret: AccountKey::from_bytes(secret),
        }
    }

    /// The key for these fields: `Value` is its base64 ([`AccountKey::to_base64`]).
    pub fn derive(&self, fields: &UserDelegationKeyFields<'_>) -> AccountKey {
        let mut input = format!(
            "azlite-udk-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            fields.account,
            fields.object_id,
            fields.tenant_id,
            fields.start,
            fields.expiry,
            fields.service,
            fields.version
        );
        if let Some(tid) = fields.delegated_user_tenant_id {
            input.push('\n');
            input.push_str(tid);
        }
        let value = base64_decode(&self.secret.sign(&input));
        AccountKey::from_bytes(value)
    }
}

fn base64_decode(text: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_every_field_and_the_secret() {
        let issuer = UserDelegationKeyIssuer::new(b"0123456789abcdef0123456789abcdef");
        let base = UserDelegationKeyFields {
            account: "acct",
            object_id: "oid",
            tenant_id: "tid",
            start: "2026-01-01T00:00:00Z",
            expiry: "2026-01-02T00:00:00Z",
            service: "b",
            version: "2026-10-06",
            delegated_user_tenant_id: None,
        };
        let key = issuer.derive(&base);
        assert_eq!(key, issuer.derive(&base));
        assert_eq!(key.to_base64().len(), 44);
        let variants = [
            UserDelegationKeyFields {
                account: "other",
                ..base
            },
            UserDelegationKeyFields {
                object_id: "x",
                ..base
            },
            UserDelegationKeyFields {
                tenant_id: "x",
                ..base
            },
            UserDelegationKeyFields { start: "x", ..base },
            UserDelegationKeyFields {
                expiry: "x",
                ..base
            },
            UserDelegationKeyFields {
                service: "x",
                ..base
            },
            UserDelegationKeyFields {
                version: "x",
                ..base
            },
            UserDelegationKeyFields {
                delegated_user_tenant_id: Some("x"),
                ..base
            },
        ];
        for v in variants {
            assert_ne!(issuer.derive(&v), key, "{v:?}");
        }
        let other = UserDelegationKeyIssuer::new(b"another secret of 32 bytes......");
        assert_ne!(other.derive(&base), key);
    }
}
