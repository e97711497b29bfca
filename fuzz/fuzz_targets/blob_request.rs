//! Fuzz target `blob_request`: the harness `azlite_blob::fuzzing::request` (it asserts its invariants itself).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    azlite_blob::fuzzing::request(data);
});
