//! X.509 certificates carrying RSA keys: parsing (x509-parser), thumbprints, and
//! [`ClientCertificate`], a certificate a confidential client registered with the STS.

use jsonwebtoken::DecodingKey;
use x509_parser::prelude::{FromDer as _, X509Certificate};
use x509_parser::public_key::PublicKey;

use crate::UnixTime;
use crate::encoding::{
    pem_decode, strip_leading_zeros, thumbprint_sha1, thumbprint_sha1_hex, thumbprint_sha256,
};
use crate::error::KeyError;

/// RS256/PS256 verification in aws-lc accepts 2048 to 8192 bit moduli; refusing other sizes
/// when a key is loaded gives an error at registration instead of at the first token.
const MIN_RSA_BITS: usize = 2048;
const MAX_RSA_BITS: usize = 8192;

/// What this crate needs from an X.509 certificate with an RSA public key.
#[derive(Clone)]
pub(crate) struct RsaCertificate {
    pub(crate) der: Vec<u8>,
    pub(crate) not_before: UnixTime,
    pub(crate) not_after: UnixTime,
    /// The `RSAPublicKey` DER (RFC 8017 §A.1.1) from the SubjectPublicKeyInfo.
    pub(crate) public_key_der: Vec<u8>,
    /// Modulus, big-endian, no leading zeros.
    pub(crate) modulus: Vec<u8>,
    /// Public exponent, big-endian, no leading zeros.
    pub(crate) exponent: Vec<u8>,
}

impl RsaCertificate {
    pub(crate) fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        let (rest, certificate) = X509Certificate::from_der(der)
            .map_err(|error| KeyError::Certificate(error.to_string()))?;
        if !rest.is_empty() {
            return Err(KeyError::Certificate(format!(
                "{} unexpected bytes after the certificate",
                rest.len()
            )));
        }
        let spki = certificate.public_key();
        let PublicKey::RSA(rsa) = spki.parsed().map_err(|_| KeyError::NotRsa)? else {
            return Err(KeyError::NotRsa);
        };
        let modulus = strip_leading_zeros(rsa.modulus).to_vec();
        let exponent = strip_leading_zeros(rsa.exponent).to_vec();
        let bits = modulus.len() * 8
            - modulus
                .first()
                .map_or(0, |top| top.leading_zeros() as usize);
        if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
            return Err(KeyError::UnsupportedKeySize { bits });
        }
        if exponent.is_empty() {
            return Err(KeyError::Certificate(
                "the RSA public exponent is zero".into(),
            ));
        }
        let validity = certificate.validity();
        Ok(Self {
            der: der.to_vec(),
            not_before: validity.not_before.timestamp(),
            not_after: validity.not_after.timestamp(),
            public_key_der: spki.subject_public_key.data.to_vec(),
            modulus,
            exponent,
        })
    }

    pub(crate) fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let (label, der) = pem_decode(pem).map_err(KeyError::Pem)?;
        if label != "CERTIFICATE" {
            return Err(KeyError::Pem(format!(
                "expected a CERTIFICATE block, found {label:?}"
            )));
        }
        Self::from_der(&der)
    }

    pub(crate) fn decoding_key(&self) -> DecodingKey {
        DecodingKey::from_rsa_raw_components(&self.modulus, &self.exponent)
    }
}

/// An X.509 certificate a confidential client registered, with its RSA public key ready to
/// verify the client's assertions.
///
/// Only the key and the thumbprints are used; the certificate's own signature and chain are
/// not checked, exactly like Entra's uploaded `keyCredentials` (the upload is the trust).
#[derive(Clone)]
pub struct ClientCertificate {
    certificate: RsaCertificate,
    x5t: String,
    x5t_s256: String,
    sha1_hex: String,
    decoding_key: DecodingKey,
}

impl ClientCertificate {
    /// Parses a DER certificate; the public key must be RSA, 2048 to 8192 bits.
    pub fn from_der(der: &[u8]) -> Result<Self, KeyError> {
        Ok(Self::from_parsed(RsaCertificate::from_der(der)?))
    }

    /// Parses the first `CERTIFICATE` block of a PEM text.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        Ok(Self::from_parsed(RsaCertificate::from_pem(pem)?))
    }

    fn from_parsed(certificate: RsaCertificate) -> Self {
        Self {
            x5t: thumbprint_sha1(&certificate.der),
            x5t_s256: thumbprint_sha256(&certificate.der),
            sha1_hex: thumbprint_sha1_hex(&certificate.der),
            decoding_key: certificate.decoding_key(),
            certificate,
        }
    }

    /// The certificate DER.
    pub fn der(&self) -> &[u8] {
        &self.certificate.der
    }

    /// base64url SHA-1 thumbprint, the `x5t` header value.
    pub fn x5t(&self) -> &str {
        &self.x5t
    }

    /// base64url SHA-256 thumbprint, the `x5t#S256` header value.
    pub fn x5t_s256(&self) -> &str {
        &self.x5t_s256
    }

    /// Lower-case hex SHA-1 thumbprint, as the Azure portal shows it.
    pub fn thumbprint_hex(&self) -> &str {
        &self.sha1_hex
    }

    /// Start of the certificate's validity period.
    pub fn not_before(&self) -> UnixTime {
        self.certificate.not_before
    }

    /// End of the certificate's validity period.
    pub fn not_after(&self) -> UnixTime {
        self.certificate.not_after
    }

    pub(crate) fn decoding_key(&self) -> &DecodingKey {
        &self.decoding_key
    }
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("x5t", &self.x5t)
            .field("x5t_s256", &self.x5t_s256)
            .field("not_before", &self.certificate.not_before)
            .field("not_after", &self.certificate.not_after)
            .finish_non_exhaustive()
    }
}
