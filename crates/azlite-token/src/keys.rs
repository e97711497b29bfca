//! The STS signing key: RSA-2048 with a self-signed certificate, signing access tokens with
//! RS256 in Entra's header format (reference §3.1).

use std::sync::Arc;

use aws_lc_rs::encoding::AsDer as _;
use aws_lc_rs::rsa::KeyPair as RsaKeyPair;
use aws_lc_rs::signature::KeyPair as _;
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyUsagePurpose};
use serde::Serialize;
use time::OffsetDateTime;

use crate::UnixTime;
use crate::certificate::RsaCertificate;
use crate::encoding::{
    b64_standard, b64url, pem_decode, pem_encode, thumbprint_sha1, thumbprint_sha256,
};
use crate::error::{KeyError, TokenError};
use crate::jwk::Jwk;

/// Which token header to emit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HeaderStyle {
    /// v1 tokens: `{"typ":"JWT","alg":"RS256","x5t":kid,"kid":kid}`.
    V1,
    /// v2 tokens: `{"typ":"JWT","alg":"RS256","kid":kid}`.
    V2,
}

/// RSA-2048 signing key with a self-signed X.509 certificate.
///
/// `kid` and `x5t` are the base64url SHA-1 thumbprint of the certificate, as in Entra.
/// Cloning is cheap (the key material is shared). `Debug` never prints the private key.
#[derive(Clone)]
pub struct SigningKey {
    inner: Arc<Inner>,
}

struct Inner {
    certificate: RsaCertificate,
    certificate_pem: String,
    private_key_pem: String,
    kid: String,
    x5t_s256: String,
    /// base64url of the serialized header for each [`HeaderStyle`], computed once.
    header_v1: String,
    header_v2: String,
    /// The parsed aws-lc key: [`SigningKey::sign`] and [`SigningKey::sign_raw`] use it.
    key_pair: RsaKeyPair,
}

/// The JOSE header we emit. Field order is Entra's, so our tokens look like theirs.
#[derive(Serialize)]
struct Header<'a> {
    typ: &'static str,
    alg: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    x5t: Option<&'a str>,
    kid: &'a str,
}

