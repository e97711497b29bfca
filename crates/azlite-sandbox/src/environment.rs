//! The program's environment: the caller's, less every variable that names a credential or
//! an endpoint of the host (a VM has none of them), with azlite's CA named.
//!
//! `azlite up` prints the owner's credential as `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and
//! `AZURE_CLIENT_SECRET`, and the demo VM's endpoints as `IDENTITY_*`, `MSI_*` and
//! `AZURE_POD_IDENTITY_AUTHORITY_HOST`: a shell that exported them must not hand them to the
//! VM, where `DefaultAzureCredential` would act as the owner instead of the VM's identity.

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// Variables removed by name: the credentials `EnvironmentCredential`, workload identity,
/// the Azure CLI and Terraform read, and the endpoints of other hosts (proxies included,
/// which nothing can reach from inside).
const REMOVED: &[&str] = &[
    "AZURE_CLIENT_ID",
    "AZURE_CLIENT_SECRET",
    "AZURE_TENANT_ID",
    "AZURE_CLIENT_CERTIFICATE_PATH",
    "AZURE_CLIENT_CERTIFICATE_PASSWORD",
    "AZURE_CLIENT_SEND_CERTIFICATE_CHAIN",
    "AZURE_USERNAME",
    "AZURE_PASSWORD",
    "AZURE_AUTHORITY_HOST",
    "AZURE_FEDERATED_TOKEN_FILE",
    "AZURE_POD_IDENTITY_AUTHORITY_HOST",
    "IMDS_ENDPOINT",
    "ARM_CLIENT_ID",
    "ARM_CLIENT_SECRET",
    "ARM_TENANT_ID",
    "ARM_CLIENT_CERTIFICATE_PATH",
    "ARM_CLIENT_CERTIFICATE_PASSWORD",
    "ARM_OIDC_TOKEN",
    "ARM_OIDC_TOKEN_FILE_PATH",
    "ARM_OIDC_REQUEST_TOKEN",
    "ARM_OIDC_REQUEST_URL",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
];

/// Variables removed by prefix: App Service's and Service Fabric's `IDENTITY_ENDPOINT`,
/// `IDENTITY_HEADER`, `IDENTITY_SERVER_THUMBPRINT`, `IDENTITY_API_VERSION`, Cloud Shell's
/// `MSI_ENDPOINT` and `MSI_SECRET`, and any other of theirs.
const REMOVED_PREFIXES: &[&str] = &["IDENTITY_", "MSI_"];

/// Whether the sandbox removes `name` from the program's environment.
pub(crate) fn is_removed(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return false;
    };
    REMOVED.contains(&name) || REMOVED_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Where the program finds azlite's CA, and whether it is an Arc machine.
pub(crate) struct Settings {
    /// The bundle with azlite's CA, where the program sees it.
    pub(crate) bundle: PathBuf,
    /// azlite's CA alone.
    pub(crate) ca: PathBuf,
    /// `--arc`: Arc's variables set.
    pub(crate) arc: bool,
    /// The port of Arc's endpoint.
    pub(crate) arc_port: u16,
}

