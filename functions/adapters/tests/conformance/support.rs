//! Backends for the conformance suite, and a look at what each one actually stores.

use std::sync::Arc;

use todo_adapters::bootstrap::AwsEnv;
use todo_adapters::dynamodb::{CallLog, DynamoStore, create_table, emulator_client};
use todo_adapters::embedded::{BLOB_PATH, BlobRefusal, EmbeddedStore, LocalBlobs};
use todo_adapters::s3::S3Blobs;
use todo_domain::app::Stores;
use todo_domain::auth::Secret;
use todo_domain::model::{Email, ListId, PasswordHash, Task, Timestamp, User, UserId};
use todo_domain::ports::{ObjectKey, PresignedRequest, StoreResult, UserStore, Writer};

/// The emulator endpoint `cargo xtask test` exports.
pub const ENDPOINT_VARIABLE: &str = "TODO_TEST_AWS_ENDPOINT";

#[derive(Clone)]
pub struct Backend {
    pub stores: Stores,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Embedded {
        dir: Arc<tempfile::TempDir>,
        blobs: LocalBlobs,
        store: Arc<EmbeddedStore>,
    },
    DynamoDb {
        client: aws_sdk_dynamodb::Client,
        adapter_client: aws_sdk_dynamodb::Client,
        table: String,
        calls: CallLog,
        /// The bucket (named as the table) seen through the S3 SDK, behind the adapter's back.
        s3: aws_sdk_s3::Client,
    },
}

