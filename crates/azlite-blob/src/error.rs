//! Blob Storage's error envelope and the one mapping from errors to the wire.
//!
//! Every failure is `<?xml version="1.0" encoding="utf-8"?><Error><Code>…</Code><Message>…
//! RequestId:…\nTime:…</Message>[…]</Error>` with `Content-Type: application/xml` and the
//! code again in `x-ms-error-code` (a HEAD answer has no body, so clients read the header;
//! reference dataplane §2.2).
//!
//! 401/403/404 policy, the same on every route:
//! * An account that does not exist is not served at all (Azure's DNS would not resolve
//!   its host): the router answers before this service sees the request.
//! * 401 `NoAuthenticationInformation` with the Bearer challenge: no credential on a
//!   request that needs one; 401 `InvalidAuthenticationInfo` with the challenge: a bearer
//!   token that fails verification (audience, issuer or tenant, lifetime, signature).
//! * 403 `AuthenticationFailed`: a credential of a kind this listener or version refuses
//!   (Bearer over plain HTTP, Bearer below version 2017-11-09), with
//!   `AuthenticationErrorDetail`.
//! * 403 `AuthorizationPermissionMismatch`: a verified caller whose role assignments lack
//!   the operation's action or data action; checked before anything about the container or
//!   blob is read, so a caller without permission learns nothing about them.
//! * 404 `ContainerNotFound` / `BlobNotFound`: after authorization.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use azlite_content::ContentError;
use azlite_store::StoreError;

use crate::wire::xml_escape;

/// A Blob-shaped error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BlobError {
    /// HTTP status.
    pub status: StatusCode,
    /// `Code` and `x-ms-error-code`.
    pub code: &'static str,
    /// `Message` (the request id and time are appended when rendered).
    pub message: String,
    /// Further elements after `Message`, e.g. `HeaderName`, `AuthenticationErrorDetail`.
    pub details: Vec<(&'static str, String)>,
    /// The `WWW-Authenticate` value of a 401.
    pub challenge: Option<String>,
    /// Extra headers (`Content-Range` of a 416).
    pub headers: Vec<(&'static str, String)>,
}

impl std::fmt::Display for BlobError {
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

impl std::error::Error for BlobError {}

impl BlobError {
    /// A new error.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: Vec::new(),
            challenge: None,
            headers: Vec::new(),
        }
    }

    /// The same error with one more element after `Message`.
    pub fn with_detail(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.details.push((name, value.into()));
        self
    }

    /// 500, saying little (the log says all).
    pub fn internal() -> Self {
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "The server encountered an internal error. Please retry the request.",
        )
    }

    /// 400 `InvalidHeaderValue` naming the header.
    pub fn invalid_header(name: &str, value: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidHeaderValue",
            "The value for one of the HTTP headers is not in the correct format.",
        )
        .with_detail("HeaderName", name)
        .with_detail("HeaderValue", value)
    }

    /// 400 `MissingRequiredHeader` naming the header.
    pub fn missing_header(name: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "MissingRequiredHeader",
            "An HTTP header that's mandatory for this request is not specified.",
        )
        .with_detail("HeaderName", name)
    }

    /// 400 `InvalidQueryParameterValue` naming the parameter.
    pub fn invalid_query(name: &str, value: &str) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidQueryParameterValue",
            "Value for one of the query parameters specified in the request URI is invalid.",
        )
        .with_detail("QueryParameterName", name)
        .with_detail("QueryParameterValue", value)
    }

    /// 404 `ResourceNotFound`: an account that does not exist (or no longer does).
    pub fn account_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ResourceNotFound",
            "The specified resource does not exist.",
        )
    }

    /// 404 `ContainerNotFound`.
    pub fn container_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "ContainerNotFound",
            "The specified container does not exist.",
        )
    }

    /// 404 `BlobNotFound`.
    pub fn blob_not_found() -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "BlobNotFound",
            "The specified blob does not exist.",
        )
    }

    /// 412 `ConditionNotMet`.
    pub fn condition_not_met() -> Self {
        Self::new(
            StatusCode::PRECONDITION_FAILED,
            "ConditionNotMet",
            "The condition specified using HTTP conditional header(s) is not met.",
        )
    }

    /// 400 `InvalidInput` (a body that is not what the operation takes).
    pub fn invalid_xml() -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "InvalidXmlDocument",
            "XML specified is not syntactically valid.",
        )
    }

    /// The error rendered with this request id and time.
    pub fn render(self, request_id: &str, time: &str) -> Response {
        if self.status == StatusCode::NOT_MODIFIED {
            let mut response = self.status.into_response();
            response
                .headers_mut()
                .insert("x-ms-error-code", HeaderValue::from_static(self.code));
            return response;
        }
        let mut body = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>");
        body.push_str(self.code);
        body.push_str("</Code><Message>");
        body.push_str(&xml_escape(&format!(
            "{}\nRequestId:{request_id}\nTime:{time}",
            self.message
        )));
        body.push_str("</Message>");
        for (name, value) in &self.details {
            body.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
        }
        body.push_str("</Error>");
        let mut response = (self.status, body).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/xml"),
        );
        headers.insert("x-ms-error-code", HeaderValue::from_static(self.code));
        if let Some(challenge) = self.challenge.and_then(|c| HeaderValue::from_str(&c).ok()) {
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
        response
    }
}

impl From<StoreError> for BlobError {
    fn from(error: StoreError) -> Self {
        tracing::error!(error = %error, source = ?std::error::Error::source(&error), "store failed");
        Self::internal()
    }
}

impl From<ContentError> for BlobError {
    fn from(error: ContentError) -> Self {
        match error {
            ContentError::TooLarge { .. } => Self::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "RequestBodyTooLarge",
                "The request body is too large and exceeds the maximum permissible limit.",
            ),
            ContentError::LengthMismatch { .. } | ContentError::Body(_) => Self::new(
                StatusCode::BAD_REQUEST,
                "InvalidInput",
                "One of the request inputs is not valid.",
            ),
            other => {
                tracing::error!(error = %other, source = ?std::error::Error::source(&other), "content store failed");
                Self::internal()
            }
        }
    }
}
