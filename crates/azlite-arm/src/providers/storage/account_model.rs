//! The storage account model (SPEC-STG 2023-05-01, reference §2.5): the request as sent
//! ([`UnverifiedAccountProperties`] and the SKU and kind text), the stored model
//! ([`AccountProperties`], under `properties` in the resource body, next to `sku` and
//! `kind`), and the rules between them: names, SKUs, kinds, defaults, endpoints.
//!
//! What the data planes read from the stored body: `properties.allowSharedKeyAccess`
//! (always present: `false` turns Shared Key and SAS signed with a key off) and
//! `properties.isHnsEnabled` (always present). Network rules (`networkAcls`,
//! `publicNetworkAccess`) are kept and echoed, not enforced: every listener is on the
//! local machine.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::ArmError;

/// Storage account names: 3–24 lowercase letters and digits (DOC-NAMES).
pub(crate) fn valid_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
}

/// The message of `AccountNameInvalid`, as the Storage resource provider words it.
pub(crate) fn invalid_name_message(name: &str) -> String {
    format!(
        "{name} is not a valid storage account name. Storage account name must be between 3 and 24 characters in length and use numbers and lower-case letters only."
    )
}

/// 400 `AccountNameInvalid`.
pub(crate) fn invalid_name(name: &str) -> ArmError {
    ArmError::bad_request("AccountNameInvalid", invalid_name_message(name))
}

/// The message of `StorageAccountAlreadyTaken` (and of `checkNameAvailability`'s
/// `AlreadyExists`).
pub(crate) fn name_taken_message(name: &str) -> String {
    format!("The storage account named {name} is already taken.")
}

/// 400 `InvalidValuesForRequestParameters`, naming the parameters, as the Storage resource
/// provider answers a SKU or kind it does not take.
pub(crate) fn invalid_values(parameters: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidValuesForRequestParameters",
        format!("Values for request parameters are invalid: {parameters}."),
    )
}

/// 400 `InvalidRequestPropertyValue`.
fn invalid_property(value: &str, property: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidRequestPropertyValue",
        format!("The value '{value}' is not allowed for property {property}."),
    )
}

/// The SKU names accounts are created with (`SkuName`), in the spec's casing.
const SKUS: [&str; 8] = [
    "Standard_LRS",
    "Standard_GRS",
    "Standard_RAGRS",
    "Standard_ZRS",
    "Premium_LRS",
    "Premium_ZRS",
    "Standard_GZRS",
    "Standard_RAGZRS",
];

/// The kinds (`Kind`), in the spec's casing.
const KINDS: [&str; 5] = [
    "Storage",
    "StorageV2",
    "BlobStorage",
    "FileStorage",
    "BlockBlobStorage",
];

/// `sku` as sent: only `name` is read (`tier` is derived from it).
#[derive(Debug, Deserialize)]
pub(crate) struct UnverifiedSku {
    pub(crate) name: Option<String>,
}

/// `sku` as stored and answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Sku {
    /// `Standard_LRS`, …
    pub(crate) name: String,
    /// `Standard` or `Premium`.
    pub(crate) tier: String,
}

/// A SKU name in the spec's casing, or 400 naming `sku`.
pub(crate) fn verify_sku(sku: Option<UnverifiedSku>) -> Result<Sku, ArmError> {
    let sent = sku.and_then(|s| s.name).unwrap_or_default();
    let name = SKUS
        .into_iter()
        .find(|s| s.eq_ignore_ascii_case(&sent))
        .ok_or_else(|| invalid_values("sku"))?;
    let tier = if name.starts_with("Premium") {
        "Premium"
    } else {
        "Standard"
    };
    Ok(Sku {
        name: name.to_owned(),
        tier: tier.to_owned(),
    })
}

/// A kind in the spec's casing, or 400 naming `kind`.
pub(crate) fn verify_kind(kind: Option<&str>) -> Result<&'static str, ArmError> {
    let sent = kind.unwrap_or_default();
    KINDS
        .into_iter()
        .find(|k| k.eq_ignore_ascii_case(sent))
        .ok_or_else(|| invalid_values("kind"))
}

/// The SKU and kind must go together: premium file and block blob accounts, standard blob
/// accounts (DOC storage-account-overview).
fn check_sku_and_kind(sku: &Sku, kind: &str) -> Result<(), ArmError> {
    let premium = sku.tier == "Premium";
    let fits = match kind {
        "FileStorage" | "BlockBlobStorage" => premium,
        "BlobStorage" => !premium,
        _ => true,
    };
    if fits {
        Ok(())
    } else {
        Err(invalid_values("kind, sku"))
    }
}

