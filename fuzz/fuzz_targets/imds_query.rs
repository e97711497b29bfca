//! The query of a managed-identity token request (IMDS, App Service, the VM extension):
//! any bytes are parsed or refused without panicking.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else {
        return;
    };
    let _ = azlite_imds::fuzzing::token_query(query);
});
