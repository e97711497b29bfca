//! Replays the committed fuzz corpus (`fuzz/corpus/storage_sas`, `storage_shared_key`)
//! through the fuzz harnesses, so every run of the tests covers what fuzzing found.

use std::path::Path;

fn replay(target: &str, harness: fn(&[u8])) -> usize {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        harness(&std::fs::read(&path).unwrap());
        n += 1;
    }
    n
}

#[test]
fn storage_sas_corpus() {
    assert!(replay("storage_sas", azlite_storage_auth::fuzzing::sas) >= 20);
}

#[test]
fn storage_shared_key_corpus() {
    assert!(
        replay(
            "storage_shared_key",
            azlite_storage_auth::fuzzing::shared_key
        ) >= 5
    );
}
