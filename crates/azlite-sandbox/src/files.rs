//! What the sandbox's programs read instead of the machine's files: `/etc/hosts`,
//! `/etc/resolv.conf` and the CA bundle. Pure text, built before anything is mounted.

use std::path::{Path, PathBuf};

/// Where the sandbox's programs find azlite (Azure's names resolve here; the forwarders
/// listen here on 443, 50342 and 40342).
pub(crate) const LOOPBACK: &str = "127.0.0.1";

/// The CA bundles that clients read by default, Debian's first. The sandbox mounts the
/// combined bundle over each that exists.
pub(crate) const SYSTEM_BUNDLES: &[&str] = &[
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// `/etc/hosts`: localhost, and every host name azlite serves on port 443.
pub(crate) fn hosts(names: &[String]) -> String {
    let mut text = String::from(
        "# azlite run: Azure's names are azlite; nothing else is reachable.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n",
    );
    for name in names {
        text.push_str(&format!("{LOOPBACK}\t{name}\n"));
    }
    text
}

/// `/etc/resolv.conf`: the sandbox's resolver, which knows the names under azlite's
/// suffixes (`<vault>.vault.azure.net`, created at any time) and no others.
pub(crate) fn resolv_conf() -> String {
    format!("# azlite run\nnameserver {LOOPBACK}\noptions timeout:1 attempts:1\n")
}

/// The system bundle with azlite's CA appended.
pub(crate) fn bundle(system: &str, ca_pem: &str) -> String {
    let mut text = String::with_capacity(system.len() + ca_pem.len() + 64);
    text.push_str(system);
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    text.push_str("# azlite local CA (azlite run)\n");
    text.push_str(ca_pem);
    if !text.ends_with('\n') {
        text.push('\n');
    }
    text
}

/// The first system bundle that exists, with its contents.
pub(crate) fn read_system_bundle() -> Option<(PathBuf, String)> {
    SYSTEM_BUNDLES.iter().map(Path::new).find_map(|path| {
        let text = std::fs::read_to_string(path).ok()?;
        Some((path.to_owned(), text))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lists_each_name_on_loopback() {
        let text = hosts(&[
            "login.microsoftonline.com".into(),
            "management.azure.com".into(),
        ]);
        assert!(text.contains("127.0.0.1\tlocalhost\n"));
        assert!(text.contains("127.0.0.1\tlogin.microsoftonline.com\n"));
        assert!(text.contains("127.0.0.1\tmanagement.azure.com\n"));
    }

    #[test]
    fn the_bundle_keeps_the_system_and_adds_the_ca() {
        let ca = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----";
        let text = bundle(
            "-----BEGIN CERTIFICATE-----\nSYS\n-----END CERTIFICATE-----",
            ca,
        );
        assert!(text.starts_with("-----BEGIN CERTIFICATE-----\nSYS\n"));
        assert!(text.ends_with(&format!("{ca}\n")));
        assert_eq!(text.matches("BEGIN CERTIFICATE").count(), 2);
        assert!(bundle("", ca).starts_with("# azlite local CA"));
    }
}
