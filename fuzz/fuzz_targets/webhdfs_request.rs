//! Fuzz target `webhdfs_request`: the harness `azlite_datalake::fuzzing::request` (it asserts its invariants itself).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    azlite_datalake::fuzzing::request(data);
});
