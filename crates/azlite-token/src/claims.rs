//! The claims of an Entra access token, v1 and v2 (reference §3.2).

use serde::{Deserialize, Deserializer, Serialize};

use crate::UnixTime;

/// Claims of an Entra access token (v1 and v2).
///
/// Fields serialize in the order listed, which is the order Entra emits them in; `Option`
/// fields are left out when `None`. Deserializing requires every non-`Option` field, so a
/// token without `aud`, `iss`, `iat`, `nbf`, `exp`, `oid`, `sub`, `tid`, `uti` or `ver` is
/// malformed. Unknown claims are ignored.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct AccessTokenClaims {
    /// Audience: the requested resource verbatim (v1) or the API's client id (v2).
    pub aud: String,
    /// Issuer: `https://sts.windows.net/{tid}/` (v1) or
    /// `https://login.microsoftonline.com/{tid}/v2.0` (v2).
    pub iss: String,
    /// Issued at.
    pub iat: UnixTime,
    /// Not before.
    pub nbf: UnixTime,
    /// Expiry.
    pub exp: UnixTime,
    /// Opaque internal claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aio: Option<String>,
    /// Client id of the caller (v1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appid: Option<String>,
    /// How the client authenticated (v1): `"0"` public, `"1"` secret, `"2"` certificate or
    /// managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub appidacr: Option<String>,
    /// Client id of the caller (v2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azp: Option<String>,
    /// How the client authenticated (v2), same values as `appidacr`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azpacr: Option<String>,
    /// Identity provider; equals `iss` for app tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    /// `"app"` for app-only (service principal, managed identity) tokens, `"user"` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idtyp: Option<String>,
    /// Display name of the user.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Object id of the principal.
    pub oid: String,
    /// Opaque internal claim.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rh: Option<String>,
    /// App roles granted to the principal on the resource.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    /// Delegated scopes, space separated (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scp: Option<String>,
    /// Subject; equals `oid` for app tokens.
    pub sub: String,
    /// Tenant id.
    pub tid: String,
    /// User principal name (v1 user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unique_name: Option<String>,
    /// User principal name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upn: Option<String>,
    /// Unique token id.
    pub uti: String,
    /// Token version, `"1.0"` or `"2.0"`.
    pub ver: String,
    /// ARM resource id of the managed identity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub xms_mirid: Option<String>,
    /// Tenant creation time. Emitted as a number; read from a number or a numeric string,
    /// because captured tokens show both (reference §3.2).
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "number_or_numeric_string"
    )]
    pub xms_tcdt: Option<i64>,
}

fn number_or_numeric_string<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<i64>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumberOrString {
        Number(i64),
        String(String),
    }
    match Option::<NumberOrString>::deserialize(deserializer)? {
        None => Ok(None),
        Some(NumberOrString::Number(number)) => Ok(Some(number)),
        Some(NumberOrString::String(text)) => text
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom("xms_tcdt must be an integer")),
    }
}
