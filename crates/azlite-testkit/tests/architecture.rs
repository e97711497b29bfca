//! The architecture invariants of ARCHITECTURE.md, checked on the manifests and sources.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates/")
        .to_owned()
}

/// Each workspace crate and the azlite crates it depends on (normal dependencies only).
fn crate_graph() -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for entry in std::fs::read_dir(crates_dir()).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        let Ok(text) = std::fs::read_to_string(&manifest) else {
            continue;
        };
        let doc: toml::Table = text.parse().unwrap();
        let name = doc["package"]["name"].as_str().unwrap().to_owned();
        let deps = doc
            .get("dependencies")
            .and_then(|d| d.as_table())
            .map(|t| {
                t.keys()
                    .filter(|k| k.starts_with("azlite"))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        graph.insert(name, deps);
    }
    graph
}

#[test]
fn dependencies_point_one_way() {
    let allowed: &[(&str, &[&str])] = &[
        // Pure crates: no I/O, and nothing of azlite but the vocabulary.
        ("azlite-types", &[]),
        ("azlite-token", &["azlite-types"]),
        ("azlite-authz", &["azlite-types"]),
        ("azlite-store", &["azlite-types"]),
        ("azlite-content", &[]),
        // Storage request signing (Shared Key, SAS): shared by Blob, ARM and Data Lake Gen2.
        ("azlite-storage-auth", &[]),
        ("azlite-posix-acl", &[]),
        // Services: pure crates and the store's traits; never another service.
        (
            "azlite-sts",
            &["azlite-types", "azlite-token", "azlite-store"],
        ),
        (
            "azlite-arm",
            &[
                "azlite-types",
                "azlite-token",
                "azlite-authz",
                "azlite-store",
                "azlite-storage-auth",
            ],
        ),
        // The on-VM managed-identity endpoints: the VM through the store's traits, tokens
        // from the STS only through `azlite_token::ManagedIdentityTokens`.
        (
            "azlite-imds",
            &["azlite-types", "azlite-token", "azlite-store"],
        ),
        // Microsoft Graph: the directory through the store's traits; the token service's
        // logic (secrets, applications) is not borrowed from azlite-sts.
        (
            "azlite-graph",
            &["azlite-types", "azlite-token", "azlite-store"],
        ),
        // Key Vault's data plane: vaults and secrets through the store's traits; role
        // assignments only through `azlite_authz::DataActionCheck`, which ARM implements.
        (
            "azlite-keyvault",
            &[
                "azlite-types",
                "azlite-token",
                "azlite-authz",
                "azlite-store",
            ],
        ),
        // Data Lake Store Gen1: accounts and trees through the store's traits; superusers
        // only through `azlite_authz::DataActionCheck`; the ACL model is a pure crate.
        (
            "azlite-datalake",
            &[
                "azlite-types",
                "azlite-token",
                "azlite-authz",
                "azlite-store",
                "azlite-content",
                "azlite-posix-acl",
            ],
        ),
        // The composition root may use everything below it.
        (
            "azlite-blob",
            &[
                "azlite-types",
                "azlite-token",
                "azlite-authz",
                "azlite-store",
                "azlite-content",
                "azlite-storage-auth",
            ],
        ),
        (
            "azlite-server",
            &[
                "azlite-types",
                "azlite-token",
                "azlite-authz",
                "azlite-store",
                "azlite-sts",
                "azlite-arm",
                "azlite-graph",
                "azlite-imds",
                "azlite-keyvault",
                "azlite-datalake",
                "azlite-posix-acl",
                "azlite-blob",
                "azlite-content",
            ],
        ),
        // `azlite run`: a client of a running server, which it reaches through the server
        // crate's `connection.json` and sandbox-socket protocol only.
        ("azlite-sandbox", &["azlite-server"]),
        // The binary parses command lines and talks to the server.
        (
            "azlite",
            &[
                "azlite-server",
                "azlite-sandbox",
                "azlite-types",
                "azlite-storage-auth",
            ],
        ),
        (
            "azlite-testkit",
            &[
                "azlite-server",
                "azlite-types",
                "azlite-token",
                "azlite-store",
                "azlite-sts",
            ],
        ),
    ];
    let graph = crate_graph();
    for (name, deps) in &graph {
        let Some((_, permitted)) = allowed.iter().find(|(n, _)| n == name) else {
            panic!(
                "crate {name} is not in the architecture table: add it here and to ARCHITECTURE.md"
            );
        };
        for dep in deps {
            assert!(
                permitted.contains(&dep.as_str()),
                "{name} must not depend on {dep} (see ARCHITECTURE.md)"
            );
        }
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

#[test]
fn only_the_server_names_a_storage_backend() {
    for service in [
        "azlite-sts",
        "azlite-arm",
        "azlite-graph",
        "azlite-imds",
        "azlite-keyvault",
        "azlite-datalake",
        "azlite-posix-acl",
        "azlite-authz",
        "azlite-token",
        "azlite-types",
        "azlite-storage-auth",
    ] {
        let mut files = Vec::new();
        rust_files(&crates_dir().join(service).join("src"), &mut files);
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(
                !text.contains("SqliteStore"),
                "{} names a concrete backend",
                file.display()
            );
        }
    }
}

#[test]
fn no_crate_allows_unsafe_code() {
    let root: toml::Table =
        std::fs::read_to_string(crates_dir().parent().unwrap().join("Cargo.toml"))
            .unwrap()
            .parse()
            .unwrap();
    assert_eq!(
        root["workspace"]["lints"]["rust"]["unsafe_code"].as_str(),
        Some("forbid")
    );
    for (name, _) in crate_graph() {
        let manifest = crates_dir().join(&name).join("Cargo.toml");
        let doc: toml::Table = std::fs::read_to_string(manifest).unwrap().parse().unwrap();
        assert_eq!(
            doc["lints"]["workspace"].as_bool(),
            Some(true),
            "{name} must use the workspace lints"
        );
    }
}
