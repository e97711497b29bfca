//! WebHDFS's JSON shapes as Gen1 answers them (reference §4.2, recorded traffic): the
//! response types, never the stored rows.

use serde::Serialize;
use serde_json::{Value, json};

use azlite_posix_acl::spec::print_spec;

use crate::tree::Entry;
use crate::tree::read::{ContentSummary, Listing};

/// Gen1's block size for files (256 MiB).
const FILE_BLOCK_SIZE: u64 = 268_435_456;

/// One `FileStatus`, named `suffix` (the child's name in a listing, `""` otherwise).
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FileStatus {
    length: u64,
    path_suffix: String,
    #[serde(rename = "type")]
    kind: &'static str,
    block_size: u64,
    access_time: i64,
    modification_time: i64,
    replication: u32,
    permission: String,
    owner: String,
    group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    ms_expiration_time: Option<i64>,
    acl_bit: bool,
}

impl FileStatus {
    /// The status of `entry`.
    pub fn of(entry: &Entry, suffix: &str) -> FileStatus {
        let is_dir = entry.is_dir();
        FileStatus {
            length: if is_dir { 0 } else { entry.item.length },
            path_suffix: suffix.to_owned(),
            kind: if is_dir { "DIRECTORY" } else { "FILE" },
            block_size: if is_dir { 0 } else { FILE_BLOCK_SIZE },
            access_time: entry.item.access_time_ms,
            modification_time: entry.item.modification_time_ms,
            replication: u32::from(!is_dir),
            permission: entry.acl.mode().to_string(),
            owner: entry.acl.owner.clone(),
            group: entry.acl.group.clone(),
            ms_expiration_time: (!is_dir).then_some(0),
            acl_bit: entry.acl.acl_bit(),
        }
    }
}

/// `{"FileStatus":{…}}`.
pub fn file_status(entry: &Entry) -> Value {
    json!({ "FileStatus": FileStatus::of(entry, "") })
}

/// `{"FileStatuses":{"FileStatus":[…],"continuationToken":"…"}}`: the token is always
/// there, `""` on the last page (the Python client reads it unconditionally).
pub fn file_statuses(listing: &Listing) -> Value {
    let statuses: Vec<FileStatus> = listing
        .entries
        .iter()
        .map(|e| FileStatus::of(e, if listing.of_file { "" } else { e.item.name() }))
        .collect();
    json!({
        "FileStatuses": {
            "FileStatus": statuses,
            "continuationToken": listing.continuation.clone().unwrap_or_default(),
        }
    })
}

/// `{"ContentSummary":{…}}`.
pub fn content_summary(summary: &ContentSummary) -> Value {
    json!({
        "ContentSummary": {
            "directoryCount": summary.directory_count,
            "fileCount": summary.file_count,
            "length": summary.length,
            "quota": -1,
            "spaceConsumed": summary.length,
            "spaceQuota": -1,
        }
    })
}

/// `{"AclStatus":{…}}`: every entry, base entries included, as Gen1 lists them.
pub fn acl_status(entry: &Entry) -> Value {
    let entries: Vec<String> = print_spec(&entry.acl.entries())
        .split(',')
        .map(str::to_owned)
        .collect();
    json!({
        "AclStatus": {
            "entries": entries,
            "owner": entry.acl.owner,
            "group": entry.acl.group,
            "permission": entry.acl.mode().to_string(),
            "stickyBit": entry.acl.sticky,
        }
    })
}

/// `{"boolean":…}`.
pub fn boolean(value: bool) -> Value {
    json!({ "boolean": value })
}
