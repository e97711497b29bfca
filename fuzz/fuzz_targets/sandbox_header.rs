//! The sandbox socket's header line, the first thing the server reads from a program
//! inside a sandbox: any line is a header or refused without panicking, and a parsed
//! header encodes back to the line it came from.
//!
//! The protocol module is compiled in from azlite-server's source rather than through the
//! crate, so the target does not build the whole server.
#![no_main]

use libfuzzer_sys::fuzz_target;

#[allow(dead_code, missing_docs)]
#[path = "../../crates/azlite-server/src/sandbox/protocol.rs"]
mod protocol;

fuzz_target!(|data: &[u8]| {
    let Ok(line) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(header) = protocol::Header::parse(line) {
        assert_eq!(header.encode(), format!("{line}\n"));
    }
});
