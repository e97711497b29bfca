//! `/metadata/instance`, `/metadata/identity/info` and `/metadata/versions`.

use serde_json::Value;

use crate::common::Env;

fn all_strings(value: &Value) -> bool {
    match value {
        Value::String(_) => true,
        Value::Array(items) => items.iter().all(all_strings),
        Value::Object(members) => members.values().all(all_strings),
        _ => false,
    }
}

#[tokio::test]
async fn the_instance_document_has_the_vms_compute_metadata_as_strings() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let answer = env.get("/metadata/instance?api-version=2021-02-01").await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.header("server"), "IMDS/150.870.65.1854");
    let body = answer.json();
    assert!(all_strings(&body), "{body}");
    let compute = &body["compute"];
    assert_eq!(compute["subscriptionId"], env.subscription.to_string());
    assert_eq!(compute["resourceGroupName"], "rg");
    assert_eq!(compute["name"], "vm1");
    assert_eq!(compute["location"], "eastus");
    assert_eq!(compute["vmId"], "0b5a7c6e-2f3d-4e1a-9c8b-7d6e5f4a3b2c");
    assert_eq!(compute["resourceId"], env.vm.as_str());
    assert_eq!(compute["vmSize"], "Standard_B1s");
    assert_eq!(compute["osType"], "Linux");
    assert_eq!(compute["zone"], "");
    assert_eq!(compute["tags"], "env:test");
}

#[tokio::test]
async fn route_filters_walk_the_document() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let compute = env
        .get("/metadata/instance/compute?api-version=2021-02-01")
        .await
        .json();
    assert_eq!(compute["name"], "vm1");
    let leaf = env
        .get("/metadata/instance/compute/subscriptionId?api-version=2021-02-01&format=text")
        .await;
    assert_eq!(leaf.status, 200);
    assert_eq!(leaf.text, env.subscription.to_string());
    let json_leaf = env
        .get("/metadata/instance/compute/name?api-version=2021-02-01")
        .await;
    assert_eq!(json_leaf.status, 400);
    let missing = env
        .get("/metadata/instance/compute/nothing?api-version=2021-02-01")
        .await;
    assert_eq!(missing.status, 404);
}

#[tokio::test]
async fn instance_metadata_follows_the_imds_rules() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let no_header = env
        .send(
            "GET",
            "/metadata/instance?api-version=2021-02-01",
            &[],
            None,
        )
        .await;
    assert_eq!(no_header.status, 400);
    let no_version = env.get("/metadata/instance").await;
    assert_eq!(no_version.status, 400);
    assert!(no_version.text.contains("newest-versions"));
    // The instance category is older than the identity one.
    let old = env.get("/metadata/instance?api-version=2017-04-02").await;
    assert_eq!(old.status, 200);
}

#[tokio::test]
async fn identity_info_names_the_tenant() {
    let env = Env::start().await;
    env.set_vm(None, &[]).await;
    let answer = env
        .get("/metadata/identity/info?api-version=2018-02-01")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(
        answer.text,
        format!(r#"{{"tenantId":"{}"}}"#, env.tenant.id)
    );
}

#[tokio::test]
async fn versions_need_no_api_version() {
    let env = Env::start().await;
    let answer = env.get("/metadata/versions").await;
    assert_eq!(answer.status, 200);
    let body = answer.json();
    let versions = body["apiVersions"].as_array().unwrap();
    assert_eq!(versions.first().unwrap(), "2017-03-01");
    assert_eq!(versions.last().unwrap(), "2025-04-07");
    assert!(versions.iter().any(|v| v == "2018-02-01"));
}

#[tokio::test]
async fn a_missing_vm_has_no_instance_metadata() {
    let env = Env::start().await;
    let answer = env.get("/metadata/instance?api-version=2021-02-01").await;
    assert_eq!(answer.status, 404);
}
