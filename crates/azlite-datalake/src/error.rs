//! The one mapping from failures to WebHDFS's wire: a `RemoteException` body (Hadoop's
//! convention, reference §4.3) with Gen1's exception names, statuses and messages, which end
//! in `[<request id>][<timestamp>]` as Gen1's do.
//!
//! The 401/403/404 policy: a request without a valid token for the account's tenant and
//! Data Lake's audience is 401 (`SecurityException`, Hadoop's mapping of authentication
//! failures; Gen1's own 401 body is not documented); an ACL check that fails anywhere on
//! the path is 403 `AccessControlException` ("Either the resource does not exist or the
//! user is not authorized"), also when the path does not exist below the point the caller
//! may not traverse, so existence never leaks; only a caller who may look gets 404.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::tree::TreeError;

/// A WebHDFS error answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{status} {exception}: {message}")]
pub struct DataLakeError {
    /// The HTTP status.
    pub status: StatusCode,
    /// `exception`.
    pub exception: &'static str,
    /// `javaClassName`.
    pub java_class_name: &'static str,
    /// `message`, without the request-id suffix.
    pub message: String,
}

impl DataLakeError {
    /// 400 `IllegalArgumentException`.
    pub fn illegal_argument(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            exception: "IllegalArgumentException",
            java_class_name: "java.lang.IllegalArgumentException",
            message: message.into(),
        }
    }

    /// 401 `SecurityException`.
    pub fn unauthenticated(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            exception: "SecurityException",
            java_class_name: "java.lang.SecurityException",
            message: message.into(),
        }
    }

    /// 403 `AccessControlException` for operation `op`.
    pub fn forbidden(op: &str) -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            exception: "AccessControlException",
            java_class_name: "org.apache.hadoop.security.AccessControlException",
            message: format!(
                "{op} failed with error 0x83090aa2 (Forbidden. ACL verification failed. Either \
                 the resource does not exist or the user is not authorized to perform the \
                 requested operation.)."
            ),
        }
    }

    /// 404 `FileNotFoundException`.
    pub fn not_found(op: &str, path: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            exception: "FileNotFoundException",
            java_class_name: "java.io.FileNotFoundException",
            message: format!(
                "{op} failed with error 0x8309000a (File/Folder does not exist: {path})."
            ),
        }
    }

    /// 404 for a host that names no Data Lake Store account.
    pub fn no_account(name: &str) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            exception: "FileNotFoundException",
            java_class_name: "java.io.FileNotFoundException",
            message: format!("The Data Lake Store account '{name}' does not exist."),
        }
    }

    /// 500, saying little (the log says all).
    pub fn internal() -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            exception: "RuntimeException",
            java_class_name: "java.lang.RuntimeException",
            message: "Internal server error.".to_owned(),
        }
    }

    /// The failure of the tree operation `op`.
    pub fn from_tree(op: &str, error: TreeError) -> Self {
        let with = |status, exception, java_class_name, message: String| Self {
            status,
            exception,
            java_class_name,
            message,
        };
        match error {
            TreeError::Forbidden => Self::forbidden(op),
            TreeError::NotFound(path) => Self::not_found(op, &path),
            TreeError::AlreadyExists(path) => with(
                StatusCode::FORBIDDEN,
                "FileAlreadyExistsException",
                "org.apache.hadoop.fs.FileAlreadyExistsException",
                format!(
                    "{op} failed with error 0x83090455 (The file or folder already exists: {path})."
                ),
            ),
            TreeError::BadOffset => with(
                StatusCode::BAD_REQUEST,
                "BadOffsetException",
                "org.apache.hadoop.fs.adl.BadOffsetException",
                format!("{op} failed with error 0x83090015 (Bad request. Invalid offset.)."),
            ),
            TreeError::NotEmpty(path) => with(
                StatusCode::FORBIDDEN,
                "AccessControlException",
                "org.apache.hadoop.security.AccessControlException",
                format!(
                    "{op} failed with error 0x83090f1d (The folder is not empty: {path}; use recursive=true)."
                ),
            ),
            TreeError::NotADirectory(path) => with(
                StatusCode::FORBIDDEN,
                "FileAlreadyExistsException",
                "org.apache.hadoop.fs.FileAlreadyExistsException",
                format!("{op} failed with error 0x83090056 (A file is in the way: {path})."),
            ),
            TreeError::NotAFile(path) => with(
                StatusCode::BAD_REQUEST,
                "IllegalArgumentException",
                "java.lang.IllegalArgumentException",
                format!("{op} failed with error 0x83090a16 (Not a file: {path})."),
            ),
            TreeError::InvalidArgument(message) => {
                Self::illegal_argument(format!("{op} failed: {message}"))
            }
            TreeError::Store(e) => {
                tracing::error!(error = %e, "Data Lake store failure");
                Self::internal()
            }
            TreeError::Content(azlite_content::ContentError::TooLarge { max }) => {
                Self::illegal_argument(format!("{op} failed: the body is longer than {max} bytes."))
            }
            TreeError::Content(azlite_content::ContentError::Body(e)) => Self::illegal_argument(
                format!("{op} failed: the request body could not be read: {e}."),
            ),
            TreeError::Content(e) => {
                tracing::error!(error = %e, "Data Lake content failure");
                Self::internal()
            }
        }
    }
}

impl IntoResponse for DataLakeError {
    fn into_response(self) -> Response {
        let request_id = uuid::Uuid::new_v4();
        let now = time::OffsetDateTime::now_utc();
        let stamp = now
            .format(&time::macros::format_description!(
                "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .unwrap_or_default();
        let body = serde_json::json!({
            "RemoteException": {
                "exception": self.exception,
                "message": format!("{} [{request_id}][{stamp}-08:00]", self.message),
                "javaClassName": self.java_class_name,
            }
        });
        let mut response = (self.status, body.to_string()).into_response();
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json; charset=utf-8"),
        );
        if let Ok(id) = HeaderValue::from_str(&request_id.to_string()) {
            headers.insert("x-ms-request-id", id);
        }
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        response
    }
}
