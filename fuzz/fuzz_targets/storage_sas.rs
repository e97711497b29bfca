//! SAS query parsing, (re)serialization, signing and verification on arbitrary input; the
//! harness is `azlite_storage_auth::fuzzing::sas`.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    azlite_storage_auth::fuzzing::sas(data);
});
