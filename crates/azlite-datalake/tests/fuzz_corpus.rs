//! Replays the committed fuzz corpus (`fuzz/corpus/webhdfs_request`) through the fuzz
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
fn webhdfs_request_corpus() {
    assert!(replay("webhdfs_request", azlite_datalake::fuzzing::request) >= 4);
}
