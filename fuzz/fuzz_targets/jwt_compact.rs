//! A bearer token as every resource service receives it: `azlite_token::verify` splits,
//! decodes and checks the header before any key is chosen. Any bytes are refused without
//! panicking (the key ring is empty, so nothing can verify).
#![no_main]

use azlite_token::{IssuerPolicy, JwkSet, KeyRing, Validation, verify};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(token) = std::str::from_utf8(data) else {
        return;
    };
    let keys = KeyRing::from_jwks(&JwkSet { keys: Vec::new() }).expect("an empty set builds");
    let validation = Validation::new(
        vec!["https://management.azure.com/".to_owned()],
        IssuerPolicy::AnyEntraTenant,
    );
    assert!(verify(token, &keys, &validation, 1_700_000_000).is_err());
});
