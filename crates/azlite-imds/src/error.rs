//! Why a request got no token, and the three wire shapes the endpoints answer with:
//!
//! - IMDS, the VM extension's GET and Arc: `{"error":"<code>","error_description":"<text>"}`
//!   (reference §1.3), except a bad `api-version`, which gets IMDS's general form
//!   `{"error":"Bad request. api-version …","newest-versions":[…]}` (IMDS-doc "Versioning");
//! - Cloud Shell (a form POST to the extension's address):
//!   `{"error":{"code":"<code>","message":"<text>"}}` (reference §2.2, MSAL-CS);
//! - App Service: `{"statusCode":<n>,"message":"<text>"}` (reference §2.3; MSAL reads these
//!   two members).
//!
//! Texts marked \[U\] in the reference (X-Forwarded-For, several selectors, duplicate
//! parameters, a wrong verb) are azlite's wording; the crate documentation lists them.
//! A 500 says only that the token could not be had; the log gets the source chain.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_token::ManagedIdentityTokenError;
use serde_json::{Value, json};

use crate::request::NEWEST_VERSIONS;
use crate::source::SourceError;

/// A failed request to one of the endpoints.
#[derive(Debug, thiserror::Error)]
pub enum ImdsError {
    /// No `Metadata: true` header (SSRF protection).
    #[error("Required metadata header not specified")]
    MissingMetadataHeader,
    /// The request carries `X-Forwarded-For`: it went through a proxy.
    #[error("Request contains an X-Forwarded-For header; requests through a proxy are not allowed")]
    ForwardedRequest,
    /// A query parameter appears twice.
    #[error("Duplicate query parameter '{0}' in the request")]
    DuplicateParameter(String),
    /// `api-version` missing or not one this endpoint serves.
    #[error(
        "Bad request. api-version is invalid or was not specified in the request. For more information refer to aka.ms/azureimds"
    )]
    InvalidApiVersion,
    /// No `resource`.
    #[error("Required query variable 'resource' is missing")]
    MissingResource,
    /// More than one of `client_id`, `object_id`, `msi_res_id`/`mi_res_id`.
    #[error("Only one of client_id, object_id or msi_res_id may be specified in the request")]
    ConflictingSelectors,
    /// The identity asked for (or the default one) is not on the VM.
    #[error("Identity not found")]
    IdentityNotFound,
    /// Several user-assigned identities, no system-assigned one, none named.
    #[error(
        "Multiple user assigned identities exist, please specify the clientId / resourceId of the identity in the token request"
    )]
    MultipleUserAssignedIdentities,
    /// The STS does not know the resource (its AADSTS text).
    #[error("{description}")]
    UnknownResource {
        /// Entra's description, `AADSTS500011: …`.
        description: String,
    },
    /// Over the managed-identity rate limits (20 per second, 5 at once).
    #[error("Too many requests")]
    Throttled,
    /// Another verb than the endpoint takes.
    #[error("Http method not allowed: Path = '{path}', Method = '{method}'")]
    MethodNotAllowed {
        /// The path.
        path: String,
        /// The verb.
        method: String,
        /// The verbs the path takes, for `Allow`.
        allow: &'static str,
    },
    /// The VM this endpoint serves does not exist (any more).
    #[error("The virtual machine was not found")]
    VmNotFound,
    /// A route filter under `/metadata/instance` names nothing.
    #[error("Not found. The path does not name a node of the instance metadata")]
    MetadataNotFound,
    /// A route filter names a leaf, which IMDS serves only with `format=text`.
    #[error("Bad request. A leaf node can only be requested with format=text")]
    LeafNeedsTextFormat,
    /// App Service 2019-08-01: `X-IDENTITY-HEADER` missing or wrong.
    #[error("The X-IDENTITY-HEADER header is missing or does not match IDENTITY_HEADER")]
    WrongIdentityHeader,
    /// App Service 2017-09-01: `Secret` missing or wrong.
    #[error("The Secret header is missing or does not match MSI_SECRET")]
    WrongSecret,
    /// Arc: the `Authorization: Basic` secret is not one the endpoint handed out.
    #[error("The secret in the Authorization header is not valid")]
    WrongArcSecret,
    /// The store or the STS failed.
    #[error("Failed to retrieve token from the Active directory.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<ManagedIdentityTokenError> for ImdsError {
    fn from(e: ManagedIdentityTokenError) -> Self {
        match e {
            // The identity left the directory between the VM read and the STS call.
            ManagedIdentityTokenError::UnknownIdentity(_) => Self::IdentityNotFound,
            ManagedIdentityTokenError::UnknownResource { description, .. } => {
                Self::UnknownResource { description }
            }
            ManagedIdentityTokenError::Internal(source) => Self::Internal(source),
        }
    }
}

