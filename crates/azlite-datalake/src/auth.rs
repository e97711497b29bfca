//! Who is calling: a bearer token for Data Lake (`https://datalake.azure.net/`, with or
//! without the slash, or Azure Data Lake's app id: nothing else), signed by the STS
//! (`azlite_token::verify`), from the account's tenant; and whether the caller is a
//! superuser of the account: the RBAC Owner, or anyone holding both
//! `Microsoft.DataLakeStore/accounts/Superuser/action` and
//! `Microsoft.Authorization/roleAssignments/write` there (reference §4.6).

use axum::http::{HeaderMap, header};
use azlite_authz::DataActionCheck;
use azlite_token::{
    IssuerPolicy, KeyRing, SignatureCache, TokenError, Validation, verify_with_cache,
};
use azlite_types::{ObjectId, ResourceId, TenantId, UnixTime};

use crate::error::DataLakeError;

/// Azure Data Lake's first-party application id, the `aud` of a v2 token for it.
pub const DATA_LAKE_APP_ID: &str = "e9f49c6b-5ce5-44c8-925d-015017e9f7ad";

/// The audiences Gen1 accepts.
pub const AUDIENCES: [&str; 3] = [
    "https://datalake.azure.net/",
    "https://datalake.azure.net",
    DATA_LAKE_APP_ID,
];

/// The control action that makes a superuser (with the right to write role assignments).
pub const SUPERUSER_ACTION: &str = "Microsoft.DataLakeStore/accounts/Superuser/action";

/// The bearer token of a request, if it has one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, token)| scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty())
        .map(|(_, token)| token.trim())
}

/// The verified caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// `oid`, lower case: the identity ACLs name.
    pub object_id: ObjectId,
    /// A superuser of the account.
    pub superuser: bool,
}

/// Verifies `token` for an account of `tenant`, at `now`.
pub fn verify(
    token: &str,
    keys: &KeyRing,
    signatures: &SignatureCache,
    tenant: TenantId,
    now: UnixTime,
) -> Result<ObjectId, DataLakeError> {
    let validation = Validation::new(
        AUDIENCES.iter().map(|a| (*a).to_owned()).collect(),
        IssuerPolicy::AnyEntraTenant,
    );
    let verified = verify_with_cache(token, keys, &validation, now, signatures).map_err(|e| {
        DataLakeError::unauthenticated(match e {
            TokenError::InvalidAudience(found) => format!(
                "The access token has been obtained for the wrong audience '{found}': Data Lake Store accepts https://datalake.azure.net/."
            ),
            other => format!("The access token is not valid: {other}."),
        })
    })?;
    let claims = verified.claims;
    let tid: TenantId = claims
        .tid
        .parse()
        .map_err(|_| DataLakeError::unauthenticated("The access token has no valid tenant."))?;
    if tid != tenant {
        return Err(DataLakeError::unauthenticated(format!(
            "The access token is from tenant {tid}, not the account's tenant {tenant}."
        )));
    }
    claims
        .oid
        .parse()
        .map_err(|_| DataLakeError::unauthenticated("The access token has no valid object id."))
}

/// Whether `principal` is a superuser of the account `account`.
pub fn is_superuser(rbac: &dyn DataActionCheck, principal: ObjectId, account: &ResourceId) -> bool {
    rbac.check_control_action(principal, account, SUPERUSER_ACTION)
        .is_allowed()
        && rbac
            .check_control_action(
                principal,
                account,
                "Microsoft.Authorization/roleAssignments/write",
            )
            .is_allowed()
}
