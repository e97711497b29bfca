//! Tests of the vault model: name rules, defaults and irreversible settings of a PUT, PATCH
//! merges, access policy verification and the `add`/`remove`/`replace` merges.

use serde_json::json;

use super::*;

const TENANT: &str = "72f988bf-86f1-41af-91ab-2d7cd011db47";
const OBJECT: &str = "11111111-2222-3333-4444-555555555555";

fn request(value: serde_json::Value) -> UnverifiedVaultProperties {
    serde_json::from_value(value).unwrap()
}

fn base(existing: Option<&VaultProperties>) -> Base<'_> {
    Base {
        existing,
        vault_uri: "https://kv1.vault.azure.net/".to_owned(),
    }
}

fn minimal() -> serde_json::Value {
    json!({ "tenantId": TENANT, "sku": { "family": "A", "name": "standard" } })
}

fn entry(object: &str, secrets: &[&str]) -> AccessPolicyEntry {
    AccessPolicyEntry {
        tenant_id: TENANT.to_owned(),
        object_id: object.to_owned(),
        application_id: None,
        permissions: Permissions {
            secrets: secrets.iter().map(|s| (*s).to_owned()).collect(),
            ..Permissions::default()
        },
    }
}

#[test]
fn vault_names_follow_the_key_vault_rules() {
    for good in ["kv1", "my-vault-01", "A23", &"a".repeat(24)] {
        assert!(valid_vault_name(good), "{good}");
    }
    for bad in [
        "ab",
        &"a".repeat(25),
        "1vault",
        "-vault",
        "vault-",
        "my--vault",
        "my_vault",
        "my.vault",
        "vält",
    ] {
        assert!(!valid_vault_name(bad), "{bad}");
    }
}

#[test]
fn a_put_fills_in_the_defaults() {
    let properties = apply(request(minimal()), base(None), true).unwrap();
    assert_eq!(
        serde_json::to_value(&properties).unwrap(),
        json!({
            "tenantId": TENANT,
            "sku": { "family": "A", "name": "standard" },
            "accessPolicies": [],
            "enabledForDeployment": false,
            "enabledForDiskEncryption": false,
            "enabledForTemplateDeployment": false,
            "enableSoftDelete": true,
            "softDeleteRetentionInDays": 90,
            "enableRbacAuthorization": false,
            "vaultUri": "https://kv1.vault.azure.net/",
            "provisioningState": "Succeeded",
            "publicNetworkAccess": "Enabled",
        })
    );
}

#[test]
fn a_put_needs_tenant_and_sku_and_checks_values() {
    let missing_tenant = apply(
        request(json!({ "sku": { "name": "standard" } })),
        base(None),
        true,
    );
    assert!(missing_tenant.unwrap_err().message.contains("tenantId"));
    let missing_sku = apply(request(json!({ "tenantId": TENANT })), base(None), true);
    assert!(missing_sku.unwrap_err().message.contains("sku"));
    let mut bad_sku = minimal();
    bad_sku["sku"]["name"] = json!("gold");
    assert_eq!(
        apply(request(bad_sku), base(None), true).unwrap_err().code,
        "BadRequest"
    );
    let mut premium = minimal();
    premium["sku"] = json!({ "name": "Premium" });
    let stored = apply(request(premium), base(None), true).unwrap();
    assert_eq!(stored.sku.name, "premium");
    for days in [6, 91] {
        let mut body = minimal();
        body["softDeleteRetentionInDays"] = json!(days);
        assert!(apply(request(body), base(None), true).is_err(), "{days}");
    }
    let mut body = minimal();
    body["enablePurgeProtection"] = json!(false);
    assert!(apply(request(body), base(None), true).is_err());
    let mut body = minimal();
    body["createMode"] = json!("recover");
    assert!(apply(request(body), base(None), true).is_err());
    let mut body = minimal();
    body["publicNetworkAccess"] = json!("Disabled");
    assert!(apply(request(body), base(None), true).is_err());
}

#[test]
fn soft_delete_and_purge_protection_cannot_be_turned_off() {
    let mut body = minimal();
    body["enablePurgeProtection"] = json!(true);
    let created = apply(request(body), base(None), true).unwrap();
    assert_eq!(created.enable_purge_protection, Some(true));
    let mut off = minimal();
    off["enableSoftDelete"] = json!(false);
    assert!(apply(request(off), base(Some(&created)), true).is_err());
    let again = apply(request(minimal()), base(Some(&created)), true).unwrap();
    assert_eq!(again.enable_purge_protection, Some(true), "a PUT keeps it");
    assert!(again.enable_soft_delete);
}

