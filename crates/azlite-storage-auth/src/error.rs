//! The one error type: each variant is an Azure Storage error code, with the message and
//! `AuthenticationErrorDetail` the service puts in its XML error body.
//!
//! Every failure here is a 403 (a malformed `Authorization` header is a 400), as in Azure: a request whose credential is malformed, wrong,
//! expired or too narrow is refused with `AuthenticationFailed` (the detail tells which) or
//! one of the `Authorization*Mismatch` codes. The Blob service renders them in its XML shape.

use std::net::IpAddr;

/// Why a Shared Key or SAS request was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// The credential is malformed, does not verify, or is outside its time frame.
    #[error("AuthenticationFailed: {detail}")]
    AuthenticationFailed {
        /// Azure's `AuthenticationErrorDetail`, e.g. "Signature did not match. String to
        /// sign used was …".
        detail: String,
    },
    /// The signature verified, but the operation is not one this kind of credential may
    /// perform at all (a service SAS creating a container, a SAS asking for a user
    /// delegation key).
    #[error("AuthorizationFailure")]
    AuthorizationFailure,
    /// The SAS's permissions (`sp`) do not include what the operation needs.
    #[error("AuthorizationPermissionMismatch")]
    AuthorizationPermissionMismatch,
    /// The account SAS's resource types (`srt`) do not include the addressed level.
    #[error("AuthorizationResourceTypeMismatch")]
    AuthorizationResourceTypeMismatch,
    /// The account SAS's services (`ss`) do not include the service addressed.
    #[error("AuthorizationServiceMismatch")]
    AuthorizationServiceMismatch,
    /// The client's address is outside the SAS's `sip`.
    #[error("AuthorizationSourceIPMismatch: {source_ip}")]
    AuthorizationSourceIpMismatch {
        /// The address the request came from.
        source_ip: IpAddr,
    },
    /// The SAS allows `https` only and the request came over plain HTTP.
    #[error("AuthorizationProtocolMismatch")]
    AuthorizationProtocolMismatch,
    /// The account's `allowSharedKeyAccess` is false and the request used Shared Key, Shared
    /// Key Lite, or a SAS signed with an account key.
    #[error("KeyBasedAuthenticationNotPermitted")]
    KeyBasedAuthenticationNotPermitted,
    /// The `Authorization` header is not in a form the service knows (400, not 403).
    #[error("InvalidAuthenticationInfo")]
    InvalidAuthenticationInfo,
}

/// Azure's message for `AuthenticationFailed` (the service appends `RequestId` and `Time`).
pub const AUTHENTICATION_FAILED_MESSAGE: &str = "Server failed to authenticate the request. Make sure the value of Authorization header is formed correctly including the signature.";

impl AuthError {
    /// An `AuthenticationFailed` with this detail.
    pub fn authentication_failed(detail: impl Into<String>) -> Self {
        AuthError::AuthenticationFailed {
            detail: detail.into(),
        }
    }

    /// The HTTP status: 403, but 400 for a malformed `Authorization` header, as Azure
    /// answers.
    pub fn status(&self) -> u16 {
        match self {
            AuthError::InvalidAuthenticationInfo => 400,
            _ => 403,
        }
    }

    /// The `x-ms-error-code` and `<Code>`.
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::AuthenticationFailed { .. } => "AuthenticationFailed",
            AuthError::AuthorizationFailure => "AuthorizationFailure",
            AuthError::AuthorizationPermissionMismatch => "AuthorizationPermissionMismatch",
            AuthError::AuthorizationResourceTypeMismatch => "AuthorizationResourceTypeMismatch",
            AuthError::AuthorizationServiceMismatch => "AuthorizationServiceMismatch",
            AuthError::AuthorizationSourceIpMismatch { .. } => "AuthorizationSourceIPMismatch",
            AuthError::AuthorizationProtocolMismatch => "AuthorizationProtocolMismatch",
            AuthError::KeyBasedAuthenticationNotPermitted => "KeyBasedAuthenticationNotPermitted",
            AuthError::InvalidAuthenticationInfo => "InvalidAuthenticationInfo",
        }
    }

    /// The first line of `<Message>`, as Azure words it.
    pub fn message(&self) -> String {
        match self {
            AuthError::AuthenticationFailed { .. } => AUTHENTICATION_FAILED_MESSAGE.to_owned(),
            AuthError::AuthorizationFailure => {
                "This request is not authorized to perform this operation.".to_owned()
            }
            AuthError::AuthorizationPermissionMismatch => {
                "This request is not authorized to perform this operation using this permission."
                    .to_owned()
            }
            AuthError::AuthorizationResourceTypeMismatch => {
                "This request is not authorized to perform this operation using this resource type."
                    .to_owned()
            }
            AuthError::AuthorizationServiceMismatch => {
                "This request is not authorized to perform this operation using this service."
                    .to_owned()
            }
            AuthError::AuthorizationSourceIpMismatch { source_ip } => format!(
                "This request is not authorized to perform this operation using this source IP {source_ip}."
            ),
            AuthError::AuthorizationProtocolMismatch => {
                "This request is not authorized to perform this operation using this protocol."
                    .to_owned()
            }
            AuthError::KeyBasedAuthenticationNotPermitted => {
                "Key based authentication is not permitted on this storage account.".to_owned()
            }
            AuthError::InvalidAuthenticationInfo => {
                "Authentication information is not given in the correct format. Check the value of Authorization header."
                    .to_owned()
            }
        }
    }

    /// `<AuthenticationErrorDetail>`, present on `AuthenticationFailed` only.
    pub fn authentication_error_detail(&self) -> Option<&str> {
        match self {
            AuthError::AuthenticationFailed { detail } => Some(detail),
            _ => None,
        }
    }
}
