//! Shared access signatures: the signed query fields, their string-to-sign for each kind and
//! version, verification against a request, and the permissions each Blob operation needs.
//!
//! Three kinds, told apart by their fields:
//! * account SAS (`ss`, `srt`), signed with an account key;
//! * user delegation SAS (`skoid`, `sktid`, `skt`, `ske`, `sks`, `skv`), signed with the value
//!   of a user delegation key ([`crate::udk`]);
//! * service SAS (everything else, `sr` required), signed with an account key.
//!
//! Signing (ARM's `listServiceSas`/`listAccountSas`, the CLI) and verification (Blob) build
//! the string-to-sign with the same functions in [`string_to_sign`].

pub mod arm;
mod checks;
pub mod permissions;
mod query;
pub mod string_to_sign;
pub mod verify;

pub use permissions::{BlobOperation, ResourceType, SasPermissions};
pub use verify::{Delegation, SasRequest, SignedScope, VerifiedSas, verify};

use crate::error::AuthError;
use crate::keys::AccountKey;
use crate::version::ServiceVersion;

/// The three kinds of SAS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SasKind {
    /// `ss`/`srt`: any resource of the listed services.
    Account,
    /// `sr`: one container or blob, signed with an account key.
    Service,
    /// `sr` plus the `sk*` fields: signed with a user delegation key.
    UserDelegation,
}

