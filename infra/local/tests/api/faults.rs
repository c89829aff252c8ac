//! Faults (issue 14 §3): a store that fails mid-request answers 503 + `Retry-After`, a keyed
//! retry neither loses nor duplicates, and an operation of several steps interrupted between
//! two of them leaves the old state or a marker that a retry (or housekeeping) finishes.
//!
//! Two kinds of fault: a test-only wrapper around the ports (`Faulty*`) failing one chosen call
//! before or after it reaches the real store (an answer lost on its way back is the "after"
//! case); and moto's own server, frozen (SIGSTOP: connections open, nothing answers) and killed
//! and restarted, under a DynamoDB client whose whole-call budget is short.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use axum::http::{Method, StatusCode};
use serde_json::{Value, json};
use todo_domain::model::{FileId, FileRecord, ListId, Task, TaskId, Timestamp, UserId};
use todo_domain::ports::{
    Batch, BlobStore, CreateOutcome, FileStore, IdempotencyRecord, ObjectInfo, ObjectKey, Page, PageRequest, PresignedRequest, StoreError,
    StoreResult, TaskFilter, TaskStore, UploadOutcome, UploadSpec, Writer,
};

use crate::support::{PASSWORD, TestApp};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum When {
    /// The call never reaches the store.
    Before,
    /// The store did the work; its answer is lost.
    After,
}