impl From<SourceError> for ImdsError {
    fn from(e: SourceError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl ImdsError {
    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Throttled => StatusCode::TOO_MANY_REQUESTS,
            Self::MethodNotAllowed { .. } => StatusCode::METHOD_NOT_ALLOWED,
            Self::VmNotFound | Self::MetadataNotFound => StatusCode::NOT_FOUND,
            Self::WrongIdentityHeader => StatusCode::FORBIDDEN,
            Self::WrongSecret | Self::WrongArcSecret => StatusCode::UNAUTHORIZED,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The `error` code of IMDS's identity errors (IMDS-swagger `IdentityErrorResponse`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::MissingMetadataHeader => "bad_request_102",
            Self::ForwardedRequest | Self::InvalidApiVersion | Self::LeafNeedsTextFormat => {
                "bad_request"
            }
            Self::DuplicateParameter(_)
            | Self::MissingResource
            | Self::ConflictingSelectors
            | Self::IdentityNotFound
            | Self::MultipleUserAssignedIdentities => "invalid_request",
            Self::UnknownResource { .. } => "invalid_resource",
            Self::Throttled => "too_many_requests",
            Self::MethodNotAllowed { .. } => "method_not_allowed",
            Self::VmNotFound | Self::MetadataNotFound => "not_found",
            Self::WrongIdentityHeader => "forbidden",
            Self::WrongSecret | Self::WrongArcSecret => "unauthorized_client",
            Self::Internal(_) => "unknown",
        }
    }

    fn log(&self) {
        if let Self::Internal(source) = self {
            tracing::error!(error = %source, chain = ?source, "managed identity endpoint failure");
        }
    }

    fn finish(&self, body: Value) -> Response {
        self.log();
        let mut response = (self.status(), Json(body)).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        match self {
            Self::Throttled => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            Self::MethodNotAllowed { allow, .. } => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            _ => {}
        }
        response
    }

    /// IMDS's shape.
    pub fn to_imds_response(&self) -> Response {
        let body = match self {
            Self::InvalidApiVersion => json!({
                "error": self.to_string(),
                "newest-versions": NEWEST_VERSIONS,
            }),
            _ => json!({ "error": self.code(), "error_description": self.to_string() }),
        };
        self.finish(body)
    }

    /// Cloud Shell's shape.
    pub fn to_cloud_shell_response(&self) -> Response {
        self.finish(json!({ "error": { "code": self.code(), "message": self.to_string() } }))
    }

    /// App Service's shape.
    pub fn to_app_service_response(&self) -> Response {
        self.finish(json!({ "statusCode": self.status().as_u16(), "message": self.to_string() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn body(response: Response) -> String {
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn the_missing_header_body_is_byte_for_byte_imds() {
        let response = ImdsError::MissingMetadataHeader.to_imds_response();
        assert_eq!(response.status(), 400);
        let text = body(response).await;
        assert_eq!(
            text,
            r#"{"error":"bad_request_102","error_description":"Required metadata header not specified"}"#
        );
        // The length of the body captured from real IMDS (azure-sdk-for-js#11369).
        assert_eq!(text.len(), 88);
    }

    #[tokio::test]
    async fn each_protocol_has_its_shape() {
        let error = ImdsError::IdentityNotFound;
        assert_eq!(
            body(error.to_cloud_shell_response()).await,
            r#"{"error":{"code":"invalid_request","message":"Identity not found"}}"#
        );
        assert_eq!(
            body(error.to_app_service_response()).await,
            r#"{"statusCode":400,"message":"Identity not found"}"#
        );
        let throttled = ImdsError::Throttled.to_imds_response();
        assert_eq!(throttled.status(), 429);
        assert_eq!(throttled.headers()[header::RETRY_AFTER], "1");
    }
}
