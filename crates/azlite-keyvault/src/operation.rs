//! The secrets surface of Key Vault (reference §1.2), parsed once from method and path.
//!
//! Tolerated as clients send them (§1.8): `/secrets/{name}/` with an empty version, a
//! doubled slash after the host (`//secrets/...`), any letter case in the collection names.

use axum::http::{Method, StatusCode};

use crate::KeyVaultError;

/// A secrets operation, named as Key Vault names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Operation {
    /// `PUT /secrets/{name}`.
    SetSecret(String),
    /// `GET /secrets/{name}[/{version}]`.
    GetSecret(String, Option<String>),
    /// `PATCH /secrets/{name}[/{version}]`.
    UpdateSecret(String, Option<String>),
    /// `GET /secrets`.
    GetSecrets,
    /// `GET /secrets/{name}/versions`.
    GetSecretVersions(String),
    /// `DELETE /secrets/{name}`.
    DeleteSecret(String),
    /// `GET /deletedsecrets`.
    GetDeletedSecrets,
    /// `GET /deletedsecrets/{name}`.
    GetDeletedSecret(String),
    /// `DELETE /deletedsecrets/{name}`.
    PurgeDeletedSecret(String),
    /// `POST /deletedsecrets/{name}/recover`.
    RecoverDeletedSecret(String),
}

/// Whether `name` is a valid secret name: 1–127 ASCII letters, digits and hyphens (spec
/// pattern `^[0-9a-zA-Z-]+$`; a leading digit or hyphen is accepted, as the service does).
pub fn is_valid_name(name: &str) -> bool {
    (1..=127).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn name(segment: &str) -> Result<String, KeyVaultError> {
    if is_valid_name(segment) {
        Ok(segment.to_owned())
    } else {
        Err(KeyVaultError::bad_parameter(format!(
            "The request URI contains an invalid name: {segment}"
        )))
    }
}

fn method_not_allowed(method: &Method) -> KeyVaultError {
    KeyVaultError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "BadParameter",
        format!("The method {method} is not allowed for this request URI."),
    )
}

/// Parses a request. Paths of other collections (keys, certificates, ...) are not served.
pub fn parse(method: &Method, path: &str) -> Result<Operation, KeyVaultError> {
    let trimmed = path.trim_start_matches('/');
    let trimmed = trimmed.strip_suffix('/').unwrap_or(trimmed);
    let segments: Vec<&str> = trimmed.split('/').collect();
    let is = |segment: &str, word: &str| segment.eq_ignore_ascii_case(word);
    use Operation as O;
    let operation = match segments.as_slice() {
        [collection] if is(collection, "secrets") => match *method {
            Method::GET => O::GetSecrets,
            _ => return Err(method_not_allowed(method)),
        },
        [collection, n] if is(collection, "secrets") => {
            let n = name(n)?;
            match *method {
                Method::PUT => O::SetSecret(n),
                Method::GET => O::GetSecret(n, None),
                Method::PATCH => O::UpdateSecret(n, None),
                Method::DELETE => O::DeleteSecret(n),
                _ => return Err(method_not_allowed(method)),
            }
        }
        [collection, n, versions] if is(collection, "secrets") && is(versions, "versions") => {
            match *method {
                Method::GET => O::GetSecretVersions(name(n)?),
                _ => return Err(method_not_allowed(method)),
            }
        }
        [collection, n, version] if is(collection, "secrets") => {
            let n = name(n)?;
            let version = (!version.is_empty()).then(|| (*version).to_owned());
            match *method {
                Method::GET => O::GetSecret(n, version),
                Method::PATCH => O::UpdateSecret(n, version),
                _ => return Err(method_not_allowed(method)),
            }
        }
        [collection] if is(collection, "deletedsecrets") => match *method {
            Method::GET => O::GetDeletedSecrets,
            _ => return Err(method_not_allowed(method)),
        },
        [collection, n] if is(collection, "deletedsecrets") => {
            let n = name(n)?;
            match *method {
                Method::GET => O::GetDeletedSecret(n),
                Method::DELETE => O::PurgeDeletedSecret(n),
                _ => return Err(method_not_allowed(method)),
            }
        }
        [collection, n, recover] if is(collection, "deletedsecrets") && is(recover, "recover") => {
            match *method {
                Method::POST => O::RecoverDeletedSecret(name(n)?),
                _ => return Err(method_not_allowed(method)),
            }
        }
        _ => {
            return Err(KeyVaultError::new(
                StatusCode::NOT_FOUND,
                "NotFound",
                format!("azlite's Key Vault serves secrets only; the path '{path}' is not served."),
            ));
        }
    };
    Ok(operation)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(method: Method, path: &str) -> Operation {
        parse(&method, path).unwrap()
    }

    #[test]
    fn every_operation_parses() {
        use Operation as O;
        let n = || "my-Secret1".to_owned();
        assert_eq!(ok(Method::PUT, "/secrets/my-Secret1"), O::SetSecret(n()));
        assert_eq!(
            ok(Method::GET, "/secrets/my-Secret1"),
            O::GetSecret(n(), None)
        );
        assert_eq!(
            ok(Method::GET, "/secrets/my-Secret1/"),
            O::GetSecret(n(), None)
        );
        assert_eq!(
            ok(Method::GET, "//secrets/my-Secret1"),
            O::GetSecret(n(), None)
        );
        assert_eq!(
            ok(Method::GET, "/Secrets/my-Secret1/ABC"),
            O::GetSecret(n(), Some("ABC".into()))
        );
        assert_eq!(
            ok(Method::PATCH, "/secrets/my-Secret1/"),
            O::UpdateSecret(n(), None)
        );
        assert_eq!(
            ok(Method::PATCH, "/secrets/my-Secret1/abc"),
            O::UpdateSecret(n(), Some("abc".into()))
        );
        assert_eq!(ok(Method::GET, "/secrets"), O::GetSecrets);
        assert_eq!(ok(Method::GET, "/secrets/"), O::GetSecrets);
        assert_eq!(
            ok(Method::GET, "/secrets/my-Secret1/versions"),
            O::GetSecretVersions(n())
        );
        assert_eq!(
            ok(Method::DELETE, "/secrets/my-Secret1"),
            O::DeleteSecret(n())
        );
        assert_eq!(ok(Method::GET, "/deletedsecrets"), O::GetDeletedSecrets);
        assert_eq!(
            ok(Method::GET, "/deletedsecrets/my-Secret1"),
            O::GetDeletedSecret(n())
        );
        assert_eq!(
            ok(Method::DELETE, "/deletedsecrets/my-Secret1"),
            O::PurgeDeletedSecret(n())
        );
        assert_eq!(
            ok(Method::POST, "/deletedsecrets/my-Secret1/recover"),
            O::RecoverDeletedSecret(n())
        );
    }

    #[test]
    fn bad_names_and_methods_are_refused() {
        let err = parse(&Method::GET, "/secrets/a_b").unwrap_err();
        assert_eq!((err.status.as_u16(), err.code), (400, "BadParameter"));
        assert_eq!(err.message, "The request URI contains an invalid name: a_b");
        assert!(parse(&Method::GET, &format!("/secrets/{}", "a".repeat(128))).is_err());
        assert!(parse(&Method::GET, &format!("/secrets/{}", "a".repeat(127))).is_ok());
        assert!(parse(&Method::GET, "/secrets/-1").is_ok());
        assert_eq!(parse(&Method::POST, "/secrets").unwrap_err().status, 405);
        assert_eq!(parse(&Method::GET, "/keys/k").unwrap_err().status, 404);
    }
}
