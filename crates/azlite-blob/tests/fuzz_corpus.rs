//! Replays the committed fuzz corpus (`fuzz/corpus/blob_block_list`, `blob_request`) through the fuzz
//! harnesses, so every run of the tests covers what fuzzing found.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        harness(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    n
}

#[test]
fn blob_block_list_corpus() {
    assert!(replay("blob_block_list", azlite_blob::fuzzing::block_list) >= 4);
}

#[test]
fn blob_request_corpus() {
    assert!(replay("blob_request", azlite_blob::fuzzing::request) >= 4);
}
