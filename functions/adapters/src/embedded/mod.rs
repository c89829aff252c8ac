//! The embedded store: SQLite (bundled, WAL, busy timeout) implementing every port.
//!
//! Rows keep the item as JSON (`doc`) beside the columns queries need, the same shape the
//! DynamoDB adapter uses (key attributes plus the serialised item). Conditional writes
//! run inside `BEGIN IMMEDIATE` transactions, so they hold across processes too (the local
//! server and `cargo run -- job ...` share one database).

mod blobs;
mod files;
mod idempotency;
mod lists;
mod notifications;
mod sessions;
mod sharing;
mod tasks;
mod throttle;
mod users;

pub use blobs::{BLOB_DIR, BLOB_PATH, BlobRefusal, LocalBlobs, VerifiedGet};

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
    // Lists (issue 13): every account gets its Inbox, whose id is the account's, and every
    // task moves into its owner's Inbox. Files are keyed by their task alone (a task's list
    // can change), and name their uploader. Accounts deleted but not yet purged get an Inbox
    // too, so the purge finds their tasks.
    r"
    CREATE TABLE lists (
        id TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        version INTEGER NOT NULL,
        doc TEXT NOT NULL
    ) STRICT;
    CREATE TABLE members (
        list_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        role TEXT NOT NULL,
        revoked INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (list_id, user_id)
    ) STRICT, WITHOUT ROWID;
    CREATE INDEX memberships ON members (user_id, list_id);
    CREATE TEMP TABLE inbox_owners AS
        SELECT id, json_extract(doc, '$.created_at') AS created_at FROM users
        UNION
        SELECT user_id, strftime('%Y-%m-%dT%H:%M:%fZ', deleted_ms / 1000.0, 'unixepoch') FROM pending_deletions
            WHERE user_id NOT IN (SELECT id FROM users);
    INSERT INTO lists (id, owner, version, doc)
        SELECT id, id, 1, json_object('id', id, 'name', 'Inbox', 'owner', id, 'inbox', json('true'),
            'created_at', created_at, 'updated_at', created_at, 'version', 1)
        FROM inbox_owners;
    INSERT INTO members (list_id, user_id, role) SELECT id, id, 'owner' FROM inbox_owners;
    DROP TABLE inbox_owners;
    ALTER TABLE tasks RENAME COLUMN owner TO list_id;
    UPDATE tasks SET doc = json_remove(json_set(doc, '$.list_id', list_id, '$.created_by', list_id), '$.owner');
    UPDATE idempotency SET doc = json_remove(json_set(doc, '$.task.list_id', owner, '$.task.created_by', owner), '$.task.owner');
    UPDATE notifications SET doc = json_set(doc, '$.list_id', owner);
    CREATE TABLE task_files (
        task_id TEXT NOT NULL,
        id TEXT NOT NULL,
        status TEXT NOT NULL,
        pending_until_ms INTEGER,
        doc TEXT NOT NULL,
        PRIMARY KEY (task_id, id)
    ) STRICT, WITHOUT ROWID;
    INSERT INTO task_files (task_id, id, status, pending_until_ms, doc)
        SELECT task_id, id, status, pending_until_ms, json_remove(json_set(doc, '$.uploaded_by', owner), '$.owner') FROM files;
    DROP TABLE files;
    ALTER TABLE task_files RENAME TO files;
    CREATE INDEX files_pending ON files (pending_until_ms) WHERE pending_until_ms IS NOT NULL;
",
    // The password throttle: failed checks per email key (usecases::throttle).
    r"
    CREATE TABLE throttles (
        key TEXT PRIMARY KEY,
        failures INTEGER NOT NULL,
        last_failure_ms INTEGER NOT NULL
    ) STRICT;
",
    // Invitations to lists, addressed to an email (issue 13, sharing).
    r"
    CREATE TABLE invitations (
        id TEXT PRIMARY KEY,
        list_id TEXT NOT NULL,
        email TEXT NOT NULL,
        expires_ms INTEGER NOT NULL,
        doc TEXT NOT NULL
    ) STRICT;
    CREATE INDEX invitations_by_list ON invitations (list_id, id);
    CREATE INDEX invitations_by_email ON invitations (email, id);