/// The properties a create or update may send (`StorageAccountPropertiesCreateParameters`,
/// `…UpdateParameters`); the others are accepted and ignored.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UnverifiedAccountProperties {
    access_tier: Option<String>,
    allow_blob_public_access: Option<bool>,
    allow_shared_key_access: Option<bool>,
    allow_cross_tenant_replication: Option<bool>,
    default_to_o_auth_authentication: Option<bool>,
    is_hns_enabled: Option<bool>,
    minimum_tls_version: Option<String>,
    supports_https_traffic_only: Option<bool>,
    network_acls: Option<Value>,
    public_network_access: Option<String>,
}

/// When each key was made (`keyCreationTime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct KeyCreationTime {
    /// `key1`'s, RFC 3339.
    pub(crate) key1: String,
    /// `key2`'s, RFC 3339.
    pub(crate) key2: String,
}

/// The stored properties of an account, which are also its wire form.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AccountProperties {
    pub(crate) provisioning_state: String,
    pub(crate) creation_time: String,
    pub(crate) primary_location: String,
    pub(crate) status_of_primary: String,
    pub(crate) primary_endpoints: BTreeMap<String, String>,
    pub(crate) key_creation_time: KeyCreationTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_tier: Option<String>,
    pub(crate) allow_blob_public_access: bool,
    pub(crate) allow_shared_key_access: bool,
    pub(crate) allow_cross_tenant_replication: bool,
    #[serde(rename = "defaultToOAuthAuthentication")]
    pub(crate) default_to_oauth_authentication: bool,
    pub(crate) is_hns_enabled: bool,
    pub(crate) minimum_tls_version: String,
    pub(crate) supports_https_traffic_only: bool,
    pub(crate) network_acls: Value,
    pub(crate) public_network_access: String,
    pub(crate) encryption: Value,
    pub(crate) private_endpoint_connections: Vec<Value>,
}

/// What a new account's properties start from besides the request.
pub(crate) struct NewAccount<'a> {
    /// The account's name.
    pub(crate) name: &'a str,
    /// Its location, as stored.
    pub(crate) location: &'a str,
    /// The storage suffix (`core.windows.net`).
    pub(crate) suffix: &'a str,
    /// Now, RFC 3339: the creation time of the account and of its keys.
    pub(crate) now: &'a str,
}

/// The endpoints of an account of `kind` (`primaryEndpoints`), as Azure lists them per
/// kind, under the storage suffix; each with a trailing slash.
pub(crate) fn endpoints(name: &str, kind: &str, suffix: &str) -> BTreeMap<String, String> {
    let services: &[&str] = match kind {
        "Storage" => &["blob", "queue", "table", "file"],
        "BlobStorage" => &["blob", "dfs", "table"],
        "BlockBlobStorage" => &["blob", "dfs", "web"],
        "FileStorage" => &["file"],
        _ => &["blob", "dfs", "web", "queue", "table", "file"],
    };
    services
        .iter()
        .map(|service| {
            // Azure's static-website host carries a zone (`z13`); azlite serves no website
            // and names zone 1.
            let host = if *service == "web" {
                format!("{name}.z1.web.{suffix}")
            } else {
                format!("{name}.{service}.{suffix}")
            };
            ((*service).to_owned(), format!("https://{host}/"))
        })
        .collect()
}

/// The properties of a new account: the request over the defaults of a new account
/// (2023-05-01: shared key allowed, blob public access off, HTTPS only, TLS 1.2).
pub(crate) fn new_properties(
    request: UnverifiedAccountProperties,
    sku: &Sku,
    kind: &str,
    new: &NewAccount<'_>,
) -> Result<AccountProperties, ArmError> {
    check_sku_and_kind(sku, kind)?;
    let hns = request.is_hns_enabled.unwrap_or(false);
    if hns && !matches!(kind, "StorageV2" | "BlockBlobStorage") {
        return Err(ArmError::bad_request(
            "InvalidRequestPropertyValue",
            "The value 'True' is not allowed for property isHnsEnabled. For more information, see - https://aka.ms/storageaccounthns",
        ));
    }
    let access_tier = match kind {
        "StorageV2" | "BlobStorage" if sku.tier == "Standard" => Some("Hot".to_owned()),
        "BlockBlobStorage" => Some("Premium".to_owned()),
        _ => None,
    };
    let base = AccountProperties {
        provisioning_state: "Succeeded".to_owned(),
        creation_time: new.now.to_owned(),
        primary_location: new.location.to_owned(),
        status_of_primary: "available".to_owned(),
        primary_endpoints: endpoints(new.name, kind, new.suffix),
        key_creation_time: KeyCreationTime {
            key1: new.now.to_owned(),
            key2: new.now.to_owned(),
        },
        access_tier,
        allow_blob_public_access: false,
        allow_shared_key_access: true,
        allow_cross_tenant_replication: false,
        default_to_oauth_authentication: false,
        is_hns_enabled: hns,
        minimum_tls_version: "TLS1_2".to_owned(),
        supports_https_traffic_only: true,
        network_acls: json!({
            "bypass": "AzureServices",
            "virtualNetworkRules": [],
            "ipRules": [],
            "defaultAction": "Allow",
        }),
        public_network_access: "Enabled".to_owned(),
        encryption: json!({
            "services": {
                "file": { "keyType": "Account", "enabled": true, "lastEnabledTime": new.now },
                "blob": { "keyType": "Account", "enabled": true, "lastEnabledTime": new.now },
            },
            "keySource": "Microsoft.Storage",
        }),
        private_endpoint_connections: Vec::new(),
    };
    update_properties(request, base, kind)
}

