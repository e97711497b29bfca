//! Routing by host name: Azure addresses each service by host (`login.microsoftonline.com`,
//! `management.azure.com`, `<vault>.vault.azure.net`, …). A request goes to the service its
//! `Host` names (or, without one, its TLS SNI). An IP address or `localhost` is the local
//! host: there the admin routes, ARM and Graph by their top-level paths, and the STS by
//! path, answer.

use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tower::ServiceExt;

use crate::config::HostNames;
use azlite_arm::ArmError;

/// The TLS server name a connection asked for, put on every request by the listener.
#[derive(Debug, Clone)]
pub struct Sni(pub Option<String>);

/// Which service a host name belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Service {
    /// Entra (the STS).
    Login,
    /// ARM.
    Management,
    /// Microsoft Graph.
    Graph,
    /// A key vault, by name.
    Vault(String),
    /// A storage account's blob endpoint, by account name.
    Blob(String),
    /// A Data Lake Store, by name.
    DataLake(String),
    /// An IP address or `localhost`: services by path.
    Local,
    /// Not a name azlite serves.
    Unknown(String),
}

/// Classifies a host (port and trailing dot removed, case-insensitive).
pub fn classify(names: &HostNames, host: &str) -> Service {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    if host == "localhost" || host.parse::<std::net::IpAddr>().is_ok() {
        return Service::Local;
    }
    let is = |list: &[String]| list.iter().any(|n| n.eq_ignore_ascii_case(&host));
    if is(&names.login) {
        return Service::Login;
    }
    if is(&names.management) {
        return Service::Management;
    }
    if is(&names.graph) {
        return Service::Graph;
    }
    let label = |suffix: &str| {
        host.strip_suffix(&suffix.to_ascii_lowercase())
            .and_then(|rest| rest.strip_suffix('.'))
            .filter(|name| !name.is_empty() && !name.contains('.'))
            .map(str::to_owned)
    };
    if let Some(name) = label(&names.vault_suffix) {
        return Service::Vault(name);
    }
    if let Some(name) = label(&names.blob_suffix) {
        return Service::Blob(name);
    }
    if let Some(name) = label(&names.datalake_suffix) {
        return Service::DataLake(name);
    }
    Service::Unknown(host)
}

/// ARM's top-level paths, which no Entra tenant segment can be confused with.
fn is_arm_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    ["subscriptions", "tenants", "providers", "metadata"]
        .iter()
        .any(|p| first.eq_ignore_ascii_case(p))
}

/// Graph's top-level path (`/v1.0/...`), which no Entra tenant segment is.
fn is_graph_path(path: &str) -> bool {
    let first = path
        .trim_start_matches('/')
        .split('/')
        .next()
        .unwrap_or_default();
    first.eq_ignore_ascii_case("v1.0")
}

fn strip_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        // [::1]:8443
        return rest.split_once(']').map_or(rest, |(ip, _)| ip);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if !name.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
            name
        }
        _ => host,
    }
}

/// The routers of the services, chosen per request.
#[derive(Clone)]
pub(crate) struct Services {
    pub(crate) names: Arc<HostNames>,
    pub(crate) sts: Router,
    /// ARM, called without a router around it.
    pub(crate) arm: Arc<azlite_arm::Arm>,
    pub(crate) graph: Router,
    /// Key Vault, called without a router around it.
    pub(crate) keyvault: Arc<azlite_keyvault::KeyVault>,
    pub(crate) datalake: Router,
    pub(crate) blob: Router,
    /// Asked whether a path's first segment names a storage account (path-style Blob).
    pub(crate) blob_service: Arc<azlite_blob::Blob>,
    pub(crate) admin: Router,
}

/// Whether a path's first segment could be a storage account's name for path-style Blob
/// (`/<account>/<container>/<blob>`) on the local host: 3–24 lowercase letters and digits,
/// and none of the paths other services answer on the local host (Entra's tenant aliases,
/// ARM's and Graph's top-level paths, the admin routes). Tenant ids (GUIDs) and domains
/// (with dots) never match. Only then is the store asked whether the account exists.
fn account_segment(path: &str) -> Option<&str> {
    let first = path.trim_start_matches('/').split('/').next()?;
    let reserved = [
        "common",
        "organizations",
        "consumers",
        "azlite",
        "subscriptions",
        "tenants",
        "providers",
        "metadata",
        "oauth2",
        "discovery",
    ];
    ((3..=24).contains(&first.len())
        && first
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && !reserved.contains(&first))
    .then_some(first)
}

