//! The local certificate authority and the listener's certificate.
//!
//! The CA (ECDSA P-256) is made once and kept in `DATA_DIR/ca/`; users trust
//! `ca/ca.pem`. At every start azlite issues a fresh leaf certificate from it that covers
//! every name it serves (one certificate with all the names: every client accepts it, and
//! there is nothing to choose by SNI). P-256 keeps start-up in microseconds.

use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use time::{Duration, OffsetDateTime};

/// TLS set-up failed.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// Reading or writing the CA files failed.
    #[error("cannot access {path}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// Generating or parsing a certificate failed.
    #[error("certificate generation failed")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the certificate.
    #[error("TLS configuration failed")]
    Rustls(#[from] rustls::Error),
    /// A name is neither a DNS name nor an IP address.
    #[error("'{0}' cannot be put in a certificate")]
    InvalidName(String),
}

/// The local certificate authority.
pub struct LocalCa {
    certificate_path: PathBuf,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("certificate_path", &self.certificate_path)
            .finish()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TlsError + '_ {
    move |source| TlsError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Writes `contents` to `path` with `mode`, atomically (temporary file, fsync, rename).
pub(crate) fn write_private(path: &Path, contents: &[u8], mode: u32) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    file.set_permissions(fs::Permissions::from_mode(mode))?;
    file.write_all(contents)?;
    file.sync_all()?;
    fs::rename(&tmp, path)?;
    if let Some(dir) = path.parent() {
        fs::File::open(dir)?.sync_all()?;
    }
    Ok(())
}

impl LocalCa {
    /// The directory of the CA inside a data directory.
    pub fn directory(data_dir: &Path) -> PathBuf {
        data_dir.join("ca")
    }

    /// Loads the CA from `data_dir/ca`, creating it on first use.
    pub fn load_or_create(data_dir: &Path) -> Result<Self, TlsError> {
        let dir = Self::directory(data_dir);
        let cert_path = dir.join("ca.pem");
        let key_path = dir.join("ca-key.pem");
        // The CA's directory is 0700 and its key 0600 whatever the umask, or an older azlite,
        // left (`azlite ca` may run before the data directory was ever prepared).
        crate::data_dir::private_dir(&dir).map_err(|e| TlsError::Io {
            path: dir.clone(),
            source: std::io::Error::other(e),
        })?;
        if cert_path.exists() && key_path.exists() {
            fs::set_permissions(&key_path, fs::Permissions::from_mode(0o600))
                .map_err(io(&key_path))?;
            let key = KeyPair::from_pem(&fs::read_to_string(&key_path).map_err(io(&key_path))?)?;
            let cert = fs::read_to_string(&cert_path).map_err(io(&cert_path))?;
            let issuer = Issuer::from_ca_cert_pem(&cert, key)?;
            return Ok(Self {
                certificate_path: cert_path,
                issuer,
            });
        }
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "azlite local CA");
        dn.push(DnType::OrganizationName, "azlite");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(3650);
        let cert = params.self_signed(&key)?;
        // Key first: a CA certificate without its key would be useless after a crash.
        write_private(&key_path, key.serialize_pem().as_bytes(), 0o600).map_err(io(&key_path))?;
        write_private(&cert_path, cert.pem().as_bytes(), 0o644).map_err(io(&cert_path))?;
        tracing::info!(path = %cert_path.display(), "created the local certificate authority");
        Ok(Self {
            certificate_path: cert_path,
            issuer: Issuer::new(params, key),
        })
    }

    /// Where the CA certificate (PEM) is, for users to trust.
    pub fn certificate_path(&self) -> &Path {
        &self.certificate_path
    }

    /// Issues a server certificate for `names` (DNS names, `*.` wildcards, IP addresses).
    pub fn issue_server_certificate(
        &self,
        names: &[String],
    ) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::default();
        let mut dn = DistinguishedName::new();
        dn.push(
            DnType::CommonName,
            names.first().map_or("azlite", String::as_str),
        );
        params.distinguished_name = dn;
        params.subject_alt_names = names
            .iter()
            .map(|name| match name.parse::<std::net::IpAddr>() {
                Ok(ip) => Ok(SanType::IpAddress(ip)),
                Err(_) if !is_dns_name(name) => Err(TlsError::InvalidName(name.clone())),
                Err(_) => name
                    .as_str()
                    .try_into()
                    .map(SanType::DnsName)
                    .map_err(|_| TlsError::InvalidName(name.clone())),
            })
            .collect::<Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::days(1);
        params.not_after = now + Duration::days(365);
        let cert = params.signed_by(&key, &self.issuer)?;
        let key_der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
        Ok((vec![cert.der().clone()], key_der))
    }

    /// A rustls server configuration for `names` (HTTP/1.1 over TLS 1.2 and 1.3).
    pub fn server_config(&self, names: &[String]) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let (chain, key) = self.issue_server_certificate(names)?;
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// A DNS name, possibly with a leading `*.` wildcard label: letters, digits and hyphens.
fn is_dns_name(name: &str) -> bool {
    let name = name.strip_prefix("*.").unwrap_or(name);
    !name.is_empty()
        && name.len() <= 253
        && name.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ca_is_kept_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalCa::load_or_create(dir.path()).unwrap();
        let pem = fs::read_to_string(first.certificate_path()).unwrap();
        let key_mode = fs::metadata(dir.path().join("ca/ca-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(key_mode & 0o777, 0o600);
        let second = LocalCa::load_or_create(dir.path()).unwrap();
        assert_eq!(pem, fs::read_to_string(second.certificate_path()).unwrap());
        let names = vec![
            "login.microsoftonline.com".to_owned(),
            "*.vault.azure.net".to_owned(),
            "127.0.0.1".to_owned(),
        ];
        second.server_config(&names).unwrap();
    }

    #[test]
    fn bad_names_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let ca = LocalCa::load_or_create(dir.path()).unwrap();
        assert!(matches!(
            ca.issue_server_certificate(&["bad name".to_owned()]),
            Err(TlsError::InvalidName(_))
        ));
    }
}
