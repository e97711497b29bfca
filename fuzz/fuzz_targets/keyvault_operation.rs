//! Key Vault's request parser (method and path to operation): any path is an operation or
//! Key Vault's error without panicking.
#![no_main]

use axum::http::Method;
use azlite_keyvault::operation::parse;
use libfuzzer_sys::fuzz_target;

const METHODS: [Method; 6] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::PATCH,
    Method::DELETE,
    Method::HEAD,
];

fuzz_target!(|data: &[u8]| {
    let Some((&first, rest)) = data.split_first() else {
        return;
    };
    let Ok(path) = std::str::from_utf8(rest) else {
        return;
    };
    let method = &METHODS[usize::from(first) % METHODS.len()];
    let _ = parse(method, path);
});
