//! Blob containers through ARM (`Microsoft.Storage/storageAccounts/blobServices/containers`,
//! SPEC-STG 2023-05-01 `BlobContainers_*`): create, get, update, delete and list, as
//! azure-mgmt-storage and the portal use them (the service itself is in
//! [`super::blob_service`]).
//!
//! Containers live in the Blob metadata store ([`azlite_store::BlobStore`]), the same rows
//! the Blob data plane reads and writes: a container made here is served at once on the
//! account's blob endpoint, and one made there is listed here. A container deleted here
//! takes its blobs with it; ARM has no handle on content, so it signals
//! ([`Arm::content_freed`]) and the server's sweep removes the content once reads in
//! progress had their grace, as for a deleted account.
//!
//! RBAC as in Azure: `…/blobServices/containers/read|write|delete` at the container's id
//! (listing: `read` at the account's `blobServices/default`), checked before anything is
//! read; then the subscription, the group and the account must exist.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::http::{Method, StatusCode};
use axum::response::{IntoResponse, Response};
use azlite_store::{ContainerRecord, StoreError, StoredLease};
use azlite_types::ResourceId;
use serde::Deserialize;
use serde_json::{Value, json};

use super::STORAGE_ACCOUNTS as KIND;
use super::accounts::StoredAccount;
use crate::providers::{Request, TrackedResource};
use crate::resources::{self, require_group};
use crate::subscriptions::subscription_for;
use crate::wire::{body, json, timestamp};
use crate::{Arm, ArmError, Caller};

/// The ARM type of a container.
const CONTAINER_TYPE: &str = "Microsoft.Storage/storageAccounts/blobServices/containers";
/// How many containers the store is asked for at once while listing.
const PAGE: usize = 1000;

/// The action on containers for `verb`.
fn action(verb: &str) -> String {
    format!("{CONTAINER_TYPE}/{verb}")
}

/// The body of a PUT or PATCH (`BlobContainer`): only what azlite serves is read.
#[derive(Debug, Default, Deserialize)]
struct ContainerBody {
    properties: Option<ContainerProperties>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ContainerProperties {
    public_access: Option<String>,
    metadata: Option<BTreeMap<String, String>>,
}

/// `…/storageAccounts/{a}/blobServices/default`.
fn service_id(account: &ResourceId) -> Result<ResourceId, ArmError> {
    format!("{account}/blobServices/default")
        .parse()
        .map_err(|_| invalid_container_name())
}

/// `…/blobServices/default/containers/{name}`.
fn container_id(account: &ResourceId, name: &str) -> Result<ResourceId, ArmError> {
    format!("{account}/blobServices/default/containers/{name}")
        .parse()
        .map_err(|_| invalid_container_name())
}

/// Blob's container name rule: 3–63 lowercase letters, digits and single hyphens, starting
/// and ending with a letter or digit (`$root`, `$logs`, `$web` too).
fn valid_name(name: &str) -> bool {
    if matches!(name, "$root" | "$logs" | "$web") {
        return true;
    }
    (3..=63).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

fn invalid_container_name() -> ArmError {
    ArmError::bad_request(
        "ContainerOperationFailure",
        "The specified resource name contains invalid characters.",
    )
}

fn container_not_found() -> ArmError {
    ArmError::not_found(
        "ContainerNotFound",
        "The specified container does not exist.",
    )
}

/// Metadata names are C# identifiers (the data plane's `x-ms-meta-<name>` rule).
fn verify_metadata(metadata: BTreeMap<String, String>) -> Result<Vec<(String, String)>, ArmError> {
    let valid = |name: &str| {
        let mut bytes = name.bytes();
        bytes
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_')
            && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
    };
    metadata
        .into_iter()
        .map(|(name, value)| {
            if valid(&name) && value.bytes().all(|b| (0x20..0x7f).contains(&b)) {
                Ok((name, value))
            } else {
                Err(ArmError::bad_request(
                    "InvalidMetadata",
                    "The metadata specified is invalid. It has characters that are not permitted.",
                ))
            }
        })
        .collect()
}

/// `publicAccess` as the store keeps it (`None` is no public access). `Container` and
/// `Blob` need the account's `allowBlobPublicAccess`, as on the data plane.
fn verify_public_access(sent: &str, account: &StoredAccount) -> Result<Option<String>, ArmError> {
    let level = match sent.to_ascii_lowercase().as_str() {
        "none" => return Ok(None),
        "container" => "container",
        "blob" => "blob",
        _ => {
            return Err(ArmError::bad_request(
                "InvalidRequestPropertyValue",
                format!("The value '{sent}' is not allowed for property publicAccess."),
            ));
        }
    };
    if !account.properties.allow_blob_public_access {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "PublicAccessNotPermitted",
            "Public access is not permitted on this storage account.",
        ));
    }
    Ok(Some(level.to_owned()))
}

