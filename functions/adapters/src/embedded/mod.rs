//! The embedded store: SQLite (bundled, WAL, busy timeout) implementing every port.
//!
//! Rows keep the item as JSON (`doc`) beside the columns queries need, the same shape the
//! DynamoDB adapter uses (key attributes plus the serialised item). Conditional writes
//! run inside `BEGIN IMMEDIATE` transactions, so they hold across processes too (the local
//! server and `cargo run -- job ...` share one database).

mod blobs;
mod files;
mod notifications;
mod sessions;
mod tasks;
mod users;

pub use blobs::{BLOB_PATH, BlobRefusal, LocalBlobs, VerifiedGet};

use std::fs;
use std::io::Write as _;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension as _, TransactionBehavior};
use serde::{Serialize, de::DeserializeOwned};
use todo_domain::auth::Secret;
use todo_domain::ports::{Batch, Page, StoreError, StoreResult};

const DATABASE_FILE: &str = "todo.sqlite3";
const SECRET_FILE: &str = "token-secret";

/// Schema migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    r"
    CREATE TABLE users (
        id TEXT PRIMARY KEY,
        email TEXT NOT NULL UNIQUE,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    ) STRICT;
    CREATE TABLE sessions (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        generation INTEGER NOT NULL,
        doc TEXT NOT NULL
    ) STRICT;
    CREATE INDEX sessions_by_user ON sessions (user_id);
    CREATE TABLE tasks (
        owner TEXT NOT NULL,
        id TEXT NOT NULL,
        version INTEGER NOT NULL,
        completed INTEGER NOT NULL,
        due_ms INTEGER,
        doc TEXT NOT NULL,
        PRIMARY KEY (owner, id)
    ) STRICT, WITHOUT ROWID;
    CREATE TABLE idempotency (
        owner TEXT NOT NULL,
        key TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (owner, key)
    ) STRICT, WITHOUT ROWID;
",
    r"
    CREATE TABLE files (
        owner TEXT NOT NULL,
        task_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (owner, task_id, id)
    ) STRICT, WITHOUT ROWID;
",
    r"
    CREATE TABLE pending_deletions (
        user_id TEXT PRIMARY KEY,
        deleted_ms INTEGER NOT NULL
    ) STRICT;
",
    // The due-alarm index (a task's next pending alarm; tasks written before this schema
    // had none notified yet, so it is their earliest reminder or due date while open), the
    // pending-upload index, and the notifications feed.
    r"
    ALTER TABLE tasks ADD COLUMN alarm_ms INTEGER;
    UPDATE tasks SET alarm_ms = (
        SELECT min(ms) FROM (
            SELECT CAST(round(unixepoch(json_extract(tasks.doc, '$.reminder_at'), 'subsec') * 1000) AS INTEGER) AS ms
            UNION ALL
            SELECT CAST(round(unixepoch(json_extract(tasks.doc, '$.due'), 'subsec') * 1000) AS INTEGER)
        )
    ) WHERE completed = 0;
    CREATE INDEX tasks_by_alarm ON tasks (alarm_ms) WHERE alarm_ms IS NOT NULL;
    ALTER TABLE files ADD COLUMN pending_until_ms INTEGER;
    UPDATE files SET pending_until_ms = CAST(round(unixepoch(json_extract(doc, '$.upload_expires_at'), 'subsec') * 1000) AS INTEGER)
        WHERE status = 'pending';
    CREATE INDEX files_pending ON files (pending_until_ms) WHERE pending_until_ms IS NOT NULL;
    CREATE TABLE notifications (
        owner TEXT NOT NULL,
        id TEXT NOT NULL,
        read INTEGER NOT NULL,
        expires_ms INTEGER NOT NULL,
        doc TEXT NOT NULL,
        PRIMARY KEY (owner, id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX notifications_by_expiry ON notifications (expires_ms);
",
];

#[derive(Clone)]
pub struct EmbeddedStore {
    connection: Arc<Mutex<Connection>>,
}

impl std::fmt::Debug for EmbeddedStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EmbeddedStore")
    }
}

impl EmbeddedStore {
    /// Opens (creating if needed) the database in `dir` and brings its schema up to date.
    pub fn open(dir: &Path) -> anyhow::Result<Self> {
        fs::create_dir_all(dir).map_err(|e| anyhow::anyhow!("cannot create data dir {}: {e}", dir.display()))?;
        let mut connection = Connection::open(dir.join(DATABASE_FILE))?;
        connection.busy_timeout(Duration::from_secs(10))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "NORMAL")?;
        migrate(&mut connection)?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)) })
    }

    /// Runs `work` in an immediate transaction on the blocking pool; commits if it
    /// returns `Ok`, rolls back otherwise.
    async fn transaction<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Transaction<'_>) -> StoreResult<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let mut connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let transaction = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(backend)?;
            let result = work(&transaction)?;
            transaction.commit().map_err(backend)?;
            Ok(result)
        })
        .await
        .map_err(StoreError::backend)?
    }

    /// Runs a read on the blocking pool.
    async fn read<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&connection).map_err(backend)
        })
        .await
        .map_err(StoreError::backend)?
    }
}

fn migrate(connection: &mut Connection) -> anyhow::Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let applied: usize = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        anyhow::bail!("the data dir was written by a newer version (schema {applied}, this build knows {})", MIGRATIONS.len());
    }
    for migration in &MIGRATIONS[applied..] {
        transaction.execute_batch(migration)?;
    }
    transaction.pragma_update(None, "user_version", MIGRATIONS.len())?;
    transaction.commit()?;
    Ok(())
}

fn backend(error: rusqlite::Error) -> StoreError {
    StoreError::backend(error)
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(error, rusqlite::Error::SqliteFailure(failure, _) if failure.code == ErrorCode::ConstraintViolation)
}