/// The program's whole environment, from `inherited` (the caller's).
pub(crate) fn build(
    inherited: impl IntoIterator<Item = (OsString, OsString)>,
    settings: &Settings,
) -> Vec<(OsString, OsString)> {
    let set: Vec<(&str, OsString)> = {
        let bundle = settings.bundle.clone().into_os_string();
        let mut set = vec![
            ("SSL_CERT_FILE", bundle.clone()),
            ("REQUESTS_CA_BUNDLE", bundle.clone()),
            ("CURL_CA_BUNDLE", bundle),
            ("NODE_EXTRA_CA_CERTS", settings.ca.clone().into_os_string()),
        ];
        if settings.arc {
            let base = format!("http://localhost:{}", settings.arc_port);
            let token = format!("{base}/metadata/identity/oauth2/token");
            set.push(("IDENTITY_ENDPOINT", token.into()));
            set.push(("IMDS_ENDPOINT", base.into()));
        }
        set
    };
    let mut vars: Vec<(OsString, OsString)> = inherited
        .into_iter()
        .filter(|(name, _)| !is_removed(name) && !set.iter().any(|(n, _)| OsStr::new(n) == name))
        .collect();
    vars.extend(set.into_iter().map(|(n, v)| (OsString::from(n), v)));
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(arc: bool) -> Settings {
        Settings {
            bundle: "/etc/ssl/certs/ca-certificates.crt".into(),
            ca: "/data/ca.pem".into(),
            arc,
            arc_port: 40342,
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Vec<(OsString, OsString)> {
        pairs
            .iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect()
    }

    fn get<'a>(vars: &'a [(OsString, OsString)], name: &str) -> Option<&'a OsStr> {
        vars.iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_os_str())
    }

    #[test]
    fn the_owner_credential_azlite_up_prints_is_removed() {
        let vars = build(
            env(&[
                ("AZURE_TENANT_ID", "t"),
                ("AZURE_CLIENT_ID", "c"),
                ("AZURE_CLIENT_SECRET", "s"),
                ("AZURE_AUTHORITY_HOST", "https://127.0.0.1:8443"),
                ("AZURE_CLIENT_CERTIFICATE_PATH", "/k.pem"),
                ("AZURE_USERNAME", "u"),
                ("AZURE_PASSWORD", "p"),
                ("AZURE_FEDERATED_TOKEN_FILE", "/t"),
                ("AZURE_POD_IDENTITY_AUTHORITY_HOST", "http://127.0.0.1:1"),
                ("IDENTITY_ENDPOINT", "http://127.0.0.1:1/msi/token"),
                ("IDENTITY_HEADER", "h"),
                ("IDENTITY_SERVER_THUMBPRINT", "x"),
                ("MSI_ENDPOINT", "http://127.0.0.1:2/oauth2/token"),
                ("MSI_SECRET", "s"),
                ("IMDS_ENDPOINT", "http://127.0.0.1:3"),
                ("ARM_CLIENT_SECRET", "s"),
                ("https_proxy", "http://proxy:3128"),
                ("PATH", "/usr/bin"),
                ("AZURE_SUBSCRIPTION_ID", "sub"),
                ("SSL_CERT_FILE", "/host/ca.pem"),
            ]),
            &settings(false),
        );
        let names: Vec<_> = vars.iter().map(|(n, _)| n.to_str().unwrap()).collect();
        for name in &names {
            assert!(
                !name.starts_with("IDENTITY_")
                    && !name.starts_with("MSI_")
                    && !REMOVED.contains(name),
                "{name} kept: {names:?}"
            );
        }
        assert_eq!(get(&vars, "PATH"), Some(OsStr::new("/usr/bin")));
        assert_eq!(get(&vars, "AZURE_SUBSCRIPTION_ID"), Some(OsStr::new("sub")));
        assert_eq!(
            get(&vars, "SSL_CERT_FILE"),
            Some(OsStr::new("/etc/ssl/certs/ca-certificates.crt"))
        );
        assert_eq!(vars.iter().filter(|(n, _)| n == "SSL_CERT_FILE").count(), 1);
        assert_eq!(
            get(&vars, "NODE_EXTRA_CA_CERTS"),
            Some(OsStr::new("/data/ca.pem"))
        );
    }

    #[test]
    fn arc_sets_its_own_endpoints_over_the_hosts() {
        let vars = build(
            env(&[
                ("IDENTITY_ENDPOINT", "http://elsewhere"),
                ("IMDS_ENDPOINT", "x"),
            ]),
            &settings(true),
        );
        assert_eq!(
            get(&vars, "IDENTITY_ENDPOINT"),
            Some(OsStr::new(
                "http://localhost:40342/metadata/identity/oauth2/token"
            ))
        );
        assert_eq!(
            get(&vars, "IMDS_ENDPOINT"),
            Some(OsStr::new("http://localhost:40342"))
        );
        assert_eq!(vars.len(), 6);
    }
}