/// Now in milliseconds: ARM's clock for the seconds, the system's for the milliseconds.
fn now_ms(arm: &Arm) -> i64 {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::from(d.subsec_millis()));
    arm.clock.now() * 1000 + millis
}

/// The last ETag tick handed out here (ETags made here never repeat within a process).
static LAST_ETAG: AtomicU64 = AtomicU64::new(0);

/// A new ETag, in Blob's `"0x…"` form: 100 ns ticks since 1601, made unique per process as
/// the data plane makes its own.
fn new_etag(now_ms: i64) -> String {
    const TICKS_1601_TO_1970: u64 = 116_444_736_000_000_000;
    let ticks = TICKS_1601_TO_1970 + u64::try_from(now_ms).unwrap_or_default() * 10_000;
    let previous = LAST_ETAG.fetch_max(ticks, Ordering::Relaxed);
    let next = if previous >= ticks {
        LAST_ETAG.fetch_add(1, Ordering::Relaxed) + 1
    } else {
        ticks
    };
    format!("\"0x{next:X}\"")
}

/// `leaseStatus`, `leaseState` and `leaseDuration` of a container's lease at `now_ms`.
fn lease_json(lease: Option<&StoredLease>, now_ms: i64) -> (Value, Value, Option<Value>) {
    let Some(lease) = lease else {
        return (json!("Unlocked"), json!("Available"), None);
    };
    let duration = if lease.duration < 0 {
        "Infinite"
    } else {
        "Fixed"
    };
    match (lease.break_at, lease.expires_at) {
        (Some(at), _) if at <= now_ms => (json!("Unlocked"), json!("Broken"), None),
        (Some(_), _) => (json!("Locked"), json!("Breaking"), None),
        (None, Some(at)) if at <= now_ms => (json!("Unlocked"), json!("Expired"), None),
        _ => (json!("Locked"), json!("Leased"), Some(json!(duration))),
    }
}

/// Whether a lease holds the container (so it cannot be deleted without its id).
fn leased(lease: Option<&StoredLease>, now_ms: i64) -> bool {
    lease_json(lease, now_ms).0 == json!("Locked")
}

/// The wire form of a container (`BlobContainer` / `ListContainerItem`).
fn container_json(account: &ResourceId, record: &ContainerRecord, now_ms: i64) -> Value {
    let (status, state, duration) = lease_json(record.lease.as_ref(), now_ms);
    let public_access = match record.public_access.as_deref() {
        Some("container") => "Container",
        Some("blob") => "Blob",
        _ => "None",
    };
    let metadata: serde_json::Map<String, Value> = record
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), json!(v)))
        .collect();
    let mut properties = json!({
        "publicAccess": public_access,
        "leaseStatus": status,
        "leaseState": state,
        "lastModifiedTime": timestamp(record.last_modified.div_euclid(1000)),
        "hasImmutabilityPolicy": false,
        "hasLegalHold": false,
        "deleted": false,
        "remainingRetentionDays": 0,
        "defaultEncryptionScope": "$account-encryption-key",
        "denyEncryptionScopeOverride": false,
        "metadata": metadata,
    });
    if let Some(duration) = duration {
        properties["leaseDuration"] = duration;
    }
    json!({
        "id": format!("{account}/blobServices/default/containers/{}", record.name),
        "name": record.name,
        "type": CONTAINER_TYPE,
        "etag": record.etag,
        "properties": properties,
    })
}

/// The preamble of every call: the action at `scope`, then the subscription, the group
/// and the account (404 `ResourceNotFound` for the account, as ARM words it).
pub(crate) async fn preamble(
    arm: &Arm,
    caller: &Caller,
    account: &TrackedResource,
    scope: &ResourceId,
    action: &str,
) -> Result<StoredAccount, ArmError> {
    let _authorized = arm.authorize(caller, scope, action)?;
    subscription_for(arm, caller, account.subscription).await?;
    require_group(arm, account).await?;
    let found = arm
        .store
        .get_resource(&account.id)
        .await?
        .ok_or_else(|| resources::not_found(KIND, account))?;
    StoredAccount::of(&found)
}

