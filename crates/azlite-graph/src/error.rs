//! Microsoft Graph's error envelope and the one mapping from errors to the wire.
//!
//! Graph answers every failure with
//! `{"error":{"code","message","innerError":{"date","request-id","client-request-id"}}}`.
//! The codes are the directory's own (`Request_ResourceNotFound`, `Authorization_RequestDenied`,
//! ...), not ARM's; the messages follow the ones Graph returns.
//!
//! 401/403/404 policy, the same on every route:
//! * 401 `InvalidAuthenticationToken`: no bearer token, or one that fails
//!   `azlite_token::verify` (Graph's audiences, an issuer of a tenant azlite knows). Every 401
//!   carries Graph's `WWW-Authenticate` challenge.
//! * 403 `Authorization_RequestDenied` ("Insufficient privileges to complete the
//!   operation."): a caller whose token's `roles` hold none of the Microsoft Graph
//!   application permissions the operation accepts (reads: `Application.Read.All` and up;
//!   writes: `Application.ReadWrite.All` or `Directory.ReadWrite.All`; app role grants:
//!   `AppRoleAssignment.ReadWrite.All` and up; `getByIds`: `Directory.Read.All` and up), and
//!   who is not azlite's directory administrator. Checked before any lookup, so it says
//!   nothing about whether the object exists.
//! * 404 `Request_ResourceNotFound`: an object that does not exist *or lives in another
//!   tenant* (a tenant sees only its own directory).

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::wire::RequestContext;

/// Graph's challenge on a 401: where to get a token, and for which resource.
const CHALLENGE: &str = "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"";

/// A Graph-shaped error: status, code, message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GraphError {
    /// HTTP status.
    pub status: StatusCode,
    /// `error.code`.
    pub code: &'static str,
    /// `error.message`.
    pub message: String,
}

impl GraphError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 401 `InvalidAuthenticationToken`.
    pub(crate) fn unauthenticated(message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            message,
        )
    }

    /// 403 `Authorization_RequestDenied`, in Graph's words.
    pub(crate) fn insufficient_privileges() -> Self {
        Self::new(
            StatusCode::FORBIDDEN,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        )
    }

    /// 404 `Request_ResourceNotFound` for the object `id` (as the caller wrote it).
    pub(crate) fn not_found(id: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            format!(
                "Resource '{id}' does not exist or one of its queried reference-property objects are not present."
            ),
        )
    }

    /// 400 `Request_BadRequest`.
    pub(crate) fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_BadRequest", message)
    }

    /// 400 `Request_BadRequest` for a property value Graph refuses.
    pub(crate) fn invalid_value(property: &str, resource: &str) -> Self {
        Self::bad_request(format!(
            "Invalid value specified for property '{property}' of resource '{resource}'."
        ))
    }

    /// 400 `Request_UnsupportedQuery`: a query Graph would understand but azlite does not
    /// serve (or Graph does not support for this collection).
    pub(crate) fn unsupported_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "Request_UnsupportedQuery", message)
    }

    /// A failure that is ours, not the caller's: the details go to the log, not the wire.
    pub(crate) fn internal(error: &(dyn std::error::Error + 'static)) -> Self {
        tracing::error!(error = %error, chain = ?error, "Graph request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "generalException",
            "An internal server error occurred.",
        )
    }

    /// The one rendering of an error: Graph's envelope, with the request's ids.
    pub(crate) fn into_response(self, context: &RequestContext) -> Response {
        let body = json!({
            "error": {
                "code": self.code,
                "message": self.message,
                "innerError": {
                    "date": context.date(),
                    "request-id": context.request_id,
                    "client-request-id": context.client_request_id,
                },
            },
        });
        let mut response = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static(CHALLENGE),
            );
        }
        response
    }
}

impl std::fmt::Display for GraphError {
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

impl std::error::Error for GraphError {}

impl From<azlite_store::StoreError> for GraphError {
    fn from(e: azlite_store::StoreError) -> Self {
        Self::internal(&e)
    }
}