/// The single handler of the listener: picks a service by host, then lets its router route.
pub(crate) async fn dispatch(State(services): State<Services>, mut request: Request) -> Response {
    let host = request
        .headers()
        .get(axum::http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .map(str::to_owned)
        .or_else(|| request.uri().authority().map(|a| a.to_string()))
        .or_else(|| request.extensions().get::<Sni>().and_then(|s| s.0.clone()))
        .unwrap_or_default();
    let router = match classify(&services.names, &host) {
        Service::Login => services.sts,
        Service::Management => return services.arm.serve(request).await,
        Service::Graph => services.graph,
        Service::Local if request.uri().path().starts_with("/azlite/admin/") => services.admin,
        Service::Local if is_arm_path(request.uri().path()) => {
            return services.arm.serve(request).await;
        }
        Service::Local if is_graph_path(request.uri().path()) => services.graph,
        Service::Local => {
            let secure = request.extensions().get::<Sni>().is_some();
            let segment = account_segment(request.uri().path()).map(str::to_owned);
            let found = match &segment {
                Some(segment) => services.blob_service.find_account(segment).await.ok(),
                None => None,
            };
            match (segment, found.flatten()) {
                (Some(segment), Some(account)) => {
                    let host = azlite_blob::BlobHost {
                        account: segment,
                        path_style: true,
                        secure,
                    };
                    request.extensions_mut().insert(host);
                    // Found once: the Blob service takes it from here.
                    request
                        .extensions_mut()
                        .insert(azlite_blob::FoundAccount(account));
                    services.blob
                }
                _ => services.sts,
            }
        }
        Service::Blob(name) => {
            let secure = request.extensions().get::<Sni>().is_some();
            request.extensions_mut().insert(azlite_blob::BlobHost {
                account: name,
                path_style: false,
                secure,
            });
            services.blob
        }
        Service::Vault(name) => {
            request
                .extensions_mut()
                .insert(azlite_keyvault::VaultHost(name));
            return services.keyvault.serve(request).await;
        }
        Service::DataLake(name) => {
            request
                .extensions_mut()
                .insert(azlite_datalake::DataLakeHost(name));
            services.datalake
        }
        Service::Unknown(_) => return not_served(&host, "azlite does not serve this host name"),
    };
    match router.oneshot(request.map(Body::new)).await {
        Ok(response) => response,
        Err(never) => match never {},
    }
}

fn not_served(host: &str, why: &str) -> Response {
    ArmError::new(
        StatusCode::NOT_FOUND,
        "HostNotFound",
        format!("The host '{host}' is not served: {why}."),
    )
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_map_to_services() {
        let names = HostNames::default();
        assert_eq!(
            classify(&names, "login.microsoftonline.com"),
            Service::Login
        );
        assert_eq!(classify(&names, "LOGIN.windows.net:443"), Service::Login);
        assert_eq!(
            classify(&names, "management.azure.com."),
            Service::Management
        );
        assert_eq!(
            classify(&names, "myvault.vault.azure.net"),
            Service::Vault("myvault".into())
        );
        assert_eq!(
            classify(&names, "acct.blob.core.windows.net"),
            Service::Blob("acct".into())
        );
        assert_eq!(
            classify(&names, "store.azuredatalakestore.net"),
            Service::DataLake("store".into())
        );
        assert_eq!(classify(&names, "127.0.0.1:8443"), Service::Local);
        assert_eq!(classify(&names, "[::1]:8443"), Service::Local);
        assert_eq!(classify(&names, "localhost"), Service::Local);
        assert_eq!(
            classify(&names, "a.b.vault.azure.net"),
            Service::Unknown("a.b.vault.azure.net".into())
        );
        assert_eq!(
            classify(&names, "vault.azure.net"),
            Service::Unknown("vault.azure.net".into())
        );
        assert_eq!(
            classify(&names, "example.com"),
            Service::Unknown("example.com".into())
        );
    }

    #[test]
    fn path_style_accounts_never_shadow_other_local_paths() {
        assert_eq!(
            account_segment("/devstoreaccount1/c/b"),
            Some("devstoreaccount1")
        );
        assert_eq!(account_segment("/acct"), Some("acct"));
        for other in [
            "/common/oauth2/v2.0/token",
            "/organizations/v2.0/.well-known/openid-configuration",
            "/00000000-0000-0000-0000-000000000000/oauth2/token",
            "/azlite.onmicrosoft.com/oauth2/token",
            "/subscriptions/x",
            "/azlite/admin/clock",
            "/v1.0/applications",
            "/metadata/endpoints",
            "/UPPER/c",
            "/ab/c",
        ] {
            assert_eq!(account_segment(other), None, "{other}");
        }
    }

    #[test]
    fn graph_answers_on_its_host_and_under_v1_0_on_the_local_host() {
        let names = HostNames::default();
        assert_eq!(classify(&names, "graph.microsoft.com"), Service::Graph);
        assert!(is_graph_path("/v1.0/servicePrincipals"));
        assert!(is_graph_path("/V1.0"));
        assert!(!is_graph_path("/v1.0x/applications"));
        assert!(!is_graph_path("/azlite.onmicrosoft.com/oauth2/v2.0/token"));
        assert!(!is_arm_path("/v1.0/applications"));
    }
}