impl Backend {
    pub fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(EmbeddedStore::open(dir.path()).expect("open embedded store"));
        let blobs = LocalBlobs::new(dir.path().join("blobs"), LOCAL_BASE_URL, &Secret::new(vec![7; 32]).unwrap());
        let stores = Stores::from_one(&store, Arc::new(blobs.clone()));
        Self { stores, kind: Kind::Embedded { dir: Arc::new(dir), blobs, store } }
    }

    /// A fresh table on the emulator. Panics (fails the test) when no emulator is configured.
    pub async fn dynamodb() -> Self {
        let endpoint = std::env::var(ENDPOINT_VARIABLE).unwrap_or_else(|_| {
            panic!("{ENDPOINT_VARIABLE} is not set: run the suite with `cargo xtask test`, which starts moto's server; DynamoDB tests never skip")
        });
        let calls = CallLog::new();
        // The inspector looks at the table behind the adapter's back (and may Scan it).
        let inspector = emulator_client(&endpoint, None);
        let client = emulator_client(&endpoint, Some(&calls));
        let table = format!("todo-test-{}", ulid::Ulid::new().to_string().to_lowercase());
        create_table(&inspector, &table).await.expect("create table on the emulator");
        let store = Arc::new(DynamoStore::new(client.clone(), &table));
        let emulator = AwsEnv::emulator(&endpoint);
        let s3 = todo_adapters::s3::sdk_client(&emulator, true);
        s3.create_bucket().bucket(&table).send().await.expect("create bucket on the emulator");
        let stores = Stores::from_one(&store, Arc::new(S3Blobs::new(&emulator, &table, true)));
        Self { stores, kind: Kind::DynamoDb { client: inspector, adapter_client: client, table, calls, s3 } }
    }

    /// Performs a presigned request as a client would: over HTTP against the emulator, or
    /// through the local blob store's own checks (what the local server's blob routes call).
    pub fn execute(&self, request: &PresignedRequest, body: &[u8]) -> (u16, Vec<u8>) {
        match &self.kind {
            Kind::Embedded { blobs, .. } => {
                let rest =
                    request.url.strip_prefix(LOCAL_BASE_URL).and_then(|rest| rest.strip_prefix(BLOB_PATH)).expect("a local blob URL");
                let (key, query) = rest.split_once('?').unwrap_or((rest, ""));
                let Ok(key) = ObjectKey::parse(key) else { return (404, Vec::new()) };
                let content_type = request.headers.iter().find(|(name, _)| name == "content-type").map(|(_, value)| value.as_str());
                let outcome = match request.method {
                    "PUT" => blobs.put(&key, query, content_type, body, now()).map(|_| Vec::new()),
                    _ => blobs.get(&key, query, now()).map(|(bytes, _, _)| bytes),
                };
                match outcome {
                    Ok(bytes) => (200, bytes),
                    Err(BlobRefusal::NotFound) => (404, Vec::new()),
                    Err(BlobRefusal::Io(error)) => panic!("blob folder failed: {error}"),
                    Err(_) => (403, Vec::new()),
                }
            }
            Kind::DynamoDb { .. } => http_request(request, body),
        }
    }

    /// An app over this backend's stores (for use cases that span ports).
    pub fn app(&self) -> todo_domain::App {
        let settings = todo_domain::Settings::with_secret(Secret::new(vec![7; 32]).unwrap());
        todo_domain::App::new(self.stores.clone(), Arc::new(todo_domain::clock::SystemClock), settings)
    }

    /// The client the adapter uses (with its call log).
    pub fn adapter_client(&self) -> &aws_sdk_dynamodb::Client {
        match &self.kind {
            Kind::DynamoDb { adapter_client, .. } => adapter_client,
            Kind::Embedded { .. } => panic!("not a DynamoDB backend"),
        }
    }

    pub fn is_dynamodb(&self) -> bool {
        matches!(self.kind, Kind::DynamoDb { .. })
    }

    /// DynamoDB calls since the last look, by operation (empty for the embedded store).
    pub fn calls(&self) -> std::collections::BTreeMap<String, usize> {
        match &self.kind {
            Kind::DynamoDb { calls, .. } => calls.take_counts(),
            Kind::Embedded { .. } => std::collections::BTreeMap::new(),
        }
    }

    /// What task pages cost since the last look: items read on DynamoDB (`ScannedCount`), VM
    /// steps on SQLite. Units differ; each grows with the rows a page reads through.
    pub fn task_page_work(&self) -> u64 {
        match &self.kind {
            Kind::DynamoDb { calls, .. } => calls.take_items_read(),
            Kind::Embedded { store, .. } => store.take_task_page_steps(),
        }
    }

    /// Stores `count` copies of a stored task under new ids (later than any so far), behind
    /// the ports and in bulk (BatchWriteItem; one SQLite transaction): history for cost tests.
    pub async fn copy_task(&self, task: &Task, count: usize) -> Vec<todo_domain::model::TaskId> {
        use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
        let ids: Vec<_> = (0..count).map(|_| todo_domain::model::TaskId::generate()).collect();
        match &self.kind {
            Kind::Embedded { dir, .. } => {
                let mut connection = rusqlite::Connection::open(dir.path().join("todo.sqlite3")).unwrap();
                let transaction = connection.transaction().unwrap();
                for id in &ids {
                    transaction
                        .execute(
                            "INSERT INTO tasks (list_id, id, version, completed, due_ms, alarm_ms, doc)
                             SELECT list_id, ?3, version, completed, due_ms, alarm_ms, json_set(doc, '$.id', ?3)
                             FROM tasks WHERE list_id = ?1 AND id = ?2",
                            rusqlite::params![task.list_id.to_string(), task.id.to_string(), id.to_string()],
                        )
                        .unwrap();
                }
                transaction.commit().unwrap();
            }
            Kind::DynamoDb { client, table, .. } => {
                let stored = client
                    .get_item()
                    .table_name(table)
                    .key("PK", AttributeValue::S(format!("LIST#{}", task.list_id)))
                    .key("SK", AttributeValue::S(format!("TASK#{}", task.id)))
                    .send()
                    .await
                    .unwrap()
                    .item
                    .expect("the task is stored");
                for chunk in ids.chunks(25) {
                    let mut writes: Vec<WriteRequest> = chunk
                        .iter()
                        .map(|id| {
                            let mut item = stored.clone();
                            item.insert("SK".into(), AttributeValue::S(format!("TASK#{id}")));
                            item.insert("id".into(), AttributeValue::S(id.to_string()));
                            if item.contains_key("open_sk") {
                                item.insert("open_sk".into(), AttributeValue::S(format!("TASK#{id}")));
                            }
                            WriteRequest::builder().put_request(PutRequest::builder().set_item(Some(item)).build().unwrap()).build()
                        })
                        .collect();
                    while !writes.is_empty() {
                        let output = client.batch_write_item().request_items(table, writes).send().await.unwrap();
                        writes = output.unprocessed_items.and_then(|mut left| left.remove(table)).unwrap_or_default();
                    }
                }
            }
        }
        ids
    }

    /// An object's tags as `key=value` (S3 on the emulator), for the abandoned-upload net;
    /// `None` for the local blob folder, which has no tags.
    pub async fn object_tags(&self, key: &ObjectKey) -> Option<Vec<String>> {
        let Kind::DynamoDb { s3, table, .. } = &self.kind else { return None };
        let tagging = s3.get_object_tagging().bucket(table).key(key.as_str()).send().await.expect("GetObjectTagging");
        Some(tagging.tag_set().iter().map(|tag| format!("{}={}", tag.key(), tag.value())).collect())
    }

    pub fn assert_no_scan(&self) {
        // The CallLog refuses Scans outright, so a Scan would already have failed its call;
        // this makes the promise visible in every DynamoDB test.
        if let Kind::DynamoDb { calls, .. } = &self.kind {
            assert!(!calls.take().iter().any(|name| name == "Scan"));
        }
    }

    /// How many stored items (rows) mention this user, read from the store itself rather
    /// than through the ports: table items in the user's partition or pointing at the user,
    /// or SQLite rows keyed by the user.
    pub async fn items_of(&self, user: UserId) -> usize {
        match &self.kind {
            Kind::Embedded { dir, .. } => {
                let connection = rusqlite::Connection::open(dir.path().join("todo.sqlite3")).unwrap();
                let id = user.to_string();
                let count = |sql: &str| connection.query_row(sql, [&id], |row| row.get::<_, i64>(0)).unwrap();
                let rows = count("SELECT count(*) FROM users WHERE id = ?1")
                    + count("SELECT count(*) FROM sessions WHERE user_id = ?1")
                    + count("SELECT count(*) FROM lists WHERE id = ?1 OR owner = ?1")
                    + count("SELECT count(*) FROM members WHERE user_id = ?1 OR list_id = ?1")
                    + count("SELECT count(*) FROM tasks WHERE list_id = ?1 OR json_extract(doc, '$.created_by') = ?1")
                    + count("SELECT count(*) FROM idempotency WHERE owner = ?1")
                    + count("SELECT count(*) FROM files WHERE json_extract(doc, '$.uploaded_by') = ?1")
                    + count("SELECT count(*) FROM notifications WHERE owner = ?1")
                    + count("SELECT count(*) FROM pending_deletions WHERE user_id = ?1")
                    + count("SELECT count(*) FROM invitations WHERE list_id = ?1 OR json_extract(doc, '$.invited_by') = ?1");
                usize::try_from(rows).unwrap()
            }
            Kind::DynamoDb { client, table, .. } => {
                // A full Scan of the test table: allowed here, in a test, never in the adapter.
                let items = client.scan().table_name(table).send().await.expect("scan test table").items.unwrap_or_default();
                let needle = user.to_string();
                items.iter().filter(|item| item.values().any(|value| value.as_s().is_ok_and(|s| s.contains(&needle)))).count()
            }
        }
    }
}

