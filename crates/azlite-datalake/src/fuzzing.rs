//! Harness for the fuzz target `webhdfs_request` (`fuzz/` at the repository root), kept
//! here so that the crate's tests replay the committed corpus on every run. It takes
//! arbitrary bytes, must never panic, and asserts what holds for any input.

use axum::http::Method;

use crate::path;
use crate::webhdfs::operation::{self, Params};

/// Input: line 1 the method, line 2 the request path, line 3 the query. A path that is
/// accepted is absolute and normal: no empty, `.` or `..` segment and no control
/// character, and normalizing it again changes nothing. Its ancestors are proper prefixes.
/// The operation parser answers (an operation or an error) for any query.
pub fn request(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.split('\n');
    let Ok(method) = Method::from_bytes(lines.next().unwrap_or("GET").as_bytes()) else {
        return;
    };
    let request_path = lines.next().unwrap_or("/webhdfs/v1/");
    let query = lines.next();
    if let Some(Ok(tree_path)) = path::from_request(request_path) {
        assert!(tree_path.starts_with('/'));
        if tree_path != "/" {
            for segment in tree_path[1..].split('/') {
                assert!(!matches!(segment, "" | "." | ".."), "{tree_path:?}");
                assert!(!segment.chars().any(char::is_control), "{tree_path:?}");
            }
        }
        assert_eq!(
            path::normalize(&tree_path).as_deref(),
            Ok(tree_path.as_str())
        );
        for ancestor in path::ancestors(&tree_path) {
            assert!(ancestor == "/" || tree_path.starts_with(&format!("{ancestor}/")));
        }
    }
    let _ = operation::parse(&method, &Params::parse(query));
}
