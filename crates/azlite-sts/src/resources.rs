//! Which resources a token can be requested for, and which token version each accepts.
//!
//! Entra looks the requested resource up among the tenant's service principals by App ID
//! URI or app id (AADSTS500011 when it is not there). azlite knows Azure's first-party
//! resources that the tutorials use, plus every application registered in the tenant. The
//! token's `aud` is the resource string exactly as requested for v1 tokens (trailing slash
//! included); for v2 tokens it is the resource application's client id.

use azlite_store::{DirectoryStore, StoreError};
use azlite_types::{ClientId, TenantId};

/// A resource application a token can be issued for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Resource {
    /// The resource application's app id.
    pub app_id: ClientId,
    /// Display name, for logs.
    pub display_name: String,
    /// `1` or `2`.
    pub token_version: u8,
}

/// A first-party Azure resource: its well-known app id and App ID URIs.
#[derive(Debug, Clone, Copy)]
struct FirstParty {
    app_id: &'static str,
    name: &'static str,
    uris: &'static [&'static str],
}

/// Azure's first-party resources (their real app ids), matched without regard to case or a
/// trailing slash.
const FIRST_PARTY: &[FirstParty] = &[
    FirstParty {
        app_id: "797f4846-ba00-4fd7-ba43-dac1f8f63013",
        name: "Windows Azure Service Management API",
        uris: &[
            "https://management.azure.com",
            "https://management.core.windows.net",
        ],
    },
    FirstParty {
        app_id: "cfa8b339-82a2-471a-a3c9-0fc0be7a4093",
        name: "Azure Key Vault",
        uris: &["https://vault.azure.net"],
    },
    FirstParty {
        app_id: "e406a681-f3d4-42a8-90b6-c2b029497af1",
        name: "Azure Storage",
        uris: &["https://storage.azure.com"],
    },
    FirstParty {
        app_id: "e9f49c6b-5ce5-44c8-925d-015017e9f7ad",
        name: "Azure Data Lake",
        uris: &["https://datalake.azure.net"],
    },
    FirstParty {
        app_id: "00000003-0000-0000-c000-000000000000",
        name: "Microsoft Graph",
        uris: &["https://graph.microsoft.com"],
    },
    FirstParty {
        app_id: "00000002-0000-0000-c000-000000000000",
        name: "Windows Azure Active Directory",
        uris: &["https://graph.windows.net"],
    },
];

/// Host suffixes under which a per-account URI names a first-party resource:
/// `https://<account>.blob.core.windows.net` is Azure Storage.
#[derive(Debug, Clone)]
pub struct ResourceSuffixes {
    /// e.g. `blob.core.windows.net`.
    pub storage: Vec<String>,
}

impl Default for ResourceSuffixes {
    fn default() -> Self {
        Self {
            storage: vec!["blob.core.windows.net".to_owned()],
        }
    }
}

fn normalize(uri: &str) -> String {
    uri.trim_end_matches('/').to_ascii_lowercase()
}

fn first_party(p: &FirstParty) -> Resource {
    Resource {
        app_id: p
            .app_id
            .parse()
            .unwrap_or_else(|_| ClientId::from_uuid(Default::default())),
        display_name: p.name.to_owned(),
        token_version: 1,
    }
}

/// Finds the resource a client asked for, in `tenant`.
pub(crate) async fn resolve(
    store: &dyn DirectoryStore,
    suffixes: &ResourceSuffixes,
    tenant: TenantId,
    requested: &str,
) -> Result<Option<Resource>, StoreError> {
    let wanted = normalize(requested);
    if wanted.is_empty() {
        return Ok(None);
    }
    for p in FIRST_PARTY {
        if p.app_id == wanted || p.uris.iter().any(|u| normalize(u) == wanted) {
            return Ok(Some(first_party(p)));
        }
    }
    if let Some(host) = wanted.strip_prefix("https://") {
        let is_storage_account = suffixes.storage.iter().any(|suffix| {
            host.strip_suffix(suffix.as_str())
                .and_then(|account| account.strip_suffix('.'))
                .is_some_and(|account| !account.is_empty() && !account.contains(['.', '/']))
        });
        if is_storage_account {
            return Ok(FIRST_PARTY
                .iter()
                .find(|p| p.name == "Azure Storage")
                .map(first_party));
        }
    }
    // Registered applications, by app id or by App ID URI (with or without the slash).
    let app = match wanted.parse::<ClientId>() {
        Ok(app_id) => store
            .get_application(app_id)
            .await?
            .filter(|a| a.tenant_id == tenant),
        Err(_) => {
            let mut found = store
                .find_application_by_identifier_uri(tenant, &wanted)
                .await?;
            if found.is_none() {
                found = store
                    .find_application_by_identifier_uri(tenant, &format!("{wanted}/"))
                    .await?;
            }
            found
        }
    };
    Ok(app.map(|a| Resource {
        app_id: a.app_id,
        display_name: a.display_name,
        token_version: a.access_token_version,
    }))
}

/// Whether `app_id` is one of Azure's first-party resource applications.
pub fn is_first_party(app_id: ClientId) -> bool {
    let id = app_id.to_string();
    FIRST_PARTY.iter().any(|p| p.app_id == id)
}