/// The properties after an update (or a create over an existing account): each property
/// sent replaces the stored one; `isHnsEnabled` cannot change.
pub(crate) fn update_properties(
    request: UnverifiedAccountProperties,
    mut properties: AccountProperties,
    kind: &str,
) -> Result<AccountProperties, ArmError> {
    if let Some(hns) = request.is_hns_enabled
        && hns != properties.is_hns_enabled
    {
        return Err(ArmError::bad_request(
            "AccountPropertyCannotBeUpdated",
            "The property 'isHnsEnabled' was specified in the input, but it cannot be updated.",
        ));
    }
    if let Some(tier) = request.access_tier {
        let allowed: &[&str] = match kind {
            "StorageV2" | "BlobStorage" => &["Hot", "Cool", "Cold"],
            "BlockBlobStorage" => &["Premium"],
            _ => &[],
        };
        let canonical = allowed
            .iter()
            .find(|t| t.eq_ignore_ascii_case(&tier))
            .ok_or_else(|| invalid_property(&tier, "accessTier"))?;
        properties.access_tier = Some((*canonical).to_owned());
    }
    if let Some(version) = request.minimum_tls_version {
        let canonical = ["TLS1_0", "TLS1_1", "TLS1_2", "TLS1_3"]
            .into_iter()
            .find(|v| v.eq_ignore_ascii_case(&version))
            .ok_or_else(|| invalid_property(&version, "minimumTlsVersion"))?;
        properties.minimum_tls_version = canonical.to_owned();
    }
    if let Some(access) = request.public_network_access {
        let canonical = ["Enabled", "Disabled", "SecuredByPerimeter"]
            .into_iter()
            .find(|v| v.eq_ignore_ascii_case(&access))
            .ok_or_else(|| invalid_property(&access, "publicNetworkAccess"))?;
        properties.public_network_access = canonical.to_owned();
    }
    if let Some(acls) = request.network_acls.filter(|v| !v.is_null()) {
        if !acls.is_object() {
            return Err(invalid_property(&acls.to_string(), "networkAcls"));
        }
        properties.network_acls = acls;
    }
    let flags = [
        (
            request.allow_blob_public_access,
            &mut properties.allow_blob_public_access,
        ),
        (
            request.allow_shared_key_access,
            &mut properties.allow_shared_key_access,
        ),
        (
            request.allow_cross_tenant_replication,
            &mut properties.allow_cross_tenant_replication,
        ),
        (
            request.default_to_o_auth_authentication,
            &mut properties.default_to_oauth_authentication,
        ),
        (
            request.supports_https_traffic_only,
            &mut properties.supports_https_traffic_only,
        ),
    ];
    for (sent, stored) in flags {
        if let Some(value) = sent {
            *stored = value;
        }
    }
    Ok(properties)
}

/// The kind after an update: only `Storage` may become `StorageV2` (the upgrade Azure
/// offers); anything else must stay.
pub(crate) fn update_kind(stored: &str, sent: Option<&str>) -> Result<&'static str, ArmError> {
    let stored = verify_kind(Some(stored))?;
    let Some(sent) = sent else {
        return Ok(stored);
    };
    let sent = verify_kind(Some(sent))?;
    if sent == stored || (stored == "Storage" && sent == "StorageV2") {
        Ok(sent)
    } else {
        Err(invalid_values("kind"))
    }
}

/// The SKU after an update; it must still fit the kind.
pub(crate) fn update_sku(
    stored: Sku,
    sent: Option<UnverifiedSku>,
    kind: &str,
) -> Result<Sku, ArmError> {
    let sku = match sent {
        Some(sku) => verify_sku(Some(sku))?,
        None => stored,
    };
    check_sku_and_kind(&sku, kind)?;
    Ok(sku)
}

#[cfg(test)]
#[path = "account_model_tests.rs"]
mod tests;
