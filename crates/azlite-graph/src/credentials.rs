//! Client secrets minted by `addPassword`, and credentials as Graph shows them.
//!
//! A secret is stored the way the token service checks it: only a salted SHA-256
//! (`azlite_store::PasswordCredential::secret_hash` is SHA-256 of salt ‖ secret). The shape
//! mimics Entra's (`xxx8Q~` and 34 more characters, 40 in all) so that tools that sniff
//! secrets recognise them; `hint` is the first three characters, as Graph shows.

use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use azlite_store::{KeyCredential, PasswordCredential};
use azlite_types::{ClientId, UnixTime};
use base64::Engine;
use serde::Serialize;

use crate::wire::timestamp;

/// Characters Entra uses in generated secrets.
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~";

/// `addPassword` without an `endDateTime`: two years, Graph's default.
pub(crate) const DEFAULT_SECRET_LIFETIME: i64 = 2 * 365 * 24 * 3600;

fn random_bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    // The system RNG failing is not something to recover from.
    SystemRandom::new()
        .fill(&mut out)
        .expect("the system random number generator failed");
    out
}

fn random_chars(n: usize) -> String {
    // 66 symbols: values at or above the largest multiple of 66 are rejected, so that every
    // symbol is equally likely.
    let limit = (256 / ALPHABET.len()) * ALPHABET.len();
    let mut out = String::with_capacity(n);
    while out.len() < n {
        for b in random_bytes::<64>() {
            if (b as usize) < limit && out.len() < n {
                out.push(ALPHABET[b as usize % ALPHABET.len()] as char);
            }
        }
    }
    out
}

/// SHA-256 of salt ‖ secret: the stored form the token service compares against.
fn hash_secret(salt: &[u8], secret: &str) -> Vec<u8> {
    let mut ctx = digest::Context::new(&digest::SHA256);
    ctx.update(salt);
    ctx.update(secret.as_bytes());
    ctx.finish().as_ref().to_vec()
}

/// A new client secret for `app_id`, valid from `start` to `end`: the stored credential,
/// and the secret itself (shown once).
pub(crate) fn mint_password(
    app_id: ClientId,
    display_name: String,
    start: UnixTime,
    end: UnixTime,
) -> (PasswordCredential, String) {
    let secret = format!("{}8Q~{}", random_chars(3), random_chars(34));
    let salt = random_bytes::<16>().to_vec();
    let credential = PasswordCredential {
        key_id: uuid::Uuid::new_v4(),
        app_id,
        display_name,
        hint: secret[..3].to_owned(),
        secret_hash: hash_secret(&salt, &secret),
        salt,
        start,
        end,
    };
    (credential, secret)
}

/// A `passwordCredential` resource. `secretText` is only ever filled in the answer to
/// `addPassword`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PasswordCredentialResource {
    custom_key_identifier: Option<String>,
    display_name: Option<String>,
    end_date_time: String,
    hint: String,
    key_id: uuid::Uuid,
    secret_text: Option<String>,
    start_date_time: String,
}

impl PasswordCredentialResource {
    pub(crate) fn new(credential: &PasswordCredential, secret_text: Option<String>) -> Self {
        Self {
            custom_key_identifier: None,
            display_name: Some(credential.display_name.clone()).filter(|n| !n.is_empty()),
            end_date_time: timestamp(credential.end),
            hint: credential.hint.clone(),
            key_id: credential.key_id,
            secret_text,
            start_date_time: timestamp(credential.start),
        }
    }
}

/// A `keyCredential` resource (a certificate). The public key itself (`key`) is only
/// returned on `$select`, so it is `null`, as in Graph's default answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct KeyCredentialResource {
    /// The certificate's SHA-1 thumbprint, as `Edm.Binary` (base64).
    custom_key_identifier: String,
    display_name: String,
    end_date_time: String,
    key: Option<String>,
    key_id: uuid::Uuid,
    start_date_time: String,
    #[serde(rename = "type")]
    kind: &'static str,
    usage: &'static str,
}

impl KeyCredentialResource {
    pub(crate) fn new(credential: &KeyCredential) -> Self {
        let thumbprint = digest::digest(
            &digest::SHA1_FOR_LEGACY_USE_ONLY,
            &credential.certificate_der,
        );
        Self {
            custom_key_identifier: base64::engine::general_purpose::STANDARD
                .encode(thumbprint.as_ref()),
            display_name: credential.display_name.clone(),
            end_date_time: timestamp(credential.end),
            key: None,
            key_id: credential.key_id,
            start_date_time: timestamp(credential.start),
            kind: "AsymmetricX509Cert",
            usage: "Verify",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_secrets_have_entras_shape_and_are_stored_hashed() {
        let app = ClientId::new_random();
        let (credential, secret) = mint_password(app, "ci".into(), 10, 20);
        let (_, other) = mint_password(app, "ci".into(), 10, 20);
        assert_eq!(secret.len(), 40);
        assert_eq!(&secret[3..6], "8Q~");
        assert!(secret.bytes().all(|c| ALPHABET.contains(&c)));
        assert_ne!(secret, other);
        assert_eq!(credential.hint, secret[..3]);
        assert_eq!((credential.start, credential.end), (10, 20));
        assert_eq!(credential.app_id, app);
        assert_eq!(credential.salt.len(), 16);
        assert_eq!(
            credential.secret_hash,
            hash_secret(&credential.salt, &secret),
            "the hash is of salt ‖ secret"
        );
    }

    #[test]
    fn the_hash_is_sha256_of_salt_then_secret() {
        // Known answer: SHA-256("abc") from FIPS 180-2, split into salt "a" and secret "bc".
        let expected = "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        let hex: String = hash_secret(b"a", "bc")
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, expected);
    }

    #[test]
    fn credentials_render_as_graph_shows_them() {
        let (credential, _) = mint_password(ClientId::new_random(), String::new(), 0, 60);
        let json =
            serde_json::to_value(PasswordCredentialResource::new(&credential, None)).unwrap();
        assert_eq!(json["displayName"], serde_json::Value::Null);
        assert_eq!(json["secretText"], serde_json::Value::Null);
        assert_eq!(json["customKeyIdentifier"], serde_json::Value::Null);
        assert_eq!(json["startDateTime"], "1970-01-01T00:00:00Z");
        assert_eq!(json["endDateTime"], "1970-01-01T00:01:00Z");
    }
}