/// `GET …/storageAccounts/{a}/blobServices/default/containers` (`BlobContainers_List`):
/// every container, or with `$maxpagesize` pages of that many joined by `nextLink`
/// (`$skipToken` is the last name of the page before); `$filter` is a name prefix, and
/// `$include=deleted` adds nothing (azlite keeps no deleted containers).
pub(crate) async fn list(
    arm: &Arm,
    request: &Request<'_>,
    account: &TrackedResource,
) -> Result<Response, ArmError> {
    let (caller, query) = (request.caller, request.query);
    let scope = service_id(&account.id)?;
    preamble(arm, caller, account, &scope, &action("read")).await?;
    let page_size = match query.get("$maxpagesize") {
        None => None,
        Some(sent) => match sent.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE_SIZE).contains(&n) => Some(n),
            _ => return Err(invalid_query("$maxpagesize", sent)),
        },
    };
    if let Some(include) = query.get("$include")
        && !include.eq_ignore_ascii_case("deleted")
    {
        return Err(invalid_query("$include", include));
    }
    let prefix = query.get("$filter").unwrap_or_default();
    let now = now_ms(arm);
    let mut value = Vec::new();
    let mut after = query.skip_token.clone();
    let wanted = page_size.unwrap_or(usize::MAX);
    while value.len() < wanted {
        // One more than the page asks, to know whether a next page exists.
        let ask = (wanted - value.len()).saturating_add(1).min(PAGE);
        let page = arm
            .store
            .list_containers(&account.id, prefix, after.as_deref(), ask)
            .await?;
        let full = page.len() == ask;
        for container in page.iter().take(wanted - value.len()) {
            value.push(container_json(&account.id, container, now));
            after = Some(container.name.clone());
        }
        if !full {
            after = None;
            break;
        }
    }
    let mut body = json!({ "value": value });
    if let (Some(_), Some(last)) = (page_size, after) {
        body["nextLink"] = json!(request.next_link(&last));
    }
    Ok(json(StatusCode::OK, body))
}

/// The largest `$maxpagesize` (the data plane's largest `maxresults`).
const MAX_PAGE_SIZE: usize = 5000;

fn invalid_query(name: &str, value: &str) -> ArmError {
    ArmError::bad_request(
        "InvalidQueryParameterValue",
        format!(
            "Value for one of the query parameters specified in the request URI is invalid: {name}={value}."
        ),
    )
}

/// `GET|PUT|PATCH|DELETE …/blobServices/default/containers/{name}`.
pub(crate) async fn one(
    arm: &Arm,
    caller: &Caller,
    method: &Method,
    account: &TrackedResource,
    name: &str,
    request: &[u8],
) -> Result<Response, ArmError> {
    let id = container_id(&account.id, name)?;
    let verb = match *method {
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        _ => "read",
    };
    let stored = preamble(arm, caller, account, &id, &action(verb)).await?;
    if !valid_name(name) {
        return Err(invalid_container_name());
    }
    let now = now_ms(arm);
    let existing = arm.store.get_container(&account.id, name).await?;
    match *method {
        Method::GET => {
            let found = existing.ok_or_else(container_not_found)?;
            Ok(json(
                StatusCode::OK,
                container_json(&account.id, &found, now),
            ))
        }
        Method::PUT => create(arm, account, name, &stored, existing, request, now).await,
        Method::PATCH => {
            let found = existing.ok_or_else(container_not_found)?;
            update(arm, account, &stored, found, request, now).await
        }
        _ => delete(arm, account, existing, now).await,
    }
}

fn sent(request: &[u8]) -> Result<ContainerProperties, ArmError> {
    if request.iter().all(u8::is_ascii_whitespace) {
        return Ok(ContainerProperties::default());
    }
    let sent: ContainerBody = body(request)?;
    Ok(sent.properties.unwrap_or_default())
}

async fn create(
    arm: &Arm,
    account: &TrackedResource,
    name: &str,
    stored: &StoredAccount,
    existing: Option<ContainerRecord>,
    request: &[u8],
    now: i64,
) -> Result<Response, ArmError> {
    let sent = sent(request)?;
    let public_access = match sent.public_access.as_deref() {
        Some(level) => verify_public_access(level, stored)?,
        None => None,
    };
    let metadata = verify_metadata(sent.metadata.unwrap_or_default())?;
    if existing.is_some() {
        return Err(already_exists());
    }
    let record = ContainerRecord {
        account: account.id.clone(),
        name: name.to_owned(),
        metadata,
        public_access,
        etag: new_etag(now),
        created_at: now,
        last_modified: now,
        lease: None,
        generation: 0,
    };
    match arm.store.create_container(&record).await {
        Ok(()) => Ok(json(
            StatusCode::CREATED,
            container_json(&account.id, &record, now),
        )),
        Err(StoreError::Conflict(_)) => Err(already_exists()),
        Err(other) => Err(other.into()),
    }
}

