//! The durability contract under `kill -9`: every write whose future returned `Ok` survives,
//! the file stays consistent, and at most the one write in flight may land unacknowledged.
//!
//! The test re-executes its own binary as the writer: `child_writer` (ignored, and inert
//! unless [`CHILD_DIR`] is set) opens a store and commits batches in a loop, printing one line
//! per acknowledged batch. The parent reads those lines, waits a random moment after a random
//! number of them, sends SIGKILL, then reopens the store and checks it.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use azlite_store::{
    ArmStore, DirectoryStore, PasswordCredential, ResourceGroup, ServicePrincipal,
    ServicePrincipalKind, SettingsStore, SqliteStore, WriteBatch,
};
use azlite_types::{ClientId, ObjectId, SubscriptionId, TenantId};
use uuid::Uuid;

/// Set in the child's environment: the directory of the store to write.
const CHILD_DIR: &str = "AZLITE_STORE_CRASH_CHILD_DIR";
/// Set in the child's environment: the tenant the child writes its principals into.
const CHILD_TENANT: &str = "AZLITE_STORE_CRASH_CHILD_TENANT";
/// The setting every batch bumps to its sequence number.
const LAST_SETTING: &str = "crash/last";
/// The resource group every batch upserts, `updated_at` set to its sequence number (each
/// batch also inserts a group of its own, `rg-{sequence}`).
const SHARED_GROUP: &str = "shared";

const ROUNDS: usize = 3;

/// One acknowledged batch, as the child reported it: `acked <sequence> <object id> <app id>`.
struct Ack {
    sequence: u64,
    object_id: ObjectId,
    app_id: ClientId,
}

/// Parses the child's `acked ...` line. libtest prints `test child_writer ... ` without a
/// newline before the test runs, so the first ack shares its line.
fn parse_ack(line: &str) -> Option<Ack> {
    let (_, ack) = line.split_once("acked ")?;
    let mut fields = ack.split_whitespace();
    Some(Ack {
        sequence: fields.next()?.parse().ok()?,
        object_id: fields.next()?.parse().ok()?,
        app_id: fields.next()?.parse().ok()?,
    })
}

/// The subscription the child writes its resource groups into: the tenant's GUID.
fn subscription_of(tenant: TenantId) -> SubscriptionId {
    SubscriptionId::from_uuid(*tenant.as_uuid())
}

fn group(tenant: TenantId, name: String, created_at: i64, updated_at: i64) -> ResourceGroup {
    ResourceGroup {
        subscription_id: subscription_of(tenant),
        name,
        location: "eastus".to_owned(),
        tags: Default::default(),
        managed_by: None,
        created_at,
        updated_at,
    }
}

/// A random number below `bound`, from the OS generator behind `Uuid::new_v4`.
fn random_below(bound: u64) -> u64 {
    (Uuid::new_v4().as_u128() % u128::from(bound)) as u64
}

#[tokio::test]
#[ignore = "the writer half of acknowledged_writes_survive_sigkill; only runs as its child"]
async fn child_writer() {
    let (Ok(dir), Ok(tenant)) = (std::env::var(CHILD_DIR), std::env::var(CHILD_TENANT)) else {
        return;
    };
    let tenant: TenantId = tenant.parse().expect("tenant id");
    let store = SqliteStore::open(&Path::new(&dir).join("azlite.db"))
        .await
        .expect("open");
    // Straight to the file descriptor, not through libtest's capture; one write per line.
    let mut stdout = std::io::stdout().lock();
    for sequence in 0u64.. {
        let app_id = ClientId::new_random();
        let principal = ServicePrincipal {
            object_id: ObjectId::new_random(),
            app_id,
            tenant_id: tenant,
            display_name: format!("crash-{sequence}"),
            kind: ServicePrincipalKind::Application,
            managed_identity_resource_id: None,
            created_at: sequence as i64,
        };
        let credential = PasswordCredential {
            key_id: Uuid::new_v4(),
            app_id,
            display_name: "secret".to_owned(),
            hint: "abc".to_owned(),
            salt: vec![7; 16],
            secret_hash: vec![sequence as u8; 32],
            start: 0,
            end: 1,
        };
        let object_id = principal.object_id;
        let batch = WriteBatch {
            service_principals: vec![principal],
            password_credentials: vec![credential],
            settings: vec![(LAST_SETTING.to_owned(), sequence.to_string())],
            resource_groups: vec![
                group(
                    tenant,
                    format!("rg-{sequence}"),
                    sequence as i64,
                    sequence as i64,
                ),
                group(
                    tenant,
                    SHARED_GROUP.to_owned(),
                    sequence as i64,
                    sequence as i64,
                ),
            ],
            ..WriteBatch::default()
        };
        store.apply(batch).await.expect("apply");
        // Acknowledged: the future returned Ok.
        writeln!(stdout, "acked {sequence} {object_id} {app_id}").expect("stdout");
        stdout.flush().expect("stdout");
    }
}

