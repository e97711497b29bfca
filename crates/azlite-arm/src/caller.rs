//! Who is calling: the verified token's principal.

use axum::http::{HeaderMap, StatusCode};
use azlite_types::{ObjectId, TenantId};

use crate::{Arm, ArmError, auth};

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `oid`: the principal RBAC evaluates.
    pub object_id: ObjectId,
    /// How ARM names the client in errors: the app id of an application, else the UPN.
    pub client: String,
    /// `tid`.
    pub tenant_id: TenantId,
}

impl Caller {
    /// Verifies the bearer token: a token for ARM's audience from a tenant azlite knows.
    pub(crate) async fn authenticate(arm: &Arm, headers: &HeaderMap) -> Result<Self, ArmError> {
        let keys = arm.keys.key_ring();
        let token = auth::authenticate_shared(
            headers,
            &keys,
            &arm.validation,
            arm.clock.now(),
            &arm.signatures,
        )?;
        let claims = &token.claims;
        let invalid = |why: &str| {
            ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationToken",
                format!("The access token is invalid. {why}"),
            )
        };
        let tenant_id: TenantId = claims
            .tid
            .parse()
            .map_err(|_| invalid("The 'tid' claim is not a tenant id."))?;
        if arm.store.get_tenant(tenant_id).await?.is_none() {
            return Err(ArmError::new(
                StatusCode::UNAUTHORIZED,
                "InvalidAuthenticationTokenTenant",
                format!(
                    "The access token is from the wrong issuer '{}'. It must match one of the tenants associated with this service.",
                    claims.iss
                ),
            ));
        }
        let object_id: ObjectId = claims.oid.parse().map_err(|_| {
            invalid("The received access token is not valid: at least one of the claims 'puid' or 'altsecid' or 'oid' should be present. If you are accessing as application please make sure service principal is properly created in the tenant.")
        })?;
        let client = claims
            .appid
            .clone()
            .or_else(|| claims.azp.clone())
            .or_else(|| claims.upn.clone())
            .unwrap_or_else(|| claims.oid.clone());
        Ok(Self {
            object_id,
            client,
            tenant_id,
        })
    }
}