impl SigningKey {
    /// Generates an RSA-2048 key and a self-signed certificate `CN=common_name` valid from
    /// `not_before` to `not_after`.
    pub fn generate(
        common_name: &str,
        not_before: UnixTime,
        not_after: UnixTime,
    ) -> Result<SigningKey, KeyError> {
        let invalid = || KeyError::InvalidValidity {
            not_before,
            not_after,
        };
        if not_before >= not_after {
            return Err(invalid());
        }
        let key_pair =
            rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).map_err(KeyError::generation)?;
        let mut params = CertificateParams::default();
        params.not_before =
            OffsetDateTime::from_unix_timestamp(not_before).map_err(|_| invalid())?;
        params.not_after = OffsetDateTime::from_unix_timestamp(not_after).map_err(|_| invalid())?;
        let mut name = DistinguishedName::new();
        name.push(DnType::CommonName, common_name);
        params.distinguished_name = name;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        let certificate = params
            .self_signed(&key_pair)
            .map_err(KeyError::generation)?;
        Self::from_der_parts(certificate.der(), key_pair.serialized_der())
    }

    /// Loads a key saved with [`Self::certificate_pem`] and [`Self::private_key_pem`].
    ///
    /// The private key may be PKCS#8 (`PRIVATE KEY`) or PKCS#1 (`RSA PRIVATE KEY`); it must
    /// belong to the certificate's public key.
    pub fn from_pem(certificate_pem: &str, private_key_pem: &str) -> Result<SigningKey, KeyError> {
        let (label, certificate_der) = pem_decode(certificate_pem).map_err(KeyError::Pem)?;
        if label != "CERTIFICATE" {
            return Err(KeyError::Pem(format!(
                "expected a CERTIFICATE block, found {label:?}"
            )));
        }
        let (label, key_der) = pem_decode(private_key_pem).map_err(KeyError::Pem)?;
        let pkcs8 = match label.as_str() {
            "PRIVATE KEY" => key_der,
            "RSA PRIVATE KEY" => {
                let key_pair = RsaKeyPair::from_der(&key_der)
                    .map_err(|error| KeyError::PrivateKey(error.to_string()))?;
                let pkcs8 = key_pair
                    .as_der()
                    .map_err(|_| KeyError::PrivateKey("cannot re-encode as PKCS#8".into()))?;
                pkcs8.as_ref().to_vec()
            }
            other => {
                return Err(KeyError::Pem(format!(
                    "expected a PRIVATE KEY or RSA PRIVATE KEY block, found {other:?}"
                )));
            }
        };
        Self::from_der_parts(&certificate_der, &pkcs8)
    }

    fn from_der_parts(certificate_der: &[u8], pkcs8: &[u8]) -> Result<SigningKey, KeyError> {
        let certificate = RsaCertificate::from_der(certificate_der)?;
        let key_pair = RsaKeyPair::from_pkcs8(pkcs8)
            .map_err(|error| KeyError::PrivateKey(error.to_string()))?;
        if key_pair.public_key().as_ref() != certificate.public_key_der.as_slice() {
            return Err(KeyError::KeyMismatch);
        }
        let private_key_pem = pem_encode("PRIVATE KEY", pkcs8);

        let kid = thumbprint_sha1(&certificate.der);
        let header_v1 = encode_header(&Header {
            typ: "JWT",
            alg: "RS256",
            x5t: Some(&kid),
            kid: &kid,
        });
        let header_v2 = encode_header(&Header {
            typ: "JWT",
            alg: "RS256",
            x5t: None,
            kid: &kid,
        });
        Ok(SigningKey {
            inner: Arc::new(Inner {
                certificate_pem: pem_encode("CERTIFICATE", &certificate.der),
                private_key_pem,
                x5t_s256: thumbprint_sha256(&certificate.der),
                kid,
                header_v1,
                header_v2,
                key_pair,
                certificate,
            }),
        })
    }

    /// The certificate, PEM (`CERTIFICATE`).
    pub fn certificate_pem(&self) -> String {
        self.inner.certificate_pem.clone()
    }

    /// The private key, PKCS#8 PEM (`PRIVATE KEY`). Handle as a secret.
    pub fn private_key_pem(&self) -> String {
        self.inner.private_key_pem.clone()
    }

    /// The certificate, DER.
    pub fn certificate_der(&self) -> &[u8] {
        &self.inner.certificate.der
    }

    /// Key id: base64url SHA-1 thumbprint of the certificate DER (equal to `x5t`).
    pub fn kid(&self) -> &str {
        &self.inner.kid
    }

    /// base64url SHA-256 thumbprint of the certificate DER (`x5t#S256`).
    pub fn x5t_s256(&self) -> &str {
        &self.inner.x5t_s256
    }

    /// Start of the certificate's validity.
    pub fn not_before(&self) -> UnixTime {
        self.inner.certificate.not_before
    }

    /// End of the certificate's validity.
    pub fn not_after(&self) -> UnixTime {
        self.inner.certificate.not_after
    }

    /// The public key as a JWK, in the shape Entra's keys endpoints publish (no `issuer`).
    pub fn jwk(&self) -> Jwk {
        let certificate = &self.inner.certificate;
        Jwk {
            kty: "RSA".into(),
            use_: "sig".into(),
            kid: self.inner.kid.clone(),
            x5t: self.inner.kid.clone(),
            n: b64url(&certificate.modulus),
            e: b64url(&certificate.exponent),
            x5c: vec![b64_standard(&certificate.der)],
            issuer: None,
        }
    }

    /// Signs `claims` as an RS256 JWT with the header of `style`.
    ///
    /// `claims` must serialize to a JSON object.
    ///
    /// Cost: `jsonwebtoken` 11's aws-lc signer re-parses and re-checks the RSA key from DER
    /// on every call (`crypto/aws_lc/rsa.rs`, `try_sign_rsa`), even though the `EncodingKey`
    /// is built once here, so this takes noticeably longer than [`Self::sign_raw`]; the
    /// `signing` benchmark measures both.
    pub fn sign<C: Serialize>(&self, claims: &C, style: HeaderStyle) -> Result<String, TokenError> {
        let payload = serde_json::to_vec(claims)
            .map_err(|error| TokenError::signing("claims do not serialize to JSON", error))?;
        if payload.first() != Some(&b'{') {
            return Err(TokenError::Signing {
                message: "claims must serialize to a JSON object".into(),
                source: None,
            });
        }
        let header = match style {
            HeaderStyle::V1 => &self.inner.header_v1,
            HeaderStyle::V2 => &self.inner.header_v2,
        };
        let mut token = String::with_capacity(header.len() + payload.len() * 4 / 3 + 350);
        token.push_str(header);
        token.push('.');
        token.push_str(&b64url(&payload));
        // RS256 with the aws-lc key parsed once at load: jsonwebtoken's signer re-parses
        // and re-validates the DER key on every call, which doubles the cost of a token.
        // The known-answer tests pin the output byte for byte.
        let signature = self.sign_raw(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64url(&signature));
        Ok(token)
    }

    /// A raw RS256 signature (RSASSA-PKCS1-v1_5 with SHA-256) of `message`, with the key
    /// parsed once at construction. The benchmark's baseline for [`Self::sign`].
    pub fn sign_raw(&self, message: &[u8]) -> Result<Vec<u8>, TokenError> {
        let key_pair = &self.inner.key_pair;
        let mut signature = vec![0; key_pair.public_modulus_len()];
        key_pair
            .sign(
                &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                &aws_lc_rs::rand::SystemRandom::new(),
                message,
                &mut signature,
            )
            .map_err(|error| TokenError::signing("RS256 signing failed", error))?;
        Ok(signature)
    }
}

fn encode_header(header: &Header<'_>) -> String {
    // A struct of strings always serializes.
    b64url(&serde_json::to_vec(header).unwrap_or_default())
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.inner.kid)
            .field("not_before", &self.inner.certificate.not_before)
            .field("not_after", &self.inner.certificate.not_after)
            .field("private_key", &"[redacted]")
            .finish()
    }
}