/// Faults to inject, each once, by port method name.
#[derive(Clone, Debug, Default)]
struct Faults(Arc<Mutex<Vec<(&'static str, When)>>>);

impl Faults {
    fn inject(&self, operation: &'static str, when: When) {
        self.0.lock().unwrap().push((operation, when));
    }

    /// Faults injected and not yet met: a test checks its fault really fired.
    fn pending(&self) -> usize {
        self.0.lock().unwrap().len()
    }

    fn trip(&self, operation: &'static str, when: When) -> StoreResult<()> {
        let mut faults = self.0.lock().unwrap();
        match faults.iter().position(|fault| *fault == (operation, when)) {
            Some(index) => {
                faults.remove(index);
                Err(StoreError::unavailable(anyhow::anyhow!("injected fault: {operation} ({when:?})")))
            }
            None => Ok(()),
        }
    }

    async fn around<T>(&self, operation: &'static str, call: impl Future<Output = StoreResult<T>>) -> StoreResult<T> {
        self.trip(operation, When::Before)?;
        let answer = call.await?;
        self.trip(operation, When::After)?;
        Ok(answer)
    }
}

#[derive(Debug)]
struct FaultyTasks(Arc<dyn TaskStore>, Faults);

#[async_trait]
impl TaskStore for FaultyTasks {
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome> {
        self.1.around("create_task", self.0.create_task(task, idempotency, now)).await
    }
    async fn get_task(&self, list: ListId, id: TaskId) -> StoreResult<Option<Task>> {
        self.1.around("get_task", self.0.get_task(list, id)).await
    }
    async fn update_task(&self, writer: Writer, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        self.1.around("update_task", self.0.update_task(writer, task, expected_version, spawned)).await
    }
    async fn move_task(&self, writer: Writer, task: &Task, from: ListId, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        self.1.around("move_task", self.0.move_task(writer, task, from, expected_version, spawned)).await
    }
    async fn delete_task(&self, writer: Writer, list: ListId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()> {
        self.1.around("delete_task", self.0.delete_task(writer, list, id, expected_version)).await
    }
    async fn list_tasks(&self, list: ListId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>> {
        self.1.around("list_tasks", self.0.list_tasks(list, filter, page)).await
    }
    async fn delete_user_idempotency(&self, user: UserId) -> StoreResult<u64> {
        self.1.around("delete_user_idempotency", self.0.delete_user_idempotency(user)).await
    }
    async fn purge_expired_idempotency(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        self.1.around("purge_expired_idempotency", self.0.purge_expired_idempotency(now, limit)).await
    }
}

#[derive(Debug)]
struct FaultyFiles(Arc<dyn FileStore>, Faults);

#[async_trait]
impl FileStore for FaultyFiles {
    async fn create_file(&self, list: ListId, file: &FileRecord, max_per_task: u32) -> StoreResult<()> {
        self.1.around("create_file", self.0.create_file(list, file, max_per_task)).await
    }
    async fn get_file(&self, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>> {
        self.1.around("get_file", self.0.get_file(task, id)).await
    }
    async fn list_files(&self, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>> {
        self.1.around("list_files", self.0.list_files(task, page)).await
    }
    async fn mark_uploaded(&self, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome> {
        self.1.around("mark_uploaded", self.0.mark_uploaded(task, id, info, at)).await
    }
    async fn delete_file(&self, writer: Writer, task: TaskId, id: FileId) -> StoreResult<()> {
        self.1.around("delete_file", self.0.delete_file(writer, task, id)).await
    }
    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(TaskId, FileId)>> {
        self.1.around("stale_uploads", self.0.stale_uploads(before, limit)).await
    }
}

#[derive(Debug)]
struct FaultyBlobs(Arc<dyn BlobStore>, Faults);

#[async_trait]
impl BlobStore for FaultyBlobs {
    async fn presign_put(&self, key: &ObjectKey, spec: &UploadSpec, expires_in: Duration, now: Timestamp) -> StoreResult<PresignedRequest> {
        self.1.around("presign_put", self.0.presign_put(key, spec, expires_in, now)).await
    }
    async fn presign_get(
        &self,
        key: &ObjectKey,
        file_name: Option<&str>,
        expires_in: Duration,
        now: Timestamp,
    ) -> StoreResult<PresignedRequest> {
        self.1.around("presign_get", self.0.presign_get(key, file_name, expires_in, now)).await
    }
    async fn head(&self, key: &ObjectKey) -> StoreResult<Option<ObjectInfo>> {
        self.1.around("head", self.0.head(key)).await
    }
    async fn delete(&self, key: &ObjectKey) -> StoreResult<()> {
        self.1.around("delete", self.0.delete(key)).await
    }
    async fn keep(&self, key: &ObjectKey) -> StoreResult<()> {
        self.1.around("keep", self.0.keep(key)).await
    }
}

/// The routes over the embedded store with the task, file and blob ports behind `faults`.
fn faulty_app(faults: &Faults) -> TestApp {
    TestApp::spawn_with_stores(|stores| todo_domain::app::Stores {
        tasks: Arc::new(FaultyTasks(stores.tasks.clone(), faults.clone())),
        files: Arc::new(FaultyFiles(stores.files.clone(), faults.clone())),
        blobs: Arc::new(FaultyBlobs(stores.blobs.clone(), faults.clone())),
        ..stores
    })
    .expecting_unavailable()
}

fn assert_unavailable(reply: &crate::support::Reply) {
    reply.assert_problem(StatusCode::SERVICE_UNAVAILABLE, None);
    assert_eq!(reply.body["type"], "/problems/unavailable");
    assert_eq!(reply.header("retry-after"), Some("1"), "a 503 says when to retry");
}

async fn inbox_tasks(app: &TestApp, user: &str) -> Vec<Task> {
    let inbox = ListId::inbox_of(UserId::parse(user).unwrap());
    app.app.stores.tasks.list_tasks(inbox, &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap().items
}

/// A create whose store call failed before or after the write answers 503; the client's
/// retry with the same `Idempotency-Key` then makes (or replays) exactly one task.
#[tokio::test]
async fn a_failed_create_is_a_503_and_its_keyed_retry_makes_exactly_one_task() {
    for when in [When::Before, When::After] {
        let faults = Faults::default();
        let app = faulty_app(&faults);
        let ada = app.sign_up("ada@example.com").await;
        let tasks = format!("/lists/{}/tasks", ada.id);
        let key = [("idempotency-key", "create-1")];
        faults.inject("create_task", when);
        let failed = app.call_with(Method::POST, &tasks, Some(&ada.access_token), &key, Some(json!({"title": "once"}))).await;
        assert_unavailable(&failed);
        assert_eq!(faults.pending(), 0, "the fault fired");
        let stored = inbox_tasks(&app, &ada.id).await.len();
        assert_eq!(stored, usize::from(when == When::After), "{when:?}: the store's state is what it did");

        let retried = app.call_with(Method::POST, &tasks, Some(&ada.access_token), &key, Some(json!({"title": "once"}))).await;
        assert_eq!(retried.status, StatusCode::CREATED, "{when:?}: {:#}", retried.body);
        let stored = inbox_tasks(&app, &ada.id).await;
        assert_eq!(stored.len(), 1, "{when:?}: no duplicate");
        assert_eq!(retried.body["id"], stored[0].id.to_string());
    }
}

/// Completing a recurring task is one write (the task and its next occurrence): a lost
/// answer and a retry leave one next occurrence, never two.
#[tokio::test]
async fn a_retried_recurring_completion_spawns_one_next_occurrence() {
    let faults = Faults::default();
    let app = faulty_app(&faults);
    let ada = app.sign_up("ada@example.com").await;
    let rent = app
        .create_task(&ada, json!({"title": "rent", "due": "2027-01-31T09:00:00Z", "recurrence": {"freq": "monthly", "interval": 1}}))
        .await;
    let path = format!("/lists/{}/tasks/{}", ada.id, rent["id"].as_str().unwrap());
    faults.inject("update_task", When::After);
    assert_unavailable(&app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"status": "completed"}))).await);
    assert_eq!(faults.pending(), 0);
    let retried = app.call(Method::PATCH, &path, Some(&ada.access_token), Some(json!({"status": "completed"}))).await;
    assert_eq!(retried.status, StatusCode::OK, "{:#}", retried.body);
    let tasks = inbox_tasks(&app, &ada.id).await;
    assert_eq!(tasks.len(), 2, "the completed task and one next occurrence: {tasks:?}");
    assert_eq!(tasks.iter().filter(|task| !task.completion.is_completed()).count(), 1);
}

async fn task_with_a_file(app: &TestApp, ada: &crate::support::Account) -> (String, String, ObjectKey) {
    let task = app.create_task(ada, json!({"title": "with a file"})).await["id"].as_str().unwrap().to_owned();
    let bytes = b"the bytes";
    let files = format!("/lists/{}/tasks/{task}/files", ada.id);
    let body = json!({"name": "a.txt", "content_type": "text/plain", "size": bytes.len()});
    let answer = app.call(Method::POST, &files, Some(&ada.access_token), Some(body)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
    assert_eq!(crate::files::upload(app, &answer.body, bytes).await.status, StatusCode::OK);
    let file = answer.body["file"]["id"].as_str().unwrap().to_owned();
    let key = ObjectKey::for_file(UserId::parse(&ada.id).unwrap(), TaskId::parse(&task).unwrap(), &file);
    (task, file, key)
}

/// Deleting a task removes its files (bytes, then records), then the task. Interrupted at
/// any of those steps it answers 503 and the task is still there, whole or with fewer
/// files; the retry finishes, leaving no bytes behind.
#[tokio::test]
async fn an_interrupted_task_deletion_leaves_the_task_and_its_retry_finishes() {
    for (operation, when) in [("delete", When::After), ("delete_file", When::Before), ("delete_task", When::Before)] {
        let faults = Faults::default();
        let app = faulty_app(&faults);
        let ada = app.sign_up("ada@example.com").await;
        let (task, _, key) = task_with_a_file(&app, &ada).await;
        assert!(app.app.stores.blobs.head(&key).await.unwrap().is_some());
        let path = format!("/lists/{}/tasks/{task}", ada.id);
        faults.inject(operation, when);
        assert_unavailable(&app.call(Method::DELETE, &path, Some(&ada.access_token), None).await);
        assert_eq!(faults.pending(), 0, "{operation}: the fault fired");
        assert_eq!(app.call(Method::GET, &path, Some(&ada.access_token), None).await.status, StatusCode::OK, "{operation}: the task stays");

        let retried = app.call(Method::DELETE, &path, Some(&ada.access_token), None).await;
        assert_eq!(retried.status, StatusCode::NO_CONTENT, "{operation}: {:#}", retried.body);
        assert_eq!(app.call(Method::GET, &path, Some(&ada.access_token), None).await.status, StatusCode::NOT_FOUND);
        let task_id = TaskId::parse(&task).unwrap();
        assert!(app.app.stores.files.list_files(task_id, PageRequest { limit: 10, after: None }).await.unwrap().items.is_empty());
        assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none(), "{operation}: no bytes left");
    }
}

/// An upload's object is kept from the abandoned-upload rule, then its arrival recorded:
/// interrupted in between (or at either step), the file stays pending and the event's retry
/// (S3 → Lambda retries a failed run; housekeeping's `expire_upload` later) finishes it.
#[tokio::test]
async fn an_interrupted_upload_completion_is_finished_by_the_events_retry() {
    use todo_domain::usecases::files::{Arrival, complete_upload};
    for (operation, when) in [("keep", When::Before), ("keep", When::After), ("mark_uploaded", When::Before)] {
        let faults = Faults::default();
        let app = faulty_app(&faults);
        let ada = app.sign_up("ada@example.com").await;
        faults.inject(operation, when);
        let (task, file, key) = task_with_a_file(&app, &ada).await;
        assert_eq!(faults.pending(), 0, "{operation}: the arrival failed (the local PUT logs it)");
        let (task, file) = (TaskId::parse(&task).unwrap(), FileId::parse(&file).unwrap());
        let record = app.app.stores.files.get_file(task, file).await.unwrap().unwrap();
        assert_eq!(record.status, todo_domain::model::FileStatus::Pending, "{operation}: nothing recorded yet");
        assert_eq!(complete_upload(&app.app, &key).await.unwrap(), Arrival::Completed, "{operation}: the retry completes it");
        let record = app.app.stores.files.get_file(task, file).await.unwrap().unwrap();
        assert_eq!(record.status, todo_domain::model::FileStatus::Available);
    }
}

/// An account's purge interrupted part-way keeps its marker; the next run (the stream's
/// retry, housekeeping or the local loop) finishes it, and nothing is left.
#[tokio::test]
async fn an_interrupted_account_purge_keeps_its_marker_and_the_next_run_finishes() {
    let faults = Faults::default();
    let app = faulty_app(&faults);
    let ada = app.sign_up("ada@example.com").await;
    let (_, _, key) = task_with_a_file(&app, &ada).await;
    for n in 0..3 {
        app.create_task(&ada, json!({"title": format!("task {n}")})).await;
    }
    let reply = app.call(Method::DELETE, "/users/me", Some(&ada.access_token), Some(json!({"password": PASSWORD}))).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);
    let user = UserId::parse(&ada.id).unwrap();
    faults.inject("delete_task", When::After);
    assert!(todo_domain::usecases::users::finish_pending_deletions(&app.app, 10).await.is_err());
    assert_eq!(faults.pending(), 0);
    assert_eq!(app.app.stores.users.pending_deletions(10).await.unwrap(), vec![user], "the marker stays");
    assert_eq!(todo_domain::usecases::users::finish_pending_deletions(&app.app, 10).await.unwrap(), (1, false));
    assert!(app.app.stores.users.pending_deletions(10).await.unwrap().is_empty());
    assert!(inbox_tasks(&app, &ada.id).await.is_empty());
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none());
}

/// A moto server of the test's own, to stop, freeze and restart.
struct OwnMoto {
    child: std::process::Child,
    port: u16,
}

impl OwnMoto {
    fn start_on(port: u16) -> Self {
        let python = std::env::var("TODO_TEST_MOTO_PYTHON")
            .expect("TODO_TEST_MOTO_PYTHON is not set: run `cargo xtask test`, which installs moto (this test never skips)");
        let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/moto_server.py");
        let child = std::process::Command::new(python)
            .args([script, "127.0.0.1", &port.to_string()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("start moto");
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "moto did not start on port {port}");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self { child, port }
    }

    fn start() -> Self {
        Self::start_on(std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port())
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn signal(&self, signal: &str) {
        let status = std::process::Command::new("kill").args([signal, &self.child.id().to_string()]).status().unwrap();
        assert!(status.success(), "kill {signal}");
    }

    fn stop(mut self) -> u16 {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
        self.port
    }
}

impl Drop for OwnMoto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every DynamoDB call gives up after this (retries included): short, so frozen-store tests
/// do not wait out the emulator's usual 30 s budget.
const SHORT_CALL_BUDGET: Duration = Duration::from_secs(2);

/// Waits until moto at `endpoint` answers a real call (a table made), not just a TCP
/// connection: seen under a loaded test run, a socket accepted a connection and the next
/// one was refused.
async fn until_moto_answers(endpoint: &str) {
    let client = todo_adapters::dynamodb::emulator_client(endpoint, None);
    let deadline = Instant::now() + Duration::from_secs(30);
    while let Err(error) =
        todo_adapters::dynamodb::create_table(&client, &format!("ready-{}", ulid::Ulid::new().to_string().to_lowercase())).await
    {
        assert!(Instant::now() < deadline, "moto at {endpoint} never answered: {error:#}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn app_on(moto: &OwnMoto) -> TestApp {
    until_moto_answers(&moto.endpoint()).await;
    let aws = todo_adapters::bootstrap::AwsEnv::emulator(&moto.endpoint());
    TestApp::spawn_on_table(&moto.endpoint(), todo_adapters::dynamodb::client_with_timeout(&aws, None, SHORT_CALL_BUDGET), TABLE)
        .await
        .expecting_unavailable()
}

const TABLE: &str = "todo-faults";

/// moto frozen mid-run (connections accepted, nothing answered): requests end with a 503
/// within the client's budget instead of hanging; once it answers again the same app
/// (no restart) serves, and the keyed retry of a create whose answer was lost — the frozen
/// server still had the request and ran it on waking — replays it instead of making a second.
#[tokio::test]
async fn a_frozen_store_is_a_503_within_budget_and_a_keyed_retry_after_it_wakes_duplicates_nothing() {
    let moto = OwnMoto::start();
    let app = app_on(&moto).await;
    let ada = app.sign_up("ada@example.com").await;
    let tasks = format!("/lists/{}/tasks", ada.id);
    let key = [("idempotency-key", "while-frozen")];

    moto.signal("-STOP");
    let started = Instant::now();
    let failed = app.call_with(Method::POST, &tasks, Some(&ada.access_token), &key, Some(json!({"title": "frozen"}))).await;
    let read = app.call(Method::GET, &tasks, Some(&ada.access_token), None).await;
    let waited = started.elapsed();
    moto.signal("-CONT");
    assert_unavailable(&failed);
    assert_unavailable(&read);
    assert!(waited < SHORT_CALL_BUDGET * 4, "two requests took {waited:?}: one call's budget is {SHORT_CALL_BUDGET:?}");

    // The frozen server kept the request and runs it on waking: the write lands after its 503.
    let deadline = Instant::now() + Duration::from_secs(10);
    while inbox_tasks(&app, &ada.id).await.is_empty() {
        assert!(Instant::now() < deadline, "the create sent while frozen never landed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let landed = inbox_tasks(&app, &ada.id).await[0].id.to_string();
    let retried = app.call_with(Method::POST, &tasks, Some(&ada.access_token), &key, Some(json!({"title": "frozen"}))).await;
    assert_eq!(retried.status, StatusCode::CREATED, "{:#}", retried.body);
    assert_eq!(retried.body["id"], landed, "the retry replays the create that landed late");
    let listed = app.call(Method::GET, &tasks, Some(&ada.access_token), None).await;
    assert_eq!(listed.status, StatusCode::OK);
    let items: Vec<&Value> = listed.body["items"].as_array().unwrap().iter().collect();
    assert_eq!(items.len(), 1, "exactly one task: {items:?}");
    assert_eq!(items[0]["id"], retried.body["id"]);
}

/// moto stopped: requests fail fast with 503 (a refused connection is not a hang); restarted
/// (empty, as a new emulator is), the same app serves again without a restart of its own.
#[tokio::test]
async fn a_stopped_store_is_a_503_and_the_app_recovers_when_it_returns() {
    let moto = OwnMoto::start();
    let app = app_on(&moto).await;
    let ada = app.sign_up("ada@example.com").await;
    let port = moto.stop();

    let started = Instant::now();
    assert_unavailable(&app.call(Method::GET, &format!("/lists/{}/tasks", ada.id), Some(&ada.access_token), None).await);
    let body = json!({"email": "bob@example.com", "password": PASSWORD, "name": "Bob"});
    assert_unavailable(&app.call(Method::POST, "/users", None, Some(body.clone())).await);
    assert!(started.elapsed() < SHORT_CALL_BUDGET * 4, "took {:?}", started.elapsed());

    let moto = OwnMoto::start_on(port);
    until_moto_answers(&moto.endpoint()).await;
    todo_adapters::dynamodb::create_table(&todo_adapters::dynamodb::emulator_client(&moto.endpoint(), None), TABLE).await.unwrap();
    let reply = app.call(Method::POST, "/users", None, Some(body)).await;
    assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
    drop(moto);
}

/// A housekeeping step that fails (here one stale upload's HEAD) keeps none of the others
/// from running: the other upload is given up on in the same run, which then reports the
/// failure (retried, alarmed on); the next run finishes the rest.
#[tokio::test]
async fn one_failing_upload_does_not_stop_a_housekeeping_run() {
    let faults = Faults::default();
    let app = faulty_app(&faults);
    let ada = app.sign_up("ada@example.com").await;
    let mut tasks = Vec::new();
    for n in 0..2 {
        let task = app.create_task(&ada, json!({"title": format!("task {n}")})).await["id"].as_str().unwrap().to_owned();
        let body = json!({"name": "never.txt", "content_type": "text/plain", "size": 5});
        let answer = app.call(Method::POST, &format!("/lists/{}/tasks/{task}/files", ada.id), Some(&ada.access_token), Some(body)).await;
        assert_eq!(answer.status, StatusCode::CREATED, "{:#}", answer.body);
        tasks.push(TaskId::parse(&task).unwrap());
    }
    let pending = || async {
        let mut count = 0;
        for task in &tasks {
            count += app.app.stores.files.list_files(*task, PageRequest { limit: 10, after: None }).await.unwrap().items.len();
        }
        count
    };
    // Two days on, both uploads are stale (their URLs lived 15 minutes, the grace is a day).
    let later = app.app.clock.now().plus(chrono::Duration::days(2));
    faults.inject("head", When::Before);
    let failed = todo_domain::usecases::housekeeping::run_once(&app.app, later).await;
    assert!(failed.is_err(), "the run reports its failure");
    assert_eq!(faults.pending(), 0);
    assert_eq!(pending().await, 1, "the other upload was given up on in the same run");
    let outcome = todo_domain::usecases::housekeeping::run_once(&app.app, later).await.unwrap();
    assert_eq!((outcome.stale_uploads_removed, outcome.failures), (1, 0));
    assert_eq!(pending().await, 0);
}

/// A file store whose `get_file` answers as it was before the file's arrival was recorded:
/// a read that raced another event's write.
#[derive(Debug)]
struct BehindFiles(Arc<dyn FileStore>);

#[async_trait]
impl FileStore for BehindFiles {
    async fn create_file(&self, list: ListId, file: &FileRecord, max_per_task: u32) -> StoreResult<()> {
        self.0.create_file(list, file, max_per_task).await
    }
    async fn get_file(&self, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>> {
        let pending = |file: FileRecord| FileRecord {
            status: todo_domain::model::FileStatus::Pending,
            size: None,
            etag: None,
            uploaded_at: None,
            ..file
        };
        Ok(self.0.get_file(task, id).await?.map(pending))
    }
    async fn list_files(&self, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>> {
        self.0.list_files(task, page).await
    }
    async fn mark_uploaded(&self, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome> {
        self.0.mark_uploaded(task, id, info, at).await
    }
    async fn delete_file(&self, writer: Writer, task: TaskId, id: FileId) -> StoreResult<()> {
        self.0.delete_file(writer, task, id).await
    }
    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(TaskId, FileId)>> {
        self.0.stale_uploads(before, limit).await
    }
}

/// An upload URL used twice with different bytes, the second event reading the file while
/// the first one's write was landing: the second finds the file recorded with other bytes
/// than it sees and removes it (as a reuse after availability is), instead of leaving a
/// record whose size and ETag describe bytes no longer stored.
#[tokio::test]
async fn a_second_upload_racing_the_first_ones_record_removes_the_file() {
    use todo_domain::usecases::files::{Arrival, complete_upload};
    let app = TestApp::spawn();
    let ada = app.sign_up("ada@example.com").await;
    let task = app.create_task(&ada, json!({"title": "with a file"})).await["id"].as_str().unwrap().to_owned();
    let body = json!({"name": "a.txt", "content_type": "text/plain", "size": 5});
    let answer = app.call(Method::POST, &format!("/lists/{}/tasks/{task}/files", ada.id), Some(&ada.access_token), Some(body)).await;
    let (file, url) = (answer.body["file"]["id"].as_str().unwrap().to_owned(), answer.body["upload"]["url"].as_str().unwrap().to_owned());
    let (path, query) = url.split_once('?').unwrap();
    let key = ObjectKey::parse(path.split("/blobs/").nth(1).unwrap()).unwrap();
    // Bytes put straight into the folder, as S3 would: the events below are what complete.
    let put = |bytes: &[u8]| app.blobs.put(&key, query, Some("text/plain"), bytes, app.app.clock.now()).unwrap();
    put(b"first");
    assert_eq!(complete_upload(&app.app, &key).await.unwrap(), Arrival::Completed);
    put(b"other");
    let behind = todo_domain::App::new(
        todo_domain::app::Stores { files: Arc::new(BehindFiles(app.app.stores.files.clone())), ..app.app.stores.clone() },
        app.app.clock.clone(),
        app.app.settings.clone(),
    );
    assert_eq!(complete_upload(&behind, &key).await.unwrap(), Arrival::Replaced);
    let (task, file) = (TaskId::parse(&task).unwrap(), FileId::parse(&file).unwrap());
    assert_eq!(app.app.stores.files.get_file(task, file).await.unwrap(), None, "the record is gone");
    assert!(app.app.stores.blobs.head(&key).await.unwrap().is_none(), "and so are the bytes");
}
