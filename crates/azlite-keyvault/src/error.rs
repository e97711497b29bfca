//! Key Vault's error envelope and the one mapping from errors to the wire.
//!
//! Every failure is `{"error":{"code","message"[,"innererror":{"code"}]}}` (reference §1.5).
//!
//! 401/403/404 policy, the same on every route:
//! * 404 `VaultNotFound`: the host names no vault (Azure's DNS would not resolve it); the
//!   only answer given before authentication, as nothing else can be said without a tenant.
//! * 401 `Unauthorized` with the `WWW-Authenticate` challenge: no bearer token (`AKV10000`,
//!   answered before the body is read), or a token that fails verification (audience
//!   `AKV10022`, issuer or tenant `AKV10032`, others `AKV10013`/`AKV10014`).
//! * 403 `Forbidden`: the caller lacks the permission: innererror `AccessDenied` (access
//!   policies) or `ForbiddenByRbac` (RBAC vault); `SecretDisabled` for a disabled version.
//! * 404 `SecretNotFound`: no such secret, version or deleted secret, *after* the caller
//!   was authorized for the operation (so a caller without permission learns nothing).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_store::StoreError;
use serde_json::json;

/// A Key Vault-shaped error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyVaultError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
    /// `error.innererror.code`.
    pub inner: Option<&'static str>,
    /// The `WWW-Authenticate` value of a 401.
    pub challenge: Option<String>,
}

impl std::fmt::Display for KeyVaultError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.code,
            self.message
        )
    }
}

impl std::error::Error for KeyVaultError {}

impl KeyVaultError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            inner: None,
            challenge: None,
        }
    }

    /// The same error with an `innererror` code.
    pub fn with_inner(mut self, inner: &'static str) -> Self {
        self.inner = Some(inner);
        self
    }

    /// 400 `BadParameter`.
    pub(crate) fn bad_parameter(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "BadParameter", message)
    }

    /// 404 `SecretNotFound` for an active secret (or one of its versions).
    pub(crate) fn secret_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!(
                "A secret with (name/id) {name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182"
            ),
        )
    }

    /// 404 `SecretNotFound` for a deleted secret.
    pub(crate) fn deleted_secret_not_found(name: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "SecretNotFound",
            format!("Deleted Secret not found: {name}"),
        )
    }

    /// 409 `Conflict` / `ObjectIsDeletedButRecoverable`.
    pub(crate) fn deleted_but_recoverable(name: &str) -> Self {
        Self::new(
            StatusCode::CONFLICT,
            "Conflict",
            format!(
                "Secret {name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged."
            ),
        )
        .with_inner("ObjectIsDeletedButRecoverable")
    }

    /// 500, saying little (the log says all).
    pub(crate) fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The service encountered an internal error.",
        )
    }
}

impl From<StoreError> for KeyVaultError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = ?error, "Key Vault store call failed");
        Self::internal()
    }
}

impl IntoResponse for KeyVaultError {
    fn into_response(self) -> Response {
        let mut error = json!({ "code": self.code, "message": self.message });
        if let Some(inner) = self.inner {
            error["innererror"] = json!({ "code": inner });
        }
        let mut response = (
            self.status,
            crate::wire::json_body(&json!({ "error": error })),
        )
            .into_response();
        if let Some(challenge) = self.challenge
            && let Ok(value) = HeaderValue::from_str(&challenge)
        {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, value);
        }
        response
    }
}
