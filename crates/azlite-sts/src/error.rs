//! Entra's error vocabulary: the AADSTS codes azlite answers with, and their wire shape.
//!
//! Body shape (Entra, `v2-oauth2-client-creds-grant-flow`):
//! `{"error","error_description","error_codes":[n],"timestamp","trace_id","correlation_id"}`,
//! where the description ends with `\r\nTrace ID: …\r\nCorrelation ID: …\r\nTimestamp: …`.
//! The message texts follow the ones Entra returns; see `docs/protocols/sts.md` for where
//! azlite knowingly differs.

use azlite_store::StoreError;

/// Why a token request failed, as a client of Entra would be told.
#[derive(Debug, thiserror::Error)]
pub enum StsError {
    /// A required form parameter is missing (AADSTS900144).
    #[error("The request body must contain the following parameter: '{0}'.")]
    MissingParameter(&'static str),
    /// Neither a secret nor an assertion was sent (AADSTS7000218).
    #[error(
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'."
    )]
    MissingClientCredential,
    /// `grant_type` is not one azlite supports (AADSTS70003).
    #[error("The app requested an unsupported grant type '{0}'.")]
    UnsupportedGrantType(String),
    /// The tenant segment is neither a GUID nor a domain name (AADSTS900023).
    #[error(
        "Specified tenant identifier '{0}' is neither a valid DNS name, nor a valid external domain."
    )]
    MalformedTenant(String),
    /// No such tenant (AADSTS90002).
    #[error(
        "Tenant '{0}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."
    )]
    TenantNotFound(String),
    /// Client credentials sent to `common`/`organizations` (AADSTS50059).
    #[error(
        "No tenant-identifying information found in either the request or implied by any provided credentials."
    )]
    NoTenant,
    /// The client id is not a registered application in the tenant (AADSTS700016).
    #[error(
        "Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."
    )]
    UnknownClient {
        /// The client id as sent.
        client_id: String,
        /// The tenant's display name (or id).
        tenant: String,
    },
    /// Wrong client secret (AADSTS7000215).
    #[error(
        "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{0}'."
    )]
    InvalidClientSecret(String),
    /// The secret matched, but it has expired (AADSTS7000222).
    #[error(
        "The provided client secret keys for app '{0}' are expired. Visit the Azure portal to create new keys for your app: https://aka.ms/NewClientSecret, or consider using certificate credentials for added security: https://aka.ms/certCreds."
    )]
    ExpiredClientSecret(String),
    /// `client_assertion_type` is not the JWT bearer type (AADSTS50027 family).
    #[error(
        "client_assertion_type must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', got '{0}'."
    )]
    UnsupportedAssertionType(String),
    /// The assertion could not be parsed (AADSTS50027).
    #[error("JWT token is invalid or malformed. {0}")]
    MalformedAssertion(String),
    /// The assertion names a certificate the app does not have (AADSTS700027).
    #[error(
        "The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '{thumbprint}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
    )]
    UnknownAssertionCertificate {
        /// The thumbprint the client named.
        thumbprint: String,
        /// The client id.
        client_id: String,
    },
    /// The assertion's signature is wrong (AADSTS700027).
    #[error("Client assertion failed signature validation.")]
    InvalidAssertionSignature,
    /// The assertion is expired or not yet valid (AADSTS700024).
    #[error(
        "Client assertion is not within its valid time range. Current time: {now}, assertion valid from {nbf}, expiry time of assertion {exp}."
    )]
    AssertionOutOfTime {
        /// Now, formatted.
        now: String,
        /// nbf, formatted.
        nbf: String,
        /// exp, formatted.
        exp: String,
    },
    /// The certificate that signed the assertion is outside its key credential's dates
    /// (AADSTS700027, as Entra words it).
    #[error(
        "Client assertion contains an invalid signature. [Reason - The key used is {reason}., Thumbprint of key used by client: '{thumbprint}', Found key 'Start={start}, End={end}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '{client_id}'.]"
    )]
    AssertionCertificateOutOfTime {
        /// The certificate's `x5t`.
        thumbprint: String,
        /// The client id.
        client_id: String,
        /// `expired`, or `not yet valid`.
        reason: &'static str,
        /// The credential's start, formatted.
        start: String,
        /// The credential's end, formatted.
        end: String,
    },
    /// The assertion was presented before (AADSTS50013, Entra's code for an invalid
    /// assertion).
    #[error(
        "Assertion is invalid. [Reason - The client assertion with jti '{0}' has already been used; assertions are single-use.]"
    )]
    AssertionReplayed(String),
    /// The assertion is valid for longer than the STS accepts (AADSTS50013).
    #[error(
        "Assertion is invalid. [Reason - The client assertion is valid for {lifetime} seconds; at most {limit} are accepted.]"
    )]
    AssertionLifetimeTooLong {
        /// Its lifetime in seconds.
        lifetime: i64,
        /// The limit.
        limit: i64,
    },
    /// Too many unexpired assertions are remembered to accept another one now
    /// (AADSTS50013); see `replay`.
    #[error(
        "Assertion is invalid. [Reason - Too many client assertions are in use; retry when some have expired.]"
    )]
    TooManyAssertions,
    /// The assertion's issuer or subject is not the client (AADSTS700021).
    #[error(
        "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://docs.microsoft.com/en-us/azure/active-directory/develop/active-directory-certificate-credentials ."
    )]
    AssertionClientMismatch,
    /// The assertion was not made for this token endpoint (AADSTS50013).
    #[error(
        "Assertion failed signature validation. [Reason - The provided audience '{0}' does not match the token endpoint of this tenant.]"
    )]
    AssertionAudience(String),
    /// v1 request without `resource` (AADSTS50001).
    #[error("Resource identifier is not provided.")]
    MissingResource,
    /// v2 client-credentials scope without `/.default` (AADSTS1002012).
    #[error(
        "The provided value for scope {0} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."
    )]
    ScopeNotDefault(String),
    /// More than one resource in a v2 scope (AADSTS70011).
    #[error(
        "The provided value for the input parameter 'scope' is not valid. The scope {0} is not valid."
    )]
    InvalidScope(String),
    /// The resource is not known in the tenant (AADSTS500011).
    #[error(
        "The resource principal named {resource} was not found in the tenant named {tenant}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant."
    )]
    UnknownResource {
        /// The resource as requested.
        resource: String,
        /// The tenant's display name.
        tenant: String,
    },
    /// Token endpoints take POST only (AADSTS900561).
    #[error("The endpoint only accepts POST, OPTIONS requests. Received a {0} request.")]
    MethodNotAllowed(String),
    /// Signing or storage failed; the details go to the log, not to the client.
    #[error("An internal error occurred.")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

