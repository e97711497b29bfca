//! Who is calling: a bearer token for Graph's audience, verified with
//! [`azlite_token::verify`] against the STS's published keys, from a tenant azlite knows.

use axum::http::{HeaderMap, header};
use azlite_token::{IssuerPolicy, TokenError, Validation, verify_with_cache};
use azlite_types::{ObjectId, TenantId};

use crate::{Graph, GraphError};

/// The audiences Graph accepts: its App ID URI with and without the slash, and its app id
/// (a v2 token for `00000003-…/.default` carries the app id).
pub const GRAPH_AUDIENCES: [&str; 3] = [
    "https://graph.microsoft.com",
    "https://graph.microsoft.com/",
    "00000003-0000-0000-c000-000000000000",
];

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `oid`: the principal.
    pub object_id: ObjectId,
    /// `tid`: the directory the caller sees.
    pub tenant_id: TenantId,
    /// `roles`: the application permissions granted to the caller on Microsoft Graph.
    pub roles: Vec<String>,
}

/// Graph's words for a token the verifier refused.
fn token_error(error: &TokenError) -> GraphError {
    GraphError::unauthenticated(match error {
        TokenError::Malformed(_) => {
            "CompactToken parsing failed with error code: 80049217".to_owned()
        }
        TokenError::Expired { .. } => {
            "Lifetime validation failed, the token is expired.".to_owned()
        }
        TokenError::NotYetValid { .. } => {
            "Lifetime validation failed, the token is not yet valid.".to_owned()
        }
        TokenError::InvalidAudience(_) => {
            "Access token validation failure. Invalid audience.".to_owned()
        }
        TokenError::InvalidIssuer(_) => {
            "Access token validation failure. Invalid issuer.".to_owned()
        }
        other => format!("Access token validation failure. {other}"),
    })
}

impl Caller {
    /// Verifies the bearer token of a request.
    pub(crate) async fn authenticate(
        graph: &Graph,
        headers: &HeaderMap,
    ) -> Result<Self, GraphError> {
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .filter(|(scheme, token)| {
                scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()
            })
            .map(|(_, token)| token.trim())
            .ok_or_else(|| GraphError::unauthenticated("Access token is empty."))?;
        let validation = Validation::new(
            GRAPH_AUDIENCES.iter().map(|a| (*a).to_owned()).collect(),
            IssuerPolicy::AnyEntraTenant,
        );
        let keys = graph.keys.key_ring();
        let now = graph.clock.now();
        let verified = verify_with_cache(token, &keys, &validation, now, &graph.signatures)
            .map_err(|e| token_error(&e))?;
        let claims = &verified.claims;
        let tenant_id: TenantId = claims.tid.parse().map_err(|_| {
            GraphError::unauthenticated("Access token validation failure. Invalid issuer.")
        })?;
        if graph.store.get_tenant(tenant_id).await?.is_none() {
            return Err(GraphError::unauthenticated(
                "Access token validation failure. Invalid issuer.",
            ));
        }
        let object_id: ObjectId = claims.oid.parse().map_err(|_| {
            GraphError::unauthenticated(
                "Access token validation failure. The token has no valid 'oid' claim.",
            )
        })?;
        Ok(Self {
            object_id,
            tenant_id,
            roles: claims.roles.clone().unwrap_or_default(),
        })
    }
}