#[test]
fn acknowledged_writes_survive_sigkill() {
    let started = Instant::now();
    for round in 0..ROUNDS {
        kill_a_writer_and_check(round);
    }
    eprintln!("{ROUNDS} crash rounds in {:?}", started.elapsed());
}

fn kill_a_writer_and_check(round: usize) {
    let dir = tempfile::tempdir().expect("temporary directory");
    let tenant = TenantId::new_random();
    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "child_writer",
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD_DIR, dir.path())
        .env(CHILD_TENANT, tenant.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the writer");
    let mut lines = BufReader::new(child.stdout.take().expect("piped stdout"));

    let target = 100 + random_below(200) as usize;
    let mut acks = Vec::new();
    let mut line = String::new();
    while acks.len() < target {
        line.clear();
        if lines
            .read_line(&mut line)
            .expect("read the writer's output")
            == 0
        {
            panic!("round {round}: the writer exited early: {:?}", child.wait());
        }
        acks.extend(parse_ack(&line));
    }
    // A random moment, unrelated to where the writer is in its loop: mid-transaction,
    // mid-fsync or mid-print.
    std::thread::sleep(Duration::from_micros(random_below(3_000)));
    child.kill().expect("SIGKILL the writer");
    child.wait().expect("reap the writer");
    // Lines already in the pipe were acknowledged before the kill; a torn last line was not.
    loop {
        line.clear();
        if lines
            .read_line(&mut line)
            .expect("read the writer's output")
            == 0
        {
            break;
        }
        if line.ends_with('\n') {
            acks.extend(parse_ack(&line));
        }
    }
    for (expected, ack) in acks.iter().enumerate() {
        assert_eq!(
            ack.sequence, expected as u64,
            "round {round}: acks arrive in order"
        );
    }

    let path = dir.path().join("azlite.db");
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let stored_count = runtime.block_on(async {
        let store = SqliteStore::open(&path)
            .await
            .expect("the store opens after a crash");
        let stored = store.list_service_principals(tenant).await.expect("list");
        let stored_ids: HashSet<ObjectId> = stored.iter().map(|sp| sp.object_id).collect();
        for ack in &acks {
            assert!(
                stored_ids.contains(&ack.object_id),
                "round {round}: acknowledged write {} lost",
                ack.sequence
            );
        }
        let last = acks.last().expect("at least one ack");
        let credentials = store
            .list_password_credentials(last.app_id)
            .await
            .expect("list");
        assert_eq!(
            credentials.len(),
            1,
            "round {round}: the batch's credential is there too"
        );
        assert!(
            stored.len() <= acks.len() + 1,
            "round {round}: {} stored, only {} acknowledged",
            stored.len(),
            acks.len()
        );
        let setting = store.get_setting(LAST_SETTING).await.expect("get_setting");
        let setting: u64 = setting.expect("set").parse().expect("a number");
        assert!(
            setting == last.sequence || setting == last.sequence + 1,
            "round {round}: the setting ({setting}) moved with its batches ({})",
            last.sequence
        );
        assert_eq!(
            stored.len() as u64,
            setting + 1,
            "round {round}: batches are atomic"
        );
        let groups = store
            .list_resource_groups(subscription_of(tenant))
            .await
            .expect("list groups");
        assert_eq!(
            groups.len(),
            stored.len() + 1,
            "round {round}: one group per batch, plus the shared one"
        );
        for ack in &acks {
            let name = format!("rg-{}", ack.sequence);
            assert!(
                groups.iter().any(|g| g.name == name),
                "round {round}: acknowledged group {name} lost"
            );
        }
        let shared = groups
            .iter()
            .find(|g| g.name == SHARED_GROUP)
            .expect("the shared group");
        assert_eq!(
            (shared.created_at, shared.updated_at as u64),
            (0, setting),
            "round {round}: the upserted group moved with its batches and kept created_at"
        );
        stored.len()
    });

    let conn = rusqlite::Connection::open(&path).expect("open for the integrity check");
    let integrity: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(integrity, "ok", "round {round}");
    eprintln!(
        "round {round}: killed after {} acknowledged writes; {stored_count} stored",
        acks.len()
    );
}