const LOCAL_BASE_URL: &str = "http://localhost:3000";

/// A minimal HTTP/1.1 client for presigned URLs on the (plain-HTTP) emulator.
fn http_request(request: &PresignedRequest, body: &[u8]) -> (u16, Vec<u8>) {
    use std::fmt::Write as _;
    use std::io::{Read as _, Write as _};
    let rest = request.url.strip_prefix("http://").expect("emulator URLs are plain HTTP");
    let (authority, path) = rest.split_once('/').expect("a path");
    let mut stream = std::net::TcpStream::connect(authority).expect("connect to the emulator");
    let mut head = format!("{} /{path} HTTP/1.1\r\nHost: {authority}\r\nConnection: close\r\n", request.method);
    for (name, value) in &request.headers {
        if name != "content-length" {
            let _ = write!(head, "{name}: {value}\r\n");
        }
    }
    let _ = write!(head, "Content-Length: {}\r\n\r\n", body.len());
    stream.write_all(head.as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let split = response.windows(4).position(|window| window == b"\r\n\r\n").expect("a response head");
    let status = std::str::from_utf8(&response[..split]).unwrap().split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, response[split + 4..].to_vec())
}

pub fn now() -> Timestamp {
    Timestamp::from_datetime(chrono::Utc::now())
}

pub fn user(email: &str) -> User {
    let now = now();
    User {
        id: UserId::generate(),
        email: Email::parse(email).unwrap(),
        name: None,
        password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned()),
        created_at: now,
        updated_at: now,
        version: 1,
        credentials_version: 1,
    }
}

/// A user's Inbox.
pub fn inbox(user: UserId) -> ListId {
    ListId::inbox_of(user)
}

/// A user writing to their own Inbox.
pub fn member(user: UserId) -> Writer {
    Writer::Member { user, list: inbox(user) }
}

/// A task's creator writing to its list.
pub fn writer(task: &Task) -> Writer {
    Writer::Member { user: task.created_by, list: task.list_id }
}

/// Signs `user` up with their Inbox, as the sign-up use case does.
pub async fn sign_up(users: &dyn UserStore, user: User) -> StoreResult<()> {
    users.insert_user(&user, &todo_domain::model::TaskList::inbox_of(user.id, now())).await
}

/// Every task the due-alarm index names as due at `until`, all shards, every page.
pub async fn due_tasks(backend: &Backend, until: Timestamp) -> Vec<(ListId, todo_domain::model::TaskId)> {
    use todo_domain::ports::{DueWindow, PageRequest};
    let notifications = &backend.stores.notifications;
    let mut due = Vec::new();
    for shard in 0..notifications.alarm_shards() {
        let mut after = None;
        loop {
            let page = notifications.due_alarms(shard, DueWindow { from: None, until }, PageRequest { limit: 100, after }).await.unwrap();
            due.extend(page.items.iter().map(|alarm| (alarm.list, alarm.task)));
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
    }
    due
}
