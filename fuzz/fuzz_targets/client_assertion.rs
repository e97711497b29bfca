//! A client assertion (`client_assertion` of a token request): decoding its header and
//! claims before any check is refused or accepted without panicking.
#![no_main]

use azlite_token::UnverifiedAssertion;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(jwt) = std::str::from_utf8(data) else {
        return;
    };
    let _ = UnverifiedAssertion::parse(jwt);
});
