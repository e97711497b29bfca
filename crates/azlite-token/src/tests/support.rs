//! Shared test keys, claims and token-crafting helpers.

use std::sync::OnceLock;

use crate::encoding::{b64url, pem_encode};
use crate::{AccessTokenClaims, IssuerPolicy, JwkSet, KeyRing, SigningKey, UnixTime, Validation};

pub(crate) const NOW: UnixTime = 1_767_225_600;
pub(crate) const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
pub(crate) const AUDIENCE: &str = "https://management.azure.com/";

/// The key the tests' STS signs with.
pub(crate) fn key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::generate("azlite test key", NOW - 86_400, NOW + 86_400 * 365).unwrap()
    })
}

/// A second, unrelated key (not in the key ring).
pub(crate) fn other_key() -> &'static SigningKey {
    static KEY: OnceLock<SigningKey> = OnceLock::new();
    KEY.get_or_init(|| {
        SigningKey::generate("azlite other key", NOW - 86_400, NOW + 86_400).unwrap()
    })
}

pub(crate) fn key_ring() -> KeyRing {
    KeyRing::from_jwks(&JwkSet {
        keys: vec![key().jwk()],
    })
    .unwrap()
}

pub(crate) fn v1_issuer(tid: &str) -> String {
    format!("https://sts.windows.net/{tid}/")
}

pub(crate) fn validation() -> Validation {
    Validation::new(
        vec![AUDIENCE.into()],
        IssuerPolicy::Exact(vec![v1_issuer(TENANT)]),
    )
}

/// A v1 managed-identity token's claims, every field an MI token carries populated
/// (reference §3.2), valid for an hour around [`NOW`].
pub(crate) fn mi_claims() -> AccessTokenClaims {
    let issuer = v1_issuer(TENANT);
    AccessTokenClaims {
        aud: AUDIENCE.into(),
        iss: issuer.clone(),
        iat: NOW - 60,
        nbf: NOW - 60,
        exp: NOW + 3600,
        aio: Some("E2ZgYJj9/u3Rb+Ty7Oq0aO8ZAwA=".into()),
        appid: Some("be5947ed-3560-4afe-9504-59967a63f810".into()),
        appidacr: Some("2".into()),
        azp: None,
        azpacr: None,
        idp: Some(issuer),
        idtyp: Some("app".into()),
        name: None,
        oid: "11111111-2222-3333-4444-555555555555".into(),
        rh: Some("0.AVEAv4j5cvGGr0GRqy180BHbR_JHWb5gNf5KlQRZlmpj-BBRAAA.".into()),
        roles: None,
        scp: None,
        sub: "11111111-2222-3333-4444-555555555555".into(),
        tid: TENANT.into(),
        unique_name: None,
        upn: None,
        uti: "cRZ8-NDqNECeq2PmIKW8Ag".into(),
        ver: "1.0".into(),
        xms_mirid: Some(
            "/subscriptions/00000000-0000-0000-0000-000000000001/resourcegroups/rg1/providers/\
             Microsoft.ManagedIdentity/userAssignedIdentities/id1"
                .into(),
        ),
        xms_tcdt: Some(1_289_241_547),
    }
}

/// base64url of a JSON value's compact serialization.
pub(crate) fn segment(value: &serde_json::Value) -> String {
    b64url(&serde_json::to_vec(value).unwrap())
}

/// A token with the given header and claims and a caller-supplied signature function.
pub(crate) fn craft(
    header: &serde_json::Value,
    claims: &impl serde::Serialize,
    sign: impl FnOnce(&[u8]) -> Vec<u8>,
) -> String {
    let claims = serde_json::to_value(claims).unwrap();
    let signing_input = format!("{}.{}", segment(header), segment(&claims));
    let signature = sign(signing_input.as_bytes());
    format!("{signing_input}.{}", b64url(&signature))
}

/// Replaces the payload segment, keeping header and signature.
pub(crate) fn with_payload(token: &str, claims: &impl serde::Serialize) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let payload = segment(&serde_json::to_value(claims).unwrap());
    format!("{}.{payload}.{}", parts[0], parts[2])
}

/// The signing key's public key as an SPKI PEM (`PUBLIC KEY`), the bytes a key-confusion
/// attacker would use as an HMAC secret.
pub(crate) fn public_key_pem(key: &SigningKey) -> String {
    let (_, certificate) = x509_parser::parse_x509_certificate(key.certificate_der()).unwrap();
    pem_encode("PUBLIC KEY", certificate.public_key().raw)
}
