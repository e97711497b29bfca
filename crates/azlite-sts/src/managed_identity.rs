//! Tokens for managed identities, asked for by the on-VM endpoints through
//! [`ManagedIdentityTokens`].
//!
//! Entra authenticates a managed identity by the platform's certificate, so its tokens say
//! `appidacr "2"`; they are v1 tokens for Azure's resources (the resource decides the
//! version), carry `xms_mirid` (the ARM id the identity belongs to) and live about 24 h
//! (`StsConfig::managed_identity_token_lifetime`; reference §1.4, §3.2).
//!
//! No credential is checked here: whoever holds the trait object may mint tokens for any
//! managed identity. The endpoints decide which identities their caller may use.

use async_trait::async_trait;
use azlite_store::ServicePrincipalKind;
use azlite_token::{ManagedIdentityToken, ManagedIdentityTokenError, ManagedIdentityTokens};
use azlite_types::ObjectId;

use crate::issue::{ClientAuthentication, Issuance};
use crate::{Sts, StsError, resources};

fn internal(error: impl std::error::Error + Send + Sync + 'static) -> ManagedIdentityTokenError {
    ManagedIdentityTokenError::Internal(Box::new(error))
}

#[async_trait]
impl ManagedIdentityTokens for Sts {
    async fn managed_identity_token(
        &self,
        principal: ObjectId,
        resource: &str,
    ) -> Result<ManagedIdentityToken, ManagedIdentityTokenError> {
        let subject = self
            .store
            .get_service_principal(principal)
            .await
            .map_err(internal)?
            .filter(|sp| sp.kind == ServicePrincipalKind::ManagedIdentity)
            .ok_or(ManagedIdentityTokenError::UnknownIdentity(principal))?;
        let tenant = self
            .store
            .get_tenant(subject.tenant_id)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                internal(std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "tenant {} of managed identity {principal} is missing",
                        subject.tenant_id
                    ),
                ))
            })?;
        let found = resources::resolve(
            self.store.as_ref(),
            &self.config.resource_suffixes,
            tenant.id,
            resource,
        )
        .await
        .map_err(internal)?;
        let Some(found) = found else {
            let error = StsError::UnknownResource {
                resource: resource.to_owned(),
                tenant: tenant.display_name.clone(),
            };
            return Err(ManagedIdentityTokenError::UnknownResource {
                resource: resource.to_owned(),
                description: format!("AADSTS{}: {error}", error.code()),
            });
        };
        let roles = self
            .app_roles(&subject, &found)
            .await
            .map_err(|e| match e {
                StsError::Internal(source) => ManagedIdentityTokenError::Internal(source),
                other => internal(other),
            })?;
        let issued = self
            .issue(&Issuance {
                tenant: &tenant,
                subject: &subject,
                authentication: ClientAuthentication::ManagedIdentity,
                resource: &found,
                requested_resource: resource,
                lifetime: self.config.managed_identity_token_lifetime,
                roles,
            })
            .map_err(|e| match e {
                StsError::Internal(source) => ManagedIdentityTokenError::Internal(source),
                other => internal(other),
            })?;
        Ok(ManagedIdentityToken {
            access_token: issued.access_token,
            expires_on: issued.expires_on,
            not_before: issued.not_before,
            resource: resource.to_owned(),
            client_id: subject.app_id,
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::StsConfig;

    #[test]
    fn retired_keys_outlive_the_longest_token() {
        let config = StsConfig {
            max_token_lifetime: 60,
            ..StsConfig::default()
        };
        assert_eq!(config.longest_token_lifetime(), 86_399);
        assert!(StsConfig::default().max_token_lifetime > 86_399);
    }
}