#[test]
fn a_patch_changes_only_what_it_sends() {
    let mut body = minimal();
    body["enabledForDeployment"] = json!(true);
    body["accessPolicies"] = json!([{ "tenantId": TENANT, "objectId": OBJECT,
        "permissions": { "secrets": ["get"] } }]);
    let created = apply(request(body), base(None), true).unwrap();
    let patched = apply(
        request(json!({ "enableRbacAuthorization": true })),
        base(Some(&created)),
        false,
    )
    .unwrap();
    assert!(patched.enable_rbac_authorization);
    assert!(patched.enabled_for_deployment);
    assert_eq!(patched.access_policies, created.access_policies);
    assert_eq!(patched.tenant_id, TENANT);
    // A PUT is a whole replacement of the plain flags.
    let put = apply(request(minimal()), base(Some(&created)), true).unwrap();
    assert!(!put.enabled_for_deployment);
    assert_eq!(
        put.access_policies, created.access_policies,
        "kept when absent"
    );
}

#[test]
fn access_policies_are_verified_and_canonical() {
    let entries: Vec<UnverifiedAccessPolicy> = serde_json::from_value(json!([{
        "tenantId": TENANT.to_uppercase(),
        "objectId": OBJECT.to_uppercase(),
        "applicationId": "",
        "permissions": { "secrets": ["Get", "LIST"], "keys": ["wrapKey"] }
    }]))
    .unwrap();
    let verified = verify_access_policies(entries, "properties.accessPolicies").unwrap();
    assert_eq!(verified[0].tenant_id, TENANT);
    assert_eq!(verified[0].object_id, OBJECT);
    assert_eq!(verified[0].application_id, None);
    assert_eq!(
        verified[0].permissions.secrets,
        ["Get", "LIST"],
        "kept as sent"
    );
    assert_eq!(
        serde_json::to_value(&verified[0]).unwrap()["permissions"],
        json!({ "keys": ["wrapKey"], "secrets": ["Get", "LIST"], "certificates": [], "storage": [] })
    );
    for bad in [
        json!([{ "tenantId": TENANT, "objectId": "not-a-guid", "permissions": {} }]),
        json!([{ "objectId": OBJECT, "permissions": {} }]),
        json!([{ "tenantId": TENANT, "objectId": OBJECT }]),
        json!([{ "tenantId": TENANT, "objectId": OBJECT, "permissions": { "secrets": ["gett"] } }]),
        json!([{ "tenantId": TENANT, "objectId": OBJECT, "permissions": { "keys": ["set"] } }]),
    ] {
        let entries: Vec<UnverifiedAccessPolicy> = serde_json::from_value(bad.clone()).unwrap();
        assert!(verify_access_policies(entries, "x").is_err(), "{bad}");
    }
}

#[test]
fn add_merges_per_identity() {
    let other = "99999999-2222-3333-4444-555555555555";
    let mut current = vec![entry(OBJECT, &["get"])];
    update_access_policies(
        &mut current,
        AccessPolicyUpdateKind::Add,
        vec![entry(OBJECT, &["GET", "list"]), entry(other, &["set"])],
    )
    .unwrap();
    assert_eq!(current.len(), 2);
    assert_eq!(current[0].permissions.secrets, ["get", "list"]);
    assert_eq!(current[1].permissions.secrets, ["set"]);
    // The same object through an application is another identity.
    let mut through_app = entry(OBJECT, &["delete"]);
    through_app.application_id = Some("aaaaaaaa-2222-3333-4444-555555555555".to_owned());
    update_access_policies(&mut current, AccessPolicyUpdateKind::Add, vec![through_app]).unwrap();
    assert_eq!(current.len(), 3);
    assert_eq!(current[0].permissions.secrets, ["get", "list"]);
}

#[test]
fn remove_subtracts_and_drops_empty_entries() {
    let other = "99999999-2222-3333-4444-555555555555";
    let mut keys_too = entry(other, &["get"]);
    keys_too.permissions.keys = vec!["get".to_owned()];
    let mut current = vec![entry(OBJECT, &["get", "list", "all"]), keys_too];
    update_access_policies(
        &mut current,
        AccessPolicyUpdateKind::Remove,
        vec![entry(OBJECT, &["LIST", "get"]), entry(other, &["get"])],
    )
    .unwrap();
    assert_eq!(current.len(), 2);
    assert_eq!(current[0].permissions.secrets, ["all"], "by name only");
    assert_eq!(current[1].permissions.keys, ["get"]);
    assert!(current[1].permissions.secrets.is_empty());
    update_access_policies(
        &mut current,
        AccessPolicyUpdateKind::Remove,
        vec![entry(OBJECT, &["all"])],
    )
    .unwrap();
    assert_eq!(current.len(), 1, "an entry left empty is dropped");
    assert_eq!(current[0].object_id, other);
}

#[test]
fn replace_sets_the_list() {
    let mut current = vec![entry(OBJECT, &["get"])];
    update_access_policies(&mut current, AccessPolicyUpdateKind::Replace, vec![]).unwrap();
    assert!(current.is_empty());
    assert_eq!(
        AccessPolicyUpdateKind::parse("REPLACE"),
        Some(AccessPolicyUpdateKind::Replace)
    );
    assert_eq!(AccessPolicyUpdateKind::parse("merge"), None);
}
