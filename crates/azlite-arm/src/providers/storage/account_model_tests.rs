//! Tests of the storage account model's rules.

use super::*;

fn request(value: Value) -> UnverifiedAccountProperties {
    serde_json::from_value(value).unwrap()
}

fn sku(name: &str) -> Sku {
    verify_sku(Some(UnverifiedSku {
        name: Some(name.to_owned()),
    }))
    .unwrap()
}

fn new_account() -> NewAccount<'static> {
    NewAccount {
        name: "acct1",
        location: "westeurope",
        suffix: "core.windows.net",
        now: "2026-01-01T00:00:00Z",
    }
}

#[test]
fn account_names_are_3_to_24_lowercase_letters_and_digits() {
    assert!(valid_name("abc"));
    assert!(valid_name("mystorage123"));
    assert!(valid_name(&"a".repeat(24)));
    assert!(!valid_name(&"a".repeat(25)));
    assert!(!valid_name("ab"));
    assert!(!valid_name("MyStorage"));
    assert!(!valid_name("my-storage"));
    assert!(!valid_name("my_storage"));
    assert!(!valid_name("störe"));
}

#[test]
fn skus_and_kinds_take_the_spec_casing() {
    assert_eq!(
        sku("standard_lrs"),
        Sku {
            name: "Standard_LRS".into(),
            tier: "Standard".into()
        }
    );
    assert_eq!(sku("Premium_ZRS").tier, "Premium");
    let bad = verify_sku(Some(UnverifiedSku {
        name: Some("Standard_XYZ".into()),
    }))
    .unwrap_err();
    assert_eq!(
        (bad.code, bad.message.as_str()),
        (
            "InvalidValuesForRequestParameters",
            "Values for request parameters are invalid: sku."
        )
    );
    assert!(verify_sku(None).is_err());
    assert_eq!(verify_kind(Some("storagev2")).unwrap(), "StorageV2");
    assert!(verify_kind(None).is_err());
    assert!(verify_kind(Some("Storage3")).is_err());
}

#[test]
fn a_new_storage_v2_account_has_azures_defaults_and_six_endpoints() {
    let p = new_properties(
        request(json!({})),
        &sku("Standard_LRS"),
        "StorageV2",
        &new_account(),
    )
    .unwrap();
    assert_eq!(p.provisioning_state, "Succeeded");
    assert!(p.allow_shared_key_access);
    assert!(!p.allow_blob_public_access);
    assert!(!p.is_hns_enabled);
    assert!(p.supports_https_traffic_only);
    assert_eq!(p.minimum_tls_version, "TLS1_2");
    assert_eq!(p.access_tier.as_deref(), Some("Hot"));
    assert_eq!(p.primary_location, "westeurope");
    assert_eq!(
        p.primary_endpoints["blob"],
        "https://acct1.blob.core.windows.net/"
    );
    assert_eq!(
        p.primary_endpoints["dfs"],
        "https://acct1.dfs.core.windows.net/"
    );
    assert_eq!(p.primary_endpoints.len(), 6);
    let wire = serde_json::to_value(&p).unwrap();
    assert_eq!(wire["allowSharedKeyAccess"], true);
    assert_eq!(wire["defaultToOAuthAuthentication"], false);
    assert_eq!(wire["keyCreationTime"]["key1"], "2026-01-01T00:00:00Z");
}

#[test]
fn endpoints_follow_the_kind() {
    let storage = endpoints("a", "Storage", "core.windows.net");
    assert_eq!(
        storage.keys().collect::<Vec<_>>(),
        ["blob", "file", "queue", "table"]
    );
    assert_eq!(
        endpoints("a", "FileStorage", "x")["file"],
        "https://a.file.x/"
    );
}

#[test]
fn the_request_overrides_the_defaults_and_is_checked() {
    let p = new_properties(
        request(json!({
            "allowSharedKeyAccess": false,
            "isHnsEnabled": true,
            "minimumTlsVersion": "tls1_1",
            "accessTier": "cool",
            "encryption": { "ignored": true },
        })),
        &sku("Standard_LRS"),
        "StorageV2",
        &new_account(),
    )
    .unwrap();
    assert!(!p.allow_shared_key_access);
    assert!(p.is_hns_enabled);
    assert_eq!(p.minimum_tls_version, "TLS1_1");
    assert_eq!(p.access_tier.as_deref(), Some("Cool"));

    let hns_on_v1 = new_properties(
        request(json!({ "isHnsEnabled": true })),
        &sku("Standard_LRS"),
        "Storage",
        &new_account(),
    )
    .unwrap_err();
    assert_eq!(hns_on_v1.code, "InvalidRequestPropertyValue");
    let premium_blob = new_properties(
        request(json!({})),
        &sku("Premium_LRS"),
        "BlobStorage",
        &new_account(),
    )
    .unwrap_err();
    assert_eq!(
        premium_blob.message,
        "Values for request parameters are invalid: kind, sku."
    );
    let tls = new_properties(
        request(json!({ "minimumTlsVersion": "TLS9" })),
        &sku("Standard_LRS"),
        "StorageV2",
        &new_account(),
    )
    .unwrap_err();
    assert_eq!(
        tls.message,
        "The value 'TLS9' is not allowed for property minimumTlsVersion."
    );
}

#[test]
fn updates_change_what_is_sent_and_never_the_namespace_kind() {
    let base = new_properties(
        request(json!({})),
        &sku("Standard_LRS"),
        "StorageV2",
        &new_account(),
    )
    .unwrap();
    let p = update_properties(
        request(json!({ "allowSharedKeyAccess": false })),
        base.clone(),
        "StorageV2",
    )
    .unwrap();
    assert!(!p.allow_shared_key_access);
    assert_eq!(p.creation_time, base.creation_time);
    let hns =
        update_properties(request(json!({ "isHnsEnabled": true })), base, "StorageV2").unwrap_err();
    assert_eq!(hns.code, "AccountPropertyCannotBeUpdated");
    assert_eq!(
        update_kind("Storage", Some("storagev2")).unwrap(),
        "StorageV2"
    );
    assert!(update_kind("StorageV2", Some("Storage")).is_err());
    assert_eq!(update_kind("StorageV2", None).unwrap(), "StorageV2");
}
