//! Shared Key header parsing, canonicalization and verification on arbitrary input; the
//! harness is `azlite_storage_auth::fuzzing::shared_key`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    azlite_storage_auth::fuzzing::shared_key(data);
});