impl From<StoreError> for StsError {
    fn from(e: StoreError) -> Self {
        Self::Internal(Box::new(e))
    }
}

impl StsError {
    /// The AADSTS number.
    pub fn code(&self) -> u32 {
        match self {
            Self::MissingParameter(_) => 900144,
            Self::MissingClientCredential => 7000218,
            Self::UnsupportedGrantType(_) => 70003,
            Self::MalformedTenant(_) => 900023,
            Self::TenantNotFound(_) => 90002,
            Self::NoTenant => 50059,
            Self::UnknownClient { .. } => 700016,
            Self::InvalidClientSecret(_) => 7000215,
            Self::ExpiredClientSecret(_) => 7000222,
            Self::UnsupportedAssertionType(_) | Self::MalformedAssertion(_) => 50027,
            Self::UnknownAssertionCertificate { .. }
            | Self::InvalidAssertionSignature
            | Self::AssertionCertificateOutOfTime { .. } => 700027,
            Self::AssertionReplayed(_)
            | Self::AssertionLifetimeTooLong { .. }
            | Self::TooManyAssertions => 50013,
            Self::AssertionOutOfTime { .. } => 700024,
            Self::AssertionClientMismatch => 700021,
            Self::AssertionAudience(_) => 50013,
            Self::MissingResource => 50001,
            Self::ScopeNotDefault(_) => 1002012,
            Self::InvalidScope(_) => 70011,
            Self::UnknownResource { .. } => 500011,
            Self::MethodNotAllowed(_) => 900561,
            Self::Internal(_) => 90100,
        }
    }

    /// The OAuth `error` value.
    pub fn oauth_error(&self) -> &'static str {
        match self {
            Self::MissingParameter(_)
            | Self::MalformedTenant(_)
            | Self::TenantNotFound(_)
            | Self::NoTenant
            | Self::MethodNotAllowed(_) => "invalid_request",
            Self::UnsupportedGrantType(_) => "unsupported_grant_type",
            Self::UnknownClient { .. } => "unauthorized_client",
            Self::MissingClientCredential
            | Self::InvalidClientSecret(_)
            | Self::ExpiredClientSecret(_)
            | Self::UnsupportedAssertionType(_)
            | Self::MalformedAssertion(_)
            | Self::UnknownAssertionCertificate { .. }
            | Self::InvalidAssertionSignature
            | Self::AssertionCertificateOutOfTime { .. }
            | Self::AssertionReplayed(_)
            | Self::AssertionLifetimeTooLong { .. }
            | Self::TooManyAssertions
            | Self::AssertionOutOfTime { .. }
            | Self::AssertionClientMismatch
            | Self::AssertionAudience(_) => "invalid_client",
            Self::MissingResource | Self::UnknownResource { .. } => "invalid_resource",
            Self::ScopeNotDefault(_) | Self::InvalidScope(_) => "invalid_scope",
            Self::Internal(_) => "server_error",
        }
    }

    /// The HTTP status Entra uses: 401 for a client that failed to authenticate, 500 for
    /// internal failures, 400 otherwise.
    pub fn http_status(&self) -> u16 {
        match self.oauth_error() {
            "invalid_client" => 401,
            "server_error" => 500,
            _ => 400,
        }
    }
}
