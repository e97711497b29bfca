//! The client-credentials grant on Entra's v1 and v2 token endpoints: find the tenant,
//! authenticate the client (secret or certificate assertion), resolve the resource, issue.

use azlite_store::{ServicePrincipal, ServicePrincipalKind, Tenant};
use azlite_token::{
    AssertionError, ClientCertificate, UnverifiedAssertion, verify_client_assertion,
};
use azlite_types::{ClientId, TenantId, UnixTime};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::assertion_rules::{check_certificate_dates, check_lifetime, hex};
use crate::issue::{ClientAuthentication, Issuance, IssuedToken};
use crate::replay::Seen;
use crate::resources::{self, Resource};
use crate::{Sts, StsError};

/// The JWT-bearer client assertion type (RFC 7523).
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// Which token endpoint was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `/{tenant}/oauth2/token`: `resource=`, string-typed numbers in the answer.
    V1,
    /// `/{tenant}/oauth2/v2.0/token`: `scope=<resource>/.default`, numbers in the answer.
    V2,
}

/// The form fields of a token request (`application/x-www-form-urlencoded`).
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub struct TokenForm {
    /// `client_credentials` is the grant azlite implements.
    pub grant_type: Option<String>,
    /// The client's app id.
    pub client_id: Option<String>,
    /// A client secret.
    pub client_secret: Option<String>,
    /// Must be the JWT-bearer type when an assertion is sent.
    pub client_assertion_type: Option<String>,
    /// A certificate-signed JWT.
    pub client_assertion: Option<String>,
    /// v1: the resource.
    pub resource: Option<String>,
    /// v2: `<resource>/.default`.
    pub scope: Option<String>,
}

/// A token request as the HTTP layer hands it over.
#[derive(Debug, Clone)]
pub struct TokenRequest {
    /// v1 or v2.
    pub endpoint: Endpoint,
    /// The `{tenant}` path segment as sent.
    pub tenant: String,
    /// The form.
    pub form: TokenForm,
}

/// A successful answer.
#[derive(Debug, Clone)]
pub struct TokenResponse {
    /// The token and its times.
    pub token: IssuedToken,
    /// The resource as requested (v1 echoes it).
    pub resource: String,
    /// Lifetime in seconds.
    pub expires_in: i64,
}

fn non_empty(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

/// `2016-01-09 02:02:12Z`, the format of Entra's timestamps in error bodies.
pub(crate) fn entra_timestamp(t: UnixTime) -> String {
    let format = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]Z");
    OffsetDateTime::from_unix_timestamp(t)
        .ok()
        .and_then(|d| d.format(&format).ok())
        .unwrap_or_default()
}

