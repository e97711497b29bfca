//! The data directory keeps its secrets to its owner (issue 10, findings 4 and 5): with a
//! umask of 0 and a data directory that already existed 0755, every file azlite writes is
//! private (0600, the directory and the CA's directory 0700; only the CA certificate, which
//! clients must read, is 0644), and the STS's private signing keys are in no file in clear.
//!
//! One test per binary: the umask is the process's.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use azlite_testkit::TestCloud;
use base64::Engine;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().filter_map(Result::ok) {
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            out.push(path.clone());
            walk(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

#[tokio::test]
async fn files_are_private_whatever_the_umask_and_signing_keys_are_sealed() {
    nix::sys::stat::umask(nix::sys::stat::Mode::empty());
    let data = tempfile::tempdir().unwrap();
    std::fs::set_permissions(data.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let cloud = TestCloud::start_in(data).await.unwrap();
    // A token, so the signing key is used; a write, so the WAL has frames.
    let owner = cloud.owner_arm_token().await;
    let (status, body) = cloud
        .arm(
            &owner,
            "PUT",
            &cloud.group_path("rg"),
            Some(serde_json::json!({"location": "westus"})),
            "2022-04-01",
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let keys = cloud.store.list_signing_keys().await.unwrap();
    assert!(!keys.is_empty());
    let dir = cloud.data_dir().to_owned();

    let check = |dir: &Path| {
        assert_eq!(mode(dir), 0o700, "the data directory");
        let mut paths = Vec::new();
        walk(dir, &mut paths);
        let names: Vec<String> = paths
            .iter()
            .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
            .collect();
        for expected in [
            "azlite.db",
            "store.key",
            "keyvault.key",
            "connection.json",
            "ca/ca-key.pem",
        ] {
            assert!(
                names.iter().any(|n| n == expected),
                "{expected} in {names:?}"
            );
        }
        for (path, name) in paths.iter().zip(&names) {
            let want = if path.is_dir() {
                0o700
            } else if name == "ca/ca.pem" {
                0o644
            } else {
                0o600
            };
            assert_eq!(mode(path), want, "{name}: {:o}", mode(path));
        }
        paths
    };
    let paths = check(&dir);
    assert!(
        paths.iter().any(|p| p.ends_with("azlite.db-wal")),
        "the WAL is there while azlite runs"
    );

    let data = cloud.stop().await;
    let paths = check(data.path());
    // No private key in clear, PEM or DER, in any file.
    for key in &keys {
        let body: String = key
            .private_key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        let der = base64::engine::general_purpose::STANDARD
            .decode(&body)
            .unwrap();
        let first_line = key.private_key_pem.lines().nth(1).unwrap();
        for path in paths.iter().filter(|p| p.is_file()) {
            let bytes = std::fs::read(path).unwrap();
            assert!(
                !contains(&bytes, first_line.as_bytes()),
                "{} holds PEM",
                path.display()
            );
            // The middle of the DER: the private exponent and primes.
            let middle = &der[der.len() / 2..der.len() / 2 + 64];
            assert!(!contains(&bytes, middle), "{} holds DER", path.display());
        }
    }
}
