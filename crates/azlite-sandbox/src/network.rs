//! The sandbox's network: its loopback interface brought up, with IMDS's link-local address
//! on it. A new network namespace holds `lo` alone, so this is all there is: no other
//! interface, no route beyond loopback.

use std::net::{IpAddr, Ipv4Addr};

use rtnetlink::LinkUnspec;

use crate::SandboxError;

/// IMDS's address (reference §1), served inside the sandbox.
pub(crate) const IMDS_ADDRESS: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);

/// `lo`'s index in every network namespace.
const LOOPBACK_INDEX: u32 = 1;

/// Brings `lo` up and puts [`IMDS_ADDRESS`] on it.
pub(crate) async fn configure() -> Result<(), SandboxError> {
    let netlink = |e: rtnetlink::Error| SandboxError::Network(e.to_string());
    let (connection, handle, _) =
        rtnetlink::new_connection().map_err(|source| SandboxError::Io {
            what: "cannot open a netlink socket".to_owned(),
            source,
        })?;
    let connection = tokio::spawn(connection);
    let result = async {
        let up = LinkUnspec::new_with_index(LOOPBACK_INDEX).up().build();
        handle.link().set(up).execute().await.map_err(netlink)?;
        handle
            .address()
            .add(LOOPBACK_INDEX, IpAddr::V4(IMDS_ADDRESS), 32)
            .execute()
            .await
            .map_err(netlink)
    }
    .await;
    connection.abort();
    result
}
