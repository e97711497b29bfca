//! Fuzz target `blob_block_list`: the harness `azlite_blob::fuzzing::block_list` (it asserts its invariants itself).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    azlite_blob::fuzzing::block_list(data);
});
