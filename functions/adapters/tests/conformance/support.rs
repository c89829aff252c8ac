//! Backends for the conformance suite, and a look at what each one actually stores.

use std::sync::Arc;

use todo_adapters::dynamodb::{CallLog, DynamoStore, create_table, emulator_client};
use todo_adapters::embedded::EmbeddedStore;
use todo_domain::app::Stores;
use todo_domain::model::{Email, PasswordHash, Timestamp, User, UserId};

/// The emulator endpoint `cargo xtask test` exports.
pub const ENDPOINT_VARIABLE: &str = "TODO_TEST_AWS_ENDPOINT";

#[derive(Clone)]
pub struct Backend {
    pub stores: Stores,
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Embedded { dir: Arc<tempfile::TempDir> },
    DynamoDb { client: aws_sdk_dynamodb::Client, adapter_client: aws_sdk_dynamodb::Client, table: String, calls: CallLog },
}

impl Backend {
    pub fn embedded() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let store = Arc::new(EmbeddedStore::open(dir.path()).expect("open embedded store"));
        Self { stores: Stores { users: store.clone(), sessions: store.clone(), tasks: store }, kind: Kind::Embedded { dir: Arc::new(dir) } }
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
        Self {
            stores: Stores { users: store.clone(), sessions: store.clone(), tasks: store },
            kind: Kind::DynamoDb { client: inspector, adapter_client: client, table, calls },
        }
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
            Kind::Embedded { dir } => {
                let connection = rusqlite::Connection::open(dir.path().join("todo.sqlite3")).unwrap();
                let id = user.to_string();
                let count = |sql: &str| connection.query_row(sql, [&id], |row| row.get::<_, i64>(0)).unwrap();
                let rows = count("SELECT count(*) FROM users WHERE id = ?1")
                    + count("SELECT count(*) FROM sessions WHERE user_id = ?1")
                    + count("SELECT count(*) FROM tasks WHERE owner = ?1")
                    + count("SELECT count(*) FROM idempotency WHERE owner = ?1");
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
    }
}