",
    // Lists whose deletion was asked for (`DELETE /lists/{id}`) and is not finished.
    r"
    CREATE TABLE list_deletions (
        list_id TEXT PRIMARY KEY,
        deleted_ms INTEGER NOT NULL
    ) STRICT;
",
    // Each member's own place for a list (`PATCH /lists/{id}` `position`); none until chosen.
    r"
    ALTER TABLE members ADD COLUMN position INTEGER;
",
    // Invitations not yet told to their invitee (the local stand-in for the table stream's
    // `invitation-announce`); those pending at the upgrade are told too.
    r"
    ALTER TABLE invitations ADD COLUMN announced INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX invitations_to_announce ON invitations (announced) WHERE announced = 0;
",
    // Open tasks by list (`?status=open` never steps through completed ones), as DynamoDB's
    // sparse `open` index.
    r"
    CREATE INDEX tasks_open ON tasks (list_id, id) WHERE completed = 0;
",
];

#[derive(Clone)]
pub struct EmbeddedStore {
    connection: Arc<Mutex<Connection>>,
    /// SQLite virtual-machine steps of task pages, for tests and benchmarks: what a page
    /// cost, as DynamoDB's `ScannedCount` is (`task_page_steps`).
    task_page_steps: Arc<std::sync::atomic::AtomicU64>,
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
        migrate(&mut connection, dir)?;
        Ok(Self { connection: Arc::new(Mutex::new(connection)), task_page_steps: Arc::default() })
    }

    /// The work task pages took since the last call (SQLite VM steps): grows with the rows a
    /// page stepped through, so a page that reads through history shows it.
    pub fn take_task_page_steps(&self) -> u64 {
        self.task_page_steps.swap(0, std::sync::atomic::Ordering::Relaxed)
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

    /// Runs a read that parses what it reads on the blocking pool.
    async fn read_parsed<T, F>(&self, work: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let connection = Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            work(&connection)
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

/// The migration that keys files by task alone: from then on a file is found through its
/// task, so one whose task is already gone could never be found again.
const FILES_BY_TASK: usize = 4;

fn migrate(connection: &mut Connection, dir: &Path) -> anyhow::Result<()> {
    let transaction = connection.transaction_with_behavior(TransactionBehavior::Exclusive)?;
    let applied: usize = transaction.pragma_query_value(None, "user_version", |row| row.get(0))?;
    if applied > MIGRATIONS.len() {
        anyhow::bail!("the data dir was written by a newer version (schema {applied}, this build knows {})", MIGRATIONS.len());
    }
    let mut orphaned_objects = Vec::new();
    for (index, migration) in MIGRATIONS.iter().enumerate().skip(applied) {
        if index == FILES_BY_TASK {
            orphaned_objects = remove_files_without_task(&transaction)?;
        }
        transaction.execute_batch(migration)?;
    }
    transaction.pragma_update(None, "user_version", MIGRATIONS.len())?;
    transaction.commit()?;
    // After the commit: bytes whose record is gone are unreachable either way, and the
    // records must not go unless the upgrade does.
    for key in orphaned_objects {
        match fs::remove_file(dir.join(blobs::BLOB_DIR).join(&key)) {
            Ok(()) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => tracing::warn!(%key, %error, "could not remove an orphaned object while upgrading"),
        }
    }
    Ok(())
}

/// Before files are keyed by task: the records (and, returned, the object keys) of files
/// whose task is gone — left by an account purge of an older version that died between
/// removing its tasks and its files. Nothing could reach them after the upgrade.
fn remove_files_without_task(transaction: &rusqlite::Transaction<'_>) -> anyhow::Result<Vec<String>> {
    let orphans = "FROM files WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE tasks.owner = files.owner AND tasks.id = files.task_id)";
    let keys = transaction
        .prepare(&format!("SELECT 'users/' || owner || '/tasks/' || task_id || '/files/' || id {orphans}"))?
        .query_map([], |row| row.get::<_, String>(0))?
        .collect::<Result<Vec<_>, _>>()?;
    transaction.execute(&format!("DELETE {orphans}"), [])?;
    Ok(keys)
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
    let items = docs.iter().map(|doc| from_doc::<T>(doc)).collect::<StoreResult<Vec<_>>>()?;
    Ok(page_from(items, limit, key))
}

/// The same, from up to `limit + 1` items already read.
fn page_from<T, K>(mut items: Vec<T>, limit: u32, key: impl Fn(&T) -> K) -> Page<T, K> {
    let has_more = items.len() > limit as usize;
    items.truncate(limit as usize);
    let next = if has_more { items.last().map(key) } else { None };
    Page { items, next }
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
    use todo_domain::model::{ListId, NewTask, Tags, Task, TaskId, Timestamp, Title, UserId};

    /// A task as versions before lists stored it: an `owner` instead of a list and a creator.
    fn pre_lists_doc(task: &Task) -> String {
        let mut doc = serde_json::to_value(task).unwrap();
        let fields = doc.as_object_mut().unwrap();
        fields.remove("list_id");
        let owner = fields.remove("created_by").unwrap();
        fields.insert("owner".to_owned(), owner);
        doc.to_string()
    }

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
            let owner = UserId::generate();
            Task::create(TaskId::generate(), ListId::inbox_of(owner), owner, new, at("2026-01-01T00:00:00Z")).unwrap()
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
                            task.created_by.to_string(),
                            task.id.to_string(),
                            task.completion.is_completed(),
                            pre_lists_doc(task)
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

    /// A data dir written before lists (schema 4): opening it gives every account, and every
    /// deleted account still being purged, its Inbox; every task lands in its owner's Inbox
    /// with its id, files, idempotency record and notifications intact, and the purge still
    /// finds a deleted account's tasks.
    #[tokio::test]
    async fn upgrading_a_data_dir_from_before_lists_puts_every_task_in_its_owners_inbox() {
        use todo_domain::auth::{Principal, Secret};
        use todo_domain::model::{
            ContentType, Email, FileId, FileName, FileRecord, FileStatus, IdempotencyKey, Membership, Notification, PasswordHash, Role,
            SessionId, User,
        };
        use todo_domain::ports::{
            CreateOutcome, IdempotencyRecord, ListStore as _, Made, NotificationStore as _, TaskFilter, TaskStore as _,
        };

        let at = |raw: &str| Timestamp::parse(raw).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let ada = User {
            id: UserId::generate(),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned()),
            created_at: at("2025-06-01T10:00:00Z"),
            updated_at: at("2025-06-01T10:00:00Z"),
            version: 1,
            credentials_version: 0,
        };
        let ghost = UserId::generate();
        let task_of = |owner: UserId, title: &str| {
            let new = NewTask {
                title: Title::parse(title).unwrap(),
                notes: None,
                due: Some(at("2026-03-02T09:00:00Z")),
                priority: None,
                tags: Tags::default(),
                recurrence: None,
                reminder_at: None,
            };
            Task::create(TaskId::generate(), ListId::inbox_of(owner), owner, new, at("2026-01-01T00:00:00Z")).unwrap()
        };
        let adas = task_of(ada.id, "from before lists");
        let ghosts = task_of(ghost, "left by a deleted account");
        let file = FileRecord {
            id: FileId::generate(),
            uploaded_by: ada.id,
            task_id: adas.id,
            name: FileName::parse("plan.pdf").unwrap(),
            content_type: ContentType::parse("application/pdf").unwrap(),
            declared_size: 3,
            size: Some(3),
            etag: Some("\"e\"".to_owned()),
            status: FileStatus::Available,
            created_at: at("2026-01-02T00:00:00Z"),
            upload_expires_at: at("2026-01-02T00:15:00Z"),
            uploaded_at: Some(at("2026-01-02T00:01:00Z")),
        };
        let record = IdempotencyRecord {
            owner: ada.id,
            key: IdempotencyKey::parse("k1").unwrap(),
            fingerprint: "f".to_owned(),
            made: Made::Task(adas.clone()),
            expires_at: at("2999-01-01T00:00:00Z"),
        };
        // A file of the deleted account whose task an older purge had already removed, with
        // its bytes on disk.
        let orphan = FileRecord { id: FileId::generate(), uploaded_by: ghost, task_id: TaskId::generate(), ..file.clone() };
        let orphan_bytes = dir.path().join(BLOB_DIR).join(orphan.object_key().as_str());
        let notification =
            Notification::for_alarm(&adas, adas.next_alarm().unwrap(), at("2026-03-02T09:00:01Z"), chrono::Duration::days(30000));
        {
            let mut old = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            let transaction = old.transaction().unwrap();
            for migration in &MIGRATIONS[..4] {
                transaction.execute_batch(migration).unwrap();
            }
            transaction
                .execute(
                    "INSERT INTO users (id, email, version, doc) VALUES (?1, ?2, 1, ?3)",
                    rusqlite::params![ada.id.to_string(), ada.email.as_str(), serde_json::to_string(&ada).unwrap()],
                )
                .unwrap();
            transaction
                .execute("INSERT INTO pending_deletions (user_id, deleted_ms) VALUES (?1, 1767225600000)", [ghost.to_string()])
                .unwrap();
            for task in [&adas, &ghosts] {
                transaction
                    .execute(
                        "INSERT INTO tasks (owner, id, version, completed, due_ms, alarm_ms, doc) VALUES (?1, ?2, 1, 0, ?3, ?3, ?4)",
                        rusqlite::params![
                            task.created_by.to_string(),
                            task.id.to_string(),
                            task.due.unwrap().unix_millis(),
                            pre_lists_doc(task)
                        ],
                    )
                    .unwrap();
            }
            let mut file_doc = serde_json::to_value(&file).unwrap();
            let uploader = file_doc.as_object_mut().unwrap().remove("uploaded_by").unwrap();
            file_doc.as_object_mut().unwrap().insert("owner".to_owned(), uploader);
            transaction
                .execute(
                    "INSERT INTO files (owner, task_id, id, status, pending_until_ms, doc) VALUES (?1, ?2, ?3, 'available', NULL, ?4)",
                    rusqlite::params![ada.id.to_string(), adas.id.to_string(), file.id.to_string(), file_doc.to_string()],
                )
                .unwrap();
            let mut record_doc = serde_json::to_value(&record).unwrap();
            record_doc["task"] = serde_json::from_str(&pre_lists_doc(&adas)).unwrap();
            transaction
                .execute(
                    "INSERT INTO idempotency (owner, key, expires_ms, doc) VALUES (?1, 'k1', ?2, ?3)",
                    rusqlite::params![ada.id.to_string(), record.expires_at.unix_millis(), record_doc.to_string()],
                )
                .unwrap();
            let mut orphan_doc = serde_json::to_value(&orphan).unwrap();
            orphan_doc.as_object_mut().unwrap().remove("uploaded_by");
            orphan_doc["owner"] = serde_json::json!(ghost.to_string());
            transaction
                .execute(
                    "INSERT INTO files (owner, task_id, id, status, pending_until_ms, doc) VALUES (?1, ?2, ?3, 'available', NULL, ?4)",
                    rusqlite::params![ghost.to_string(), orphan.task_id.to_string(), orphan.id.to_string(), orphan_doc.to_string()],
                )
                .unwrap();
            fs::create_dir_all(orphan_bytes.parent().unwrap()).unwrap();
            fs::write(&orphan_bytes, b"abc").unwrap();
            let mut notification_doc = serde_json::to_value(&notification).unwrap();
            notification_doc.as_object_mut().unwrap().remove("list_id");
            transaction
                .execute(
                    "INSERT INTO notifications (owner, id, read, expires_ms, doc) VALUES (?1, ?2, 0, ?3, ?4)",
                    rusqlite::params![
                        ada.id.to_string(),
                        notification.id.to_string(),
                        notification.expires_at.unix_millis(),
                        notification_doc.to_string()
                    ],
                )
                .unwrap();
            transaction.pragma_update(None, "user_version", 4).unwrap();
            transaction.commit().unwrap();
        }

        let orphan_files = || -> usize {
            let connection = Connection::open(dir.path().join(DATABASE_FILE)).unwrap();
            let uploads =
                connection.query_row("SELECT count(*) FROM files WHERE doc LIKE ?1", [format!("%{ghost}%")], |row| row.get::<_, i64>(0));
            usize::try_from(uploads.unwrap()).unwrap() + usize::from(orphan_bytes.exists())
        };
        assert_eq!(orphan_files(), 2, "an orphaned record and its bytes before the upgrade");
        let store = std::sync::Arc::new(EmbeddedStore::open(dir.path()).unwrap());
        assert_eq!(orphan_files(), 0, "a file whose task was already gone is removed, record and bytes: nothing could reach it after");
        let secret = Secret::new(vec![7; 32]).unwrap();
        let blobs = LocalBlobs::new(dir.path().join(BLOB_DIR), "http://localhost:3000", &secret);
        let stores = todo_domain::app::Stores::from_one(&store, std::sync::Arc::new(blobs));
        let app =
            todo_domain::App::new(stores, std::sync::Arc::new(todo_domain::clock::SystemClock), todo_domain::Settings::with_secret(secret));
        let inbox = ListId::inbox_of(ada.id);

        let list = store.get_list(inbox).await.unwrap().expect("an Inbox");
        assert!(list.inbox && list.owner == ada.id && list.name.as_str() == "Inbox" && list.created_at == ada.created_at, "{list:?}");
        assert_eq!(store.memberships(ada.id).await.unwrap(), [Membership::new(inbox, ada.id, Role::Owner)]);
        let principal = Principal { user_id: ada.id, session_id: SessionId::generate() };
        assert_eq!(todo_domain::usecases::tasks::get_task(&app, principal, inbox, adas.id).await.unwrap(), adas);
        let page =
            store.list_tasks(inbox, &TaskFilter::default(), todo_domain::ports::PageRequest { limit: 10, after: None }).await.unwrap();
        assert_eq!(page.items, std::slice::from_ref(&adas));
        let found = todo_domain::usecases::files::get_file(&app, principal, inbox, adas.id, file.id).await.unwrap();
        assert_eq!(found.file, file);
        assert_eq!(
            found.file.object_key().as_str(),
            format!("users/{}/tasks/{}/files/{}", ada.id, adas.id, file.id),
            "objects stay where they are"
        );
        let retry = task_of(ada.id, "a retry");
        let replay = IdempotencyRecord { made: Made::Task(retry.clone()), ..record.clone() };
        assert_eq!(
            store.create_task(&retry, Some(&replay), at("2026-06-01T00:00:00Z")).await.unwrap(),
            CreateOutcome::Replayed(Box::new(record))
        );
        assert_eq!(store.get_notification(ada.id, notification.id).await.unwrap(), Some(notification));
        let window = todo_domain::ports::DueWindow { from: None, until: at("2026-03-02T09:00:00Z") };
        let due = store.due_alarms(0, window, todo_domain::ports::PageRequest { limit: 10, after: None }).await.unwrap();
        assert!(due.items.iter().any(|due| (due.list, due.task) == (inbox, adas.id)), "the due-alarm index names tasks by list: {due:?}");

        todo_domain::usecases::users::finish_pending_deletions(&app, 10).await.unwrap();
        assert_eq!(store.get_task(ListId::inbox_of(ghost), ghosts.id).await.unwrap(), None, "the purge found the deleted account's task");
        assert!(store.memberships(ghost).await.unwrap().is_empty());
        assert_eq!(store.get_list(ListId::inbox_of(ghost)).await.unwrap(), None);
        assert_eq!(store.get_task(inbox, adas.id).await.unwrap(), Some(adas), "and nobody else's");
    }
}