/// A page from up to `limit + 1` documents read in key order: the extra one, if any, only
/// says that another page follows (resumed after the last item kept).
fn page_of<T: DeserializeOwned, K>(docs: &[String], limit: u32, key: impl Fn(&T) -> K) -> StoreResult<Page<T, K>> {
    let mut items = docs.iter().map(|doc| from_doc::<T>(doc)).collect::<StoreResult<Vec<_>>>()?;
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if has_more { items.last().map(key) } else { None };
    Ok(Page { items, next })
}

/// A job's batch from up to `limit + 1` rows: the extra one, if any, only says more is due.
fn batch_of<R, T>(rows: Vec<R>, limit: u32, parse: impl Fn(R) -> StoreResult<T>) -> StoreResult<Batch<T>> {
    let more = rows.len() > limit as usize;
    let items = rows.into_iter().take(limit as usize).map(parse).collect::<StoreResult<Vec<_>>>()?;
    Ok(Batch { items, more })
}

/// Parses an id read from a key column (only ever written from a valid id).
fn stored_id<T>(raw: &str, parse: fn(&str) -> Result<T, String>) -> StoreResult<T> {
    parse(raw).map_err(|problem| StoreError::backend(anyhow::anyhow!("stored id {raw:?} {problem}")))
}

fn to_doc<T: Serialize>(item: &T) -> StoreResult<String> {
    serde_json::to_string(item).map_err(StoreError::backend)
}

fn from_doc<T: DeserializeOwned>(doc: &str) -> StoreResult<T> {
    serde_json::from_str(doc).map_err(StoreError::backend)
}

/// Reads one `doc` column and deserialises it.
fn query_doc<T: DeserializeOwned>(transaction: &Connection, sql: &str, params: impl rusqlite::Params) -> StoreResult<Option<T>> {
    let doc: Option<String> = transaction.query_row(sql, params, |row| row.get(0)).optional().map_err(backend)?;
    doc.as_deref().map(from_doc).transpose()
}

/// The signing secret kept in the data dir, created (0600) on first use.
pub fn load_or_create_secret(dir: &Path) -> anyhow::Result<Secret> {
    fs::create_dir_all(dir)?;
    let path = dir.join(SECRET_FILE);
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(&path) {
        Ok(mut file) => {
            let bytes: [u8; 32] = rand::random();
            file.write_all(todo_domain::auth::hex(&bytes).as_bytes())?;
            file.sync_all()?;
        }
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(anyhow::anyhow!("cannot create {}: {error}", path.display())),
    }
    let encoded = fs::read_to_string(&path)?;
    Secret::new(encoded.trim().as_bytes().to_vec()).map_err(|problem| anyhow::anyhow!("{} {problem}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use todo_domain::model::{NewTask, Tags, Task, TaskId, Timestamp, Title, UserId};

    /// A data dir written before the due-alarm index existed: opening it indexes its open
    /// tasks at their earliest alarm, leaves completed ones out, and keeps every row.
    #[test]
    fn upgrading_an_older_data_dir_indexes_existing_alarms() {
        fn at(raw: &str) -> Timestamp {
            Timestamp::parse(raw).unwrap()
        }
        let dir = tempfile::tempdir().unwrap();
        let task = |reminder: Option<&str>, due: Option<&str>| {
            let new = NewTask {
                title: Title::parse("from an older version").unwrap(),
                notes: None,
                due: due.map(at),
                priority: None,
                tags: Tags::default(),
                recurrence: None,
                reminder_at: reminder.map(at),
            };
            Task::create(TaskId::generate(), UserId::generate(), new, at("2026-01-01T00:00:00Z")).unwrap()
        };
        let both = task(Some("2026-03-01T08:00:00.250Z"), Some("2026-03-02T09:00:00Z"));
        let due_only = task(None, Some("2026-03-02T09:00:00Z"));
        let neither = task(None, None);
        let mut completed = task(Some("2026-03-01T08:00:00Z"), None);
        completed.completion = todo_domain::model::Completion::Completed(at("2026-02-01T00:00:00Z"));
        {
            let mut old = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            let transaction = old.transaction().unwrap();
            for migration in &MIGRATIONS[..3] {
                transaction.execute_batch(migration).unwrap();
            }
            for task in [&both, &due_only, &neither, &completed] {
                transaction
                    .execute(
                        "INSERT INTO tasks (owner, id, version, completed, due_ms, doc) VALUES (?1, ?2, 1, ?3, NULL, ?4)",
                        rusqlite::params![
                            task.owner.to_string(),
                            task.id.to_string(),
                            task.completion.is_completed(),
                            serde_json::to_string(task).unwrap()
                        ],
                    )
                    .unwrap();
            }
            transaction.pragma_update(None, "user_version", 3).unwrap();
            transaction.commit().unwrap();
        }
        drop(EmbeddedStore::open(dir.path()).unwrap());
        let upgraded = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
        let alarm = |task: &Task| -> Option<i64> {
            upgraded.query_row("SELECT alarm_ms FROM tasks WHERE id = ?1", [task.id.to_string()], |row| row.get(0)).unwrap()
        };
        assert_eq!(alarm(&both), Some(at("2026-03-01T08:00:00.250Z").unix_millis()), "the earlier of the two, to the millisecond");
        assert_eq!(alarm(&due_only), Some(at("2026-03-02T09:00:00Z").unix_millis()));
        assert_eq!(alarm(&neither), None);
        assert_eq!(alarm(&completed), None);
        for task in [&both, &due_only] {
            assert_eq!(alarm(task), task.next_alarm().map(|alarm| alarm.at.unix_millis()), "the same as a write today would index");
        }
    }
}
