//! Client secrets minted by `addPassword`, and credentials as Graph shows them.
//!
//! A secret is stored the way the token service checks it: only a salted SHA-256
//! (`azlite_store::PasswordCredential::secret_hash` is SHA-256 of salt ‖ secret). The shape
//! mimics Entra's (`xxx8Q~` and 34 more characters, 40 in all) so that tools that sniff
//! secrets recognise them; `hint` is the first three characters, as Graph shows.

use aws_lc_rs::digest;
use azlite_store::{KeyCredential, PasswordCredential};
use azlite_types::{ClientId, UnixTime};
use base64::Engine;
use serde::Serialize;

use crate::wire::timestamp;

/// `addPassword` without an `endDateTime`: two years, Graph's default.
pub(crate) const DEFAULT_SECRET_LIFETIME: i64 = 2 * 365 * 24 * 3600;

/// A new client secret for `app_id`, valid from `start` to `end`: the stored credential,
/// and the secret itself (shown once). The store owns the hash format the STS checks.
pub(crate) fn mint_password(
    app_id: ClientId,
    display_name: String,
    start: UnixTime,
    end: UnixTime,
) -> (PasswordCredential, String) {
    PasswordCredential::mint(app_id, display_name, start, end)
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