macro_rules! sas_fields {
    ($( $(#[$doc:meta])* $field:ident = $name:literal ),* $(,)?) => {
        /// Every SAS query field, decoded, exactly as it appears in (or will go into) the
        /// query. A field that is absent is `None`; the string-to-sign then has an empty line.
        #[derive(Debug, Clone, Default, PartialEq, Eq)]
        pub struct SasFields {
            $( $(#[$doc])* pub $field: Option<String>, )*
        }

        impl SasFields {
            /// The query names, in the order [`SasFields::to_query_string`] writes them.
            pub const NAMES: &'static [&'static str] = &[$($name),*];

            fn slot(&mut self, name: &str) -> Option<&mut Option<String>> {
                $( if name.eq_ignore_ascii_case($name) { return Some(&mut self.$field); } )*
                None
            }

            /// Every field, mutably (for the fuzz harness).
            pub(crate) fn slots_mut(&mut self) -> Vec<&mut Option<String>> {
                vec![$(&mut self.$field),*]
            }

            fn get(&self, name: &str) -> Option<&str> {
                $( if name == $name { return self.$field.as_deref(); } )*
                None
            }
        }
    };
}

sas_fields! {
    /// `sv`: the signed version, which selects the string-to-sign's layout.
    version = "sv",
    /// `ss`: account SAS services (`b`, `f`, `q`, `t`).
    services = "ss",
    /// `srt`: account SAS resource types (`s`, `c`, `o`).
    resource_types = "srt",
    /// `sr`: service SAS resource (`b`, `c`, `bs`, `bv`, `d`).
    resource = "sr",
    /// `sdd`: directory depth of an `sr=d` SAS.
    directory_depth = "sdd",
    /// `si`: a stored access policy's identifier.
    identifier = "si",
    /// `spr`: `https` or `https,http`.
    protocol = "spr",
    /// `sip`: one IP address or a range `a-b`.
    ip = "sip",
    /// `st`: start time (ISO 8601 UTC).
    start = "st",
    /// `se`: expiry time (ISO 8601 UTC).
    expiry = "se",
    /// `sp`: permission letters.
    permissions = "sp",
    /// `skoid`: user delegation key's object id (the signer).
    key_object_id = "skoid",
    /// `sktid`: user delegation key's tenant.
    key_tenant_id = "sktid",
    /// `skt`: user delegation key's start.
    key_start = "skt",
    /// `ske`: user delegation key's expiry.
    key_expiry = "ske",
    /// `sks`: user delegation key's service (`b`).
    key_service = "sks",
    /// `skv`: the version that issued the user delegation key.
    key_version = "skv",
    /// `skdutid`: the delegated user's tenant (2025-07-05).
    key_delegated_user_tenant_id = "skdutid",
    /// `sduoid`: the delegated user's object id (2025-07-05).
    delegated_user_object_id = "sduoid",
    /// `saoid`: preauthorized agent object id (2020-02-10).
    authorized_object_id = "saoid",
    /// `suoid`: agent object id to be checked by POSIX ACLs (2020-02-10).
    unauthorized_object_id = "suoid",
    /// `scid`: correlation id (2020-02-10).
    correlation_id = "scid",
    /// `ses`: encryption scope (2020-12-06).
    encryption_scope = "ses",
    /// `srh`: names of request headers whose values are signed (2026-04-06).
    request_headers = "srh",
    /// `srq`: names of query parameters whose values are signed (2026-04-06).
    request_query_params = "srq",
    /// `rscc`: `Cache-Control` of the response.
    cache_control = "rscc",
    /// `rscd`: `Content-Disposition` of the response.
    content_disposition = "rscd",
    /// `rsce`: `Content-Encoding` of the response.
    content_encoding = "rsce",
    /// `rscl`: `Content-Language` of the response.
    content_language = "rscl",
    /// `rsct`: `Content-Type` of the response.
    content_type = "rsct",
    /// `sig`: the signature.
    signature = "sig",
}

/// Why a SAS could not be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// `sv` is missing, malformed or older than 2015-04-05.
    #[error("the signed version (sv) must be a service version, 2015-04-05 or later")]
    Version,
}

impl SasFields {
    /// Reads the SAS fields out of a request's decoded query. `Ok(None)` when there is no
    /// `sig` (not a SAS request); a field given twice is refused, as its meaning would be
    /// ambiguous.
    pub fn from_query(query: &[(String, String)]) -> Result<Option<Self>, AuthError> {
        if !query.iter().any(|(n, _)| n.eq_ignore_ascii_case("sig")) {
            return Ok(None);
        }
        let mut fields = SasFields::default();
        for (name, value) in query {
            if let Some(slot) = fields.slot(name) {
                if slot.is_some() {
                    return Err(AuthError::authentication_failed(format!(
                        "The SAS field '{}' is given more than once.",
                        name.to_ascii_lowercase()
                    )));
                }
                *slot = Some(value.clone());
            }
        }
        Ok(Some(fields))
    }

    /// Which kind of SAS these fields make.
    pub fn kind(&self) -> SasKind {
        if self.services.is_some() || self.resource_types.is_some() {
            SasKind::Account
        } else if self.key_object_id.is_some() {
            SasKind::UserDelegation
        } else {
            SasKind::Service
        }
    }

    /// `sv`, parsed.
    pub fn signed_version(&self) -> Option<ServiceVersion> {
        self.version.as_deref().and_then(ServiceVersion::parse)
    }

    /// The SAS as a query string (no leading `?`), values percent-encoded.
    pub fn to_query_string(&self) -> String {
        let mut out = String::new();
        for name in Self::NAMES {
            if let Some(value) = self.get(name).filter(|v| !v.is_empty()) {
                if !out.is_empty() {
                    out.push('&');
                }
                out.push_str(name);
                out.push('=');
                query::percent_encode(value, &mut out);
            }
        }
        out
    }

    /// Signs these fields as a service SAS for `canonical_resource`
    /// (`/blob/<account>/<container>[/<blob>]`, as ARM's `canonicalizedResource`) with an
    /// account key, setting `sig`. `snapshot_time` is the snapshot or version id an
    /// `sr=bs`/`sr=bv` SAS is for (it is signed but not part of the query).
    pub fn sign_service(
        &mut self,
        key: &AccountKey,
        canonical_resource: &str,
        snapshot_time: &str,
    ) -> Result<(), SignError> {
        let version = self.signable_version()?;
        let sts = string_to_sign::service(self, canonical_resource, snapshot_time, version);
        self.signature = Some(key.sign(&sts));
        Ok(())
    }

    /// Signs these fields as an account SAS for `account` with an account key.
    pub fn sign_account(&mut self, key: &AccountKey, account: &str) -> Result<(), SignError> {
        let version = self.signable_version()?;
        let sts = string_to_sign::account(self, account, version);
        self.signature = Some(key.sign(&sts));
        Ok(())
    }

    /// Signs these fields (the `sk*` ones included) as a user delegation SAS with the key's
    /// value. `signed_headers`/`signed_query` are the request header and query values that
    /// `srh`/`srq` name, in that order.
    pub fn sign_user_delegation(
        &mut self,
        key_value: &AccountKey,
        canonical_resource: &str,
        snapshot_time: &str,
        signed_headers: &[(&str, &str)],
        signed_query: &[(&str, &str)],
    ) -> Result<(), SignError> {
        let version = self.signable_version()?;
        let sts = string_to_sign::user_delegation(
            self,
            canonical_resource,
            snapshot_time,
            signed_headers,
            signed_query,
            version,
        );
        self.signature = Some(key_value.sign(&sts));
        Ok(())
    }

    fn signable_version(&self) -> Result<ServiceVersion, SignError> {
        self.signed_version()
            .filter(|v| *v >= ServiceVersion::V2015_04_05)
            .ok_or(SignError::Version)
    }
}

pub use query::parse_query;

#[cfg(test)]
mod tests {
    use super::*;

    fn q(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn fields_from_a_query() {
        assert_eq!(
            SasFields::from_query(&q(&[("comp", "list")])).unwrap(),
            None
        );
        let f = SasFields::from_query(&q(&[("sv", "2015-04-05"), ("sr", "c"), ("sig", "x")]))
            .unwrap()
            .unwrap();
        assert_eq!(f.kind(), SasKind::Service);
        assert_eq!(f.resource.as_deref(), Some("c"));
        let dup = SasFields::from_query(&q(&[("sig", "x"), ("SIG", "y")]));
        assert!(dup.is_err());
        let acct = SasFields::from_query(&q(&[("ss", "b"), ("sig", "x")]))
            .unwrap()
            .unwrap();
        assert_eq!(acct.kind(), SasKind::Account);
        let ud = SasFields::from_query(&q(&[("skoid", "o"), ("sig", "x")]))
            .unwrap()
            .unwrap();
        assert_eq!(ud.kind(), SasKind::UserDelegation);
    }

    #[test]
    fn query_string_encodes_values() {
        let f = SasFields {
            version: Some("2015-04-05".into()),
            resource: Some("c".into()),
            protocol: Some("https".into()),
            start: Some("2017-09-22T00:10:00Z".into()),
            permissions: Some("rcw".into()),
            signature: Some("a/b+c=".into()),
            ..Default::default()
        };
        assert_eq!(
            f.to_query_string(),
            "sv=2015-04-05&sr=c&spr=https&st=2017-09-22T00%3A10%3A00Z&sp=rcw&sig=a%2Fb%2Bc%3D"
        );
    }
}
