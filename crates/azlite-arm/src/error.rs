//! ARM's error envelope, `{"error":{"code","message"}}`, and the codes azlite answers with.
//!
//! One mapping to the wire for the whole service. Message templates follow the ones real
//! ARM returns (`shared/reference/arm-rbac-protocol.md` §1.8, §3.6).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An ARM-shaped error: status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
}

impl ArmError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 400 with `code`.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    /// 404 with `code`.
    pub fn not_found(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, code, message)
    }

    /// A failure that is ours, not the caller's: the details go to the log.
    pub fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %error, chain = ?error, "ARM request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalServerError",
            "The server encountered an internal error. Please retry the request.",
        )
    }

    /// 403 AuthorizationFailed, worded as ARM words it.
    pub fn authorization_failed(client: &str, object_id: &str, action: &str, scope: &str) -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "AuthorizationFailed",
            format!(
                "The client '{client}' with object id '{object_id}' does not have authorization to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials."
            ),
        )
    }
}

impl std::fmt::Display for ArmError {
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

impl std::error::Error for ArmError {}

impl From<azlite_store::StoreError> for ArmError {
    fn from(e: azlite_store::StoreError) -> Self {
        Self::internal(&e)
    }
}

impl IntoResponse for ArmError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let description = match self.code {
                "AuthenticationFailed" => {
                    "The authentication failed because of missing 'Authorization' header."
                }
                "AuthenticationFailedInvalidHeader" => {
                    "The authentication failed because of an invalid 'Authorization' header."
                }
                "ExpiredAuthenticationToken" => "The access token has expired.",
                "InvalidAuthenticationTokenAudience" => {
                    "The access token has been obtained for the wrong audience."
                }
                _ => "The access token is invalid.",
            };
            let challenge = format!(
                "Bearer authorization_uri=\"https://login.microsoftonline.com/common\", error=\"invalid_token\", error_description=\"{description}\""
            );
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}