impl Sts {
    /// Finds the tenant a path segment names: a tenant id or a domain.
    pub async fn resolve_tenant(&self, segment: &str) -> Result<Tenant, StsError> {
        if let Ok(id) = segment.parse::<TenantId>() {
            return self
                .store
                .get_tenant(id)
                .await?
                .ok_or_else(|| StsError::TenantNotFound(segment.to_owned()));
        }
        let looks_like_domain = segment.contains('.')
            && segment.split('.').all(|label| {
                !label.is_empty()
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !looks_like_domain {
            return Err(StsError::MalformedTenant(segment.to_owned()));
        }
        self.store
            .find_tenant_by_domain(segment)
            .await?
            .ok_or_else(|| StsError::TenantNotFound(segment.to_owned()))
    }

    /// Handles a token request end to end.
    pub async fn token(&self, request: TokenRequest) -> Result<TokenResponse, StsError> {
        let form = &request.form;
        let grant_type =
            non_empty(&form.grant_type).ok_or(StsError::MissingParameter("grant_type"))?;
        if grant_type != "client_credentials" {
            return Err(StsError::UnsupportedGrantType(grant_type.to_owned()));
        }
        if matches!(
            request.tenant.to_ascii_lowercase().as_str(),
            "common" | "organizations" | "consumers"
        ) {
            return Err(StsError::NoTenant);
        }
        let tenant = self.resolve_tenant(&request.tenant).await?;
        let requested = requested_resource(request.endpoint, form)?;
        let client_id_text =
            non_empty(&form.client_id).ok_or(StsError::MissingParameter("client_id"))?;
        let (client, authentication) = self
            .authenticate_client(&tenant, &request.tenant, client_id_text, form)
            .await?;
        let resource = self.find_resource(&tenant, &requested).await?;
        let lifetime = self.config.app_token_lifetime;
        let roles = self.app_roles(&client, &resource).await?;
        let token = self.issue(&Issuance {
            tenant: &tenant,
            subject: &client,
            authentication,
            resource: &resource,
            requested_resource: &requested,
            lifetime,
            roles,
        })?;
        Ok(TokenResponse {
            token,
            resource: requested,
            expires_in: lifetime,
        })
    }

    async fn find_resource(&self, tenant: &Tenant, requested: &str) -> Result<Resource, StsError> {
        resources::resolve(
            self.store.as_ref(),
            &self.config.resource_suffixes,
            tenant.id,
            requested,
        )
        .await?
        .ok_or_else(|| StsError::UnknownResource {
            resource: requested.to_owned(),
            tenant: tenant.display_name.clone(),
        })
    }

    async fn authenticate_client(
        &self,
        tenant: &Tenant,
        tenant_segment: &str,
        client_id_text: &str,
        form: &TokenForm,
    ) -> Result<(ServicePrincipal, ClientAuthentication), StsError> {
        let unknown = || StsError::UnknownClient {
            client_id: client_id_text.to_owned(),
            tenant: tenant.display_name.clone(),
        };
        let client_id: ClientId = client_id_text.parse().map_err(|_| unknown())?;
        let principal = self
            .store
            .get_service_principal_by_app_id(tenant.id, client_id)
            .await?
            .filter(|sp| sp.kind == ServicePrincipalKind::Application)
            .ok_or_else(unknown)?;
        if let Some(secret) = non_empty(&form.client_secret) {
            self.check_secret(client_id, secret).await?;
            return Ok((principal, ClientAuthentication::Secret));
        }
        if let Some(assertion) = non_empty(&form.client_assertion) {
            let kind = non_empty(&form.client_assertion_type).unwrap_or_default();
            if kind != JWT_BEARER {
                return Err(StsError::UnsupportedAssertionType(kind.to_owned()));
            }
            self.check_assertion(tenant, tenant_segment, client_id, assertion)
                .await?;
            return Ok((principal, ClientAuthentication::Certificate));
        }
        Err(StsError::MissingClientCredential)
    }

    async fn check_secret(&self, client_id: ClientId, secret: &str) -> Result<(), StsError> {
        let now = self.clock.now();
        let credentials = self.store.list_password_credentials(client_id).await?;
        match credentials.iter().find(|c| c.matches(secret)) {
            Some(c) if c.end <= now || c.start > now => {
                Err(StsError::ExpiredClientSecret(client_id.to_string()))
            }
            Some(_) => Ok(()),
            None => Err(StsError::InvalidClientSecret(client_id.to_string())),
        }
    }

    async fn check_assertion(
        &self,
        tenant: &Tenant,
        tenant_segment: &str,
        client_id: ClientId,
        assertion: &str,
    ) -> Result<(), StsError> {
        let now = self.clock.now();
        let unverified = UnverifiedAssertion::parse(assertion)
            .map_err(|e| StsError::MalformedAssertion(e.to_string()))?;
        let credentials = self.store.list_key_credentials(client_id).await?;
        let certificates: Vec<ClientCertificate> = credentials
            .iter()
            .filter_map(|k| ClientCertificate::from_der(&k.certificate_der).ok())
            .collect();
        let verified = verify_client_assertion(assertion, &certificates, now, ASSERTION_LEEWAY)
            .map_err(|e| match e {
                AssertionError::NoMatchingCertificate => StsError::UnknownAssertionCertificate {
                    thumbprint: unverified
                        .x5t_s256
                        .clone()
                        .or(unverified.x5t.clone())
                        .or(unverified.kid.clone())
                        .unwrap_or_default(),
                    client_id: client_id.to_string(),
                },
                AssertionError::InvalidSignature => StsError::InvalidAssertionSignature,
                AssertionError::Expired { .. } | AssertionError::NotYetValid { .. } => {
                    StsError::AssertionOutOfTime {
                        now: entra_timestamp(now),
                        nbf: entra_timestamp(unverified.nbf.unwrap_or(now)),
                        exp: entra_timestamp(unverified.exp.unwrap_or(now)),
                    }
                }
                other => StsError::MalformedAssertion(other.to_string()),
            })?;
        let is_client = |v: &str| v.parse::<ClientId>().is_ok_and(|id| id == client_id);
        if !is_client(&verified.iss) || !is_client(&verified.sub) {
            return Err(StsError::AssertionClientMismatch);
        }
        if !assertion_audience_matches(&verified.aud, tenant, tenant_segment) {
            return Err(StsError::AssertionAudience(verified.aud));
        }
        check_certificate_dates(&credentials, &verified, client_id, now)?;
        check_lifetime(&verified, now)?;
        // Single use: remembered until it would be refused as expired anyway.
        let key = match &verified.jti {
            Some(jti) => format!("{client_id}\0jti\0{jti}"),
            None => format!(
                "{client_id}\0sha256\0{}",
                hex(
                    aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, assertion.as_bytes())
                        .as_ref()
                )
            ),
        };
        match self
            .seen_assertions
            .record(key, verified.exp.saturating_add(ASSERTION_LEEWAY), now)
        {
            Seen::Fresh => Ok(()),
            Seen::Replayed => Err(StsError::AssertionReplayed(
                verified.jti.unwrap_or_else(|| "(none)".to_owned()),
            )),
            Seen::Full => Err(StsError::TooManyAssertions),
        }
    }
}

/// Clock skew tolerated on client assertions, as Entra allows.
const ASSERTION_LEEWAY: i64 = 300;

/// An assertion's `aud` must name this tenant's token endpoint (v1 or v2, on any of the
/// authority host names) or its v2 issuer. The host is not checked: Entra answers on several
/// names, and the signature already ties the assertion to the client.
fn assertion_audience_matches(aud: &str, tenant: &Tenant, tenant_segment: &str) -> bool {
    let Some(rest) = aud.strip_prefix("https://") else {
        return false;
    };
    let Some((_host, path)) = rest.split_once('/') else {
        return false;
    };
    let path = path.trim_end_matches('/');
    let Some((segment, tail)) = path.split_once('/') else {
        return false;
    };
    let names_tenant = segment.eq_ignore_ascii_case(&tenant.id.to_string())
        || segment.eq_ignore_ascii_case(&tenant.default_domain)
        || segment.eq_ignore_ascii_case(tenant_segment);
    names_tenant && matches!(tail, "oauth2/token" | "oauth2/v2.0/token" | "v2.0")
}

/// The resource a request asks for, from `resource` (v1) or `scope` (v2).
fn requested_resource(endpoint: Endpoint, form: &TokenForm) -> Result<String, StsError> {
    match endpoint {
        Endpoint::V1 => non_empty(&form.resource)
            .map(str::to_owned)
            .ok_or(StsError::MissingResource),
        Endpoint::V2 => {
            let scope = non_empty(&form.scope).ok_or(StsError::MissingParameter("scope"))?;
            // OIDC scopes may ride along; client credentials ignore them.
            let scopes: Vec<&str> = scope
                .split_whitespace()
                .filter(|s| !matches!(*s, "openid" | "profile" | "offline_access" | "email"))
                .collect();
            match scopes.as_slice() {
                [one] => one
                    .strip_suffix("/.default")
                    .filter(|r| !r.is_empty())
                    .map(str::to_owned)
                    .ok_or_else(|| StsError::ScopeNotDefault(scope.to_owned())),
                _ => Err(StsError::InvalidScope(scope.to_owned())),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(scope: &str) -> TokenForm {
        TokenForm {
            scope: Some(scope.to_owned()),
            ..Default::default()
        }
    }

    #[test]
    fn v2_scope_maps_to_the_resource_keeping_a_double_slash() {
        let r = |s| requested_resource(Endpoint::V2, &form(s));
        assert_eq!(
            r("https://management.azure.com/.default").unwrap(),
            "https://management.azure.com"
        );
        assert_eq!(
            r("https://management.azure.com//.default").unwrap(),
            "https://management.azure.com/"
        );
        assert_eq!(
            r("https://vault.azure.net/.default openid profile").unwrap(),
            "https://vault.azure.net"
        );
        assert!(matches!(
            r("https://vault.azure.net/user_impersonation"),
            Err(StsError::ScopeNotDefault(_))
        ));
        assert!(matches!(
            r("a/.default b/.default"),
            Err(StsError::InvalidScope(_))
        ));
        assert!(matches!(r("/.default"), Err(StsError::ScopeNotDefault(_))));
    }

    #[test]
    fn v1_requires_a_resource() {
        assert!(matches!(
            requested_resource(Endpoint::V1, &TokenForm::default()),
            Err(StsError::MissingResource)
        ));
    }

    #[test]
    fn timestamps_look_like_entras() {
        assert_eq!(entra_timestamp(1_452_304_932), "2016-01-09 02:02:12Z");
    }

    #[test]
    fn assertion_audience_is_the_tenants_token_endpoint() {
        let tenant = Tenant {
            id: "72f988bf-86f1-41af-91ab-2d7cd011db47".parse().unwrap(),
            display_name: "t".into(),
            default_domain: "contoso.onmicrosoft.com".into(),
            created_at: 0,
        };
        let ok = |aud: &str| {
            assertion_audience_matches(aud, &tenant, "72f988bf-86f1-41af-91ab-2d7cd011db47")
        };
        assert!(ok(
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/v2.0/token"
        ));
        assert!(ok(
            "https://127.0.0.1:8443/72F988BF-86F1-41AF-91AB-2D7CD011DB47/oauth2/token"
        ));
        assert!(ok(
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        ));
        assert!(!ok(
            "https://login.microsoftonline.com/common/oauth2/v2.0/token"
        ));
        assert!(!ok(
            "https://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/authorize"
        ));
        assert!(!ok(
            "http://login.microsoftonline.com/72f988bf-86f1-41af-91ab-2d7cd011db47/oauth2/token"
        ));
    }
}
