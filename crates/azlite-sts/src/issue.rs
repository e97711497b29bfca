//! Minting access tokens: the claims Entra puts in v1 and v2 tokens, signed by the active key.
//!
//! Claims follow `docs/identity-platform/access-token-claims-reference.md` and real
//! managed-identity tokens (see `shared/reference/identity-protocol.md` §3): v1 tokens carry
//! `appid`/`appidacr`, `idp`, `iss = https://sts.windows.net/{tid}/` and `aud` exactly as
//! requested; v2 tokens carry `azp`/`azpacr`, `iss = https://login.microsoftonline.com/{tid}/v2.0`
//! and the resource's client id as `aud`.

use azlite_store::{ServicePrincipal, Tenant};
use azlite_token::{AccessTokenClaims, HeaderStyle};
use azlite_types::UnixTime;
use azlite_types::app_roles::app_roles_of;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::resources::Resource;
use crate::secrets::random_bytes;
use crate::{Sts, StsError};

/// How the client proved who it is: the `appidacr`/`azpacr` claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthentication {
    /// A client secret ("1").
    Secret,
    /// A certificate assertion ("2").
    Certificate,
    /// A managed identity, which Entra authenticates like a certificate ("2").
    ManagedIdentity,
}

impl ClientAuthentication {
    fn acr(self) -> &'static str {
        match self {
            Self::Secret => "1",
            Self::Certificate | Self::ManagedIdentity => "2",
        }
    }
}

/// Everything that decides a token's content.
#[derive(Debug, Clone)]
pub struct Issuance<'a> {
    /// The tenant issuing.
    pub tenant: &'a Tenant,
    /// Who the token is for.
    pub subject: &'a ServicePrincipal,
    /// How the subject authenticated.
    pub authentication: ClientAuthentication,
    /// The resource application.
    pub resource: &'a Resource,
    /// The resource exactly as the client requested it (the v1 `aud`).
    pub requested_resource: &'a str,
    /// Lifetime in seconds.
    pub lifetime: i64,
    /// The values of the app roles the subject holds on the resource (`roles`; the claim is
    /// left out when there are none, as Entra does). See [`Sts::app_roles`].
    pub roles: Vec<String>,
}

/// A signed token and its timing.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    /// The JWT.
    pub access_token: String,
    /// `iat`/`nbf`.
    pub not_before: UnixTime,
    /// `exp`.
    pub expires_on: UnixTime,
    /// `aud`.
    pub audience: String,
}

/// The v1 issuer of a tenant.
pub fn issuer_v1(tenant: &Tenant) -> String {
    format!("https://sts.windows.net/{}/", tenant.id)
}

/// The v2 issuer of a tenant.
pub fn issuer_v2(tenant: &Tenant) -> String {
    format!("https://login.microsoftonline.com/{}/v2.0", tenant.id)
}

fn opaque(n: usize) -> String {
    URL_SAFE_NO_PAD.encode(&random_bytes::<32>()[..n])
}

impl Sts {
    /// The values of the app roles `subject` holds on `resource`, read at issuance time: a
    /// role granted or revoked changes the tokens issued afterwards, never one issued
    /// before (as in Entra). Only first-party APIs whose roles azlite knows
    /// ([`azlite_types::app_roles`]) have any; the resource's service principal is the one
    /// of the subject's tenant.
    pub async fn app_roles(
        &self,
        subject: &ServicePrincipal,
        resource: &Resource,
    ) -> Result<Vec<String>, StsError> {
        let catalog = app_roles_of(resource.app_id);
        if catalog.is_empty() {
            return Ok(Vec::new());
        }
        let Some(resource_principal) = self
            .store
            .get_service_principal_by_app_id(subject.tenant_id, resource.app_id)
            .await?
        else {
            return Ok(Vec::new());
        };
        let held = self
            .store
            .list_app_role_assignments_for_principal(subject.object_id)
            .await?;
        let mut roles: Vec<String> = held
            .iter()
            .filter(|a| a.resource_id == resource_principal.object_id)
            .filter_map(|a| catalog.iter().find(|role| role.id == a.app_role_id))
            .map(|role| role.value.to_owned())
            .collect();
        roles.sort();
        roles.dedup();
        Ok(roles)
    }

    /// Builds and signs the token described by `issuance`.
    pub fn issue(&self, issuance: &Issuance<'_>) -> Result<IssuedToken, StsError> {
        let now = self.clock.now();
        let Issuance {
            tenant,
            subject,
            resource,
            ..
        } = issuance;
        let v2 = resource.token_version == 2;
        let acr = issuance.authentication.acr().to_owned();
        let client_id = subject.app_id.to_string();
        let object_id = subject.object_id.to_string();
        let issuer = if v2 {
            issuer_v2(tenant)
        } else {
            issuer_v1(tenant)
        };
        let audience = if v2 {
            resource.app_id.to_string()
        } else {
            issuance.requested_resource.to_owned()
        };
        let claims = AccessTokenClaims {
            aud: audience.clone(),
            iss: issuer.clone(),
            iat: now,
            nbf: now,
            exp: now + issuance.lifetime,
            aio: Some(opaque(24)),
            appid: (!v2).then(|| client_id.clone()),
            appidacr: (!v2).then(|| acr.clone()),
            azp: v2.then(|| client_id.clone()),
            azpacr: v2.then(|| acr.clone()),
            idp: (!v2).then(|| issuer.clone()),
            idtyp: Some("app".to_owned()),
            name: None,
            oid: object_id.clone(),
            rh: Some(format!("0.A{}", opaque(18))),
            roles: (!issuance.roles.is_empty()).then(|| issuance.roles.clone()),
            scp: None,
            sub: object_id,
            tid: tenant.id.to_string(),
            unique_name: None,
            upn: None,
            uti: opaque(16),
            ver: if v2 { "2.0" } else { "1.0" }.to_owned(),
            xms_mirid: subject.managed_identity_resource_id.clone(),
            xms_tcdt: Some(tenant.created_at),
        };
        let style = if v2 { HeaderStyle::V2 } else { HeaderStyle::V1 };
        let access_token = self
            .keys
            .sign(&claims, style)
            .map_err(|e| StsError::Internal(Box::new(e)))?;
        Ok(IssuedToken {
            access_token,
            not_before: now,
            expires_on: claims.exp,
            audience,
        })
    }
}