fn already_exists() -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "ContainerAlreadyExists",
        "The specified container already exists.",
    )
}

/// PATCH (`BlobContainers_Update`): what the body sends replaces what is stored.
async fn update(
    arm: &Arm,
    account: &TrackedResource,
    stored: &StoredAccount,
    mut found: ContainerRecord,
    request: &[u8],
    now: i64,
) -> Result<Response, ArmError> {
    let sent = sent(request)?;
    if let Some(level) = sent.public_access.as_deref() {
        found.public_access = verify_public_access(level, stored)?;
    }
    if let Some(metadata) = sent.metadata {
        found.metadata = verify_metadata(metadata)?;
    }
    let generation = found.generation;
    found.etag = new_etag(now);
    found.last_modified = now;
    match arm.store.update_container(&found, generation).await {
        Ok(()) => Ok(json(
            StatusCode::OK,
            container_json(&account.id, &found, now),
        )),
        Err(StoreError::Changed(_)) => Err(changed()),
        Err(other) => Err(other.into()),
    }
}

fn changed() -> ArmError {
    ArmError::new(
        StatusCode::CONFLICT,
        "OperationConflict",
        "The container was changed by another request; try again.",
    )
}

/// DELETE (`BlobContainers_Delete`): 200, or 204 when there is no such container. A
/// leased container is refused, as the data plane refuses a delete without the lease id.
async fn delete(
    arm: &Arm,
    account: &TrackedResource,
    existing: Option<ContainerRecord>,
    now: i64,
) -> Result<Response, ArmError> {
    let Some(found) = existing else {
        return Ok(StatusCode::NO_CONTENT.into_response());
    };
    if leased(found.lease.as_ref(), now) {
        return Err(ArmError::new(
            StatusCode::CONFLICT,
            "LeaseIdMissing",
            "There is currently a lease on the container and no lease ID was specified in the request.",
        ));
    }
    match arm
        .store
        .delete_container(&account.id, &found.name, found.generation)
        .await
    {
        Ok(_freed) => {
            // Blobs that another request is still reading keep their extents until the
            // server's sweep, after the read grace.
            arm.signal_content_freed();
            Ok(StatusCode::OK.into_response())
        }
        Err(StoreError::Changed(_)) => Err(changed()),
        Err(other) => Err(other.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn container_names_follow_blobs_rule() {
        for good in ["abc", "a-b-c", "0container", "$root", &"a".repeat(63)] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["ab", "Abc", "a--b", "-ab", "ab-", "a_b", &"a".repeat(64)] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    #[test]
    fn metadata_names_are_identifiers() {
        let ok = BTreeMap::from([("Env_1".to_owned(), "x".to_owned())]);
        assert_eq!(verify_metadata(ok).unwrap().len(), 1);
        for bad in ["1a", "a-b", ""] {
            let sent = BTreeMap::from([(bad.to_owned(), "x".to_owned())]);
            assert_eq!(verify_metadata(sent).unwrap_err().code, "InvalidMetadata");
        }
    }

    #[test]
    fn leases_read_as_arm_shows_them() {
        let lease = |expires_at, break_at| StoredLease {
            lease_id: "l".into(),
            duration: -1,
            expires_at,
            break_at,
        };
        assert_eq!(lease_json(None, 10).1, json!("Available"));
        let held = lease(None, None);
        assert_eq!(
            lease_json(Some(&held), 10),
            (json!("Locked"), json!("Leased"), Some(json!("Infinite")))
        );
        assert!(leased(Some(&held), 10));
        assert_eq!(
            lease_json(Some(&lease(Some(5), None)), 10).1,
            json!("Expired")
        );
        assert_eq!(
            lease_json(Some(&lease(None, Some(20))), 10).1,
            json!("Breaking")
        );
        assert_eq!(
            lease_json(Some(&lease(None, Some(5))), 10).1,
            json!("Broken")
        );
        assert!(!leased(Some(&lease(None, Some(5))), 10));
    }

    #[test]
    fn etags_are_blobs_shape_and_differ() {
        let a = new_etag(1_700_000_000_000);
        let b = new_etag(1_700_000_000_000);
        assert!(a.starts_with("\"0x") && a.ends_with('"'));
        assert_ne!(a, b);
    }
}
