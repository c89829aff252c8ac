//! `TestApp`: a fresh data dir, the whole API router, and request helpers.

use axum::Router;
use axum::body::Body;
use http::{Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tempfile::TempDir;
use todo_adapters::config::Env;
use todo_domain::App;
use tower::ServiceExt as _;

pub struct TestApp {
    pub app: App,
    /// The local blob folder, for placing objects without going through the routes.
    pub blobs: todo_adapters::embedded::LocalBlobs,
    router: Router,
    /// What the local server's loop works on (invitations to announce).
    embedded: todo_adapters::bootstrap::EmbeddedApp,
    dir: TempDir,
    /// A fault test's stores fail on purpose: their 503s are answers, not bugs.
    unavailable_expected: bool,
}

#[derive(Debug)]
pub struct Reply {
    pub status: StatusCode,
    pub headers: http::HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|value| value.to_str().ok())
    }

    /// Asserts a problem response with `status` that names `field` (when given).
    #[track_caller]
    pub fn assert_problem(&self, status: StatusCode, field: Option<&str>) {
        assert_eq!(self.status, status, "{:#}", self.body);
        assert_eq!(self.header("content-type"), Some("application/problem+json"), "{:#}", self.body);
        assert_eq!(self.body["status"], status.as_u16());
        assert!(self.body["type"].is_string() && self.body["title"].is_string() && self.body["detail"].is_string(), "{:#}", self.body);
        if let Some(field) = field {
            let fields: Vec<&str> = self.body["errors"]
                .as_array()
                .map(|errors| errors.iter().filter_map(|e| e["field"].as_str()).collect())
                .unwrap_or_default();
            assert!(fields.contains(&field), "expected field {field} in {:#}", self.body);
        }
    }
}

/// A signed-up user.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: String,
    pub access_token: String,
    pub refresh_token: String,
}

pub const PASSWORD: &str = "correct horse battery";
/// Where blob URLs point in route tests (requests go to the router, not the network).
pub const BASE_URL: &str = "http://localhost";

impl TestApp {
    pub fn spawn() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::open(dir)
    }

    fn open(dir: TempDir) -> Self {
        Self::open_with(dir, None)
    }

    /// On a clock the test moves (rules that depend on time passing).
    pub fn spawn_with_clock(clock: std::sync::Arc<dyn todo_domain::clock::Clock>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::assemble(dir, None, |app| App::new(app.stores.clone(), clock, app.settings.clone()))
    }

    /// The same routes on DynamoDB (moto's server at `TODO_TEST_AWS_ENDPOINT`, a fresh table)
    /// instead of SQLite, with the log of the calls it makes; file bytes stay in the local
    /// folder (the background loop's store stays SQLite, unused here).
    pub async fn spawn_on_dynamodb() -> (Self, todo_adapters::dynamodb::CallLog) {
        use todo_adapters::dynamodb::{CallLog, emulator_client};
        let endpoint = std::env::var("TODO_TEST_AWS_ENDPOINT")
            .expect("TODO_TEST_AWS_ENDPOINT is not set: run `cargo xtask test`, which starts moto's server (this test never skips)");
        let calls = CallLog::new();
        let table = format!("todo-api-{}", ulid::Ulid::new().to_string().to_lowercase());
        let app = Self::spawn_on_table(&endpoint, emulator_client(&endpoint, Some(&calls)), &table).await;
        (app, calls)
    }

    /// The routes on a new table `table` at `endpoint`, reached through `client`.
    pub async fn spawn_on_table(endpoint: &str, client: aws_sdk_dynamodb::Client, table: &str) -> Self {
        use todo_adapters::dynamodb::{DynamoStore, create_table, emulator_client};
        create_table(&emulator_client(endpoint, None), table).await.expect("create table on the emulator");
        let store = std::sync::Arc::new(DynamoStore::new(client, table));
        let dir = tempfile::tempdir().expect("temp dir");
        Self::assemble(dir, None, |app| {
            let stores = todo_domain::app::Stores::from_one(&store, app.stores.blobs.clone());
            App::new(stores, std::sync::Arc::new(todo_domain::clock::SystemClock), app.settings.clone())
        })
    }

    /// The routes over the embedded store with some ports replaced by `wrap` (fault injection).
    pub fn spawn_with_stores(wrap: impl FnOnce(todo_domain::app::Stores) -> todo_domain::app::Stores) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::assemble(dir, None, |app| App::new(wrap(app.stores.clone()), app.clock.clone(), app.settings.clone()))
    }

    /// The local server's app on the data dir `dir` (`keys` as `TODO_TOKEN_SECRET` would give
    /// them, else the data dir's own key), its `App` rebuilt by `rebuild` (other stores,
    /// another clock).
    fn assemble(dir: TempDir, keys: Option<todo_domain::auth::SigningKeys>, rebuild: impl FnOnce(&App) -> App) -> Self {
        let embedded =
            todo_adapters::bootstrap::embedded_app(&Env::from_fn(|_| None), dir.path(), keys, BASE_URL).expect("app on embedded store");
        let embedded = todo_adapters::bootstrap::EmbeddedApp { app: rebuild(&embedded.app), ..embedded };
        Self {
            router: todo_local::router(embedded.clone()),
            app: embedded.app.clone(),
            blobs: embedded.blobs.clone(),
            embedded,
            dir,
            unavailable_expected: false,
        }
    }

    /// The routes over real TCP on 127.0.0.1, behind the local server's front with `limits`,
    /// until the sender is dropped or sent to.
    pub async fn serve_over_tcp(&self, limits: todo_local::front::Limits) -> (std::net::SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind loopback");
        let address = listener.local_addr().expect("address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let router = self.router.clone();
        tokio::spawn(todo_local::front::serve(listener, router, limits, async move {
            let _ = stopped.await;
        }));
        (address, stop)
    }

    /// For fault tests: a 503 is then an answer to check, not a bug.
    pub fn expecting_unavailable(self) -> Self {
        Self { unavailable_expected: true, ..self }
    }

    /// With `keys` as `TODO_TOKEN_SECRET` would give them (else the data dir's own key).
    fn open_with(dir: TempDir, keys: Option<todo_domain::auth::SigningKeys>) -> Self {
        Self::assemble(dir, keys, App::clone)
    }

    /// What the local server's loop does each second for new invitations (the table stream's
    /// `invitation-announce` on AWS); how many it looked at.
    pub async fn announce_invitations(&self) -> u64 {
        todo_local::announce_new_invitations(&self.embedded).await.expect("announcing invitations")
    }

    /// Drops the app and opens the same data dir again, as a server restart would.
    pub fn restart(self) -> Self {
        self.restart_with(None)
    }

    /// A restart with other signing keys (a key rotation).
    pub fn restart_with(self, keys: Option<todo_domain::auth::SigningKeys>) -> Self {
        let Self { app, router, dir, blobs, embedded, .. } = self;
        drop((app, router, blobs, embedded));
        Self::open_with(dir, keys)
    }

    pub async fn send(&self, request: Request<Body>) -> Reply {
        let response = self.router.clone().oneshot(request).await.expect("routers are infallible");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("body").to_bytes();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        let expected = self.unavailable_expected && status == StatusCode::SERVICE_UNAVAILABLE;
        assert!(!status.is_server_error() || expected, "5xx is a bug: {status} {body:#}");
        Reply { status, headers, body }
    }

    pub fn request(method: Method, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: Option<Vec<u8>>) -> Request<Body> {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(token) = token {
            builder = builder.header("authorization", format!("Bearer {token}"));
        }
        if body.is_some() && !headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-type")) {
            builder = builder.header("content-type", "application/json");
        }
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(body.map_or_else(Body::empty, Body::from)).expect("request")
    }

    pub async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> Reply {
        self.call_with(method, path, token, &[], body).await
    }

    pub async fn call_with(&self, method: Method, path: &str, token: Option<&str>, headers: &[(&str, &str)], body: Option<Value>) -> Reply {
        let body = body.map(|body| serde_json::to_vec(&body).expect("json"));
        self.send(Self::request(method, path, token, headers, body)).await
    }

    /// `owner` invites `email` to `list` as `role`: the invitation's id.
    pub async fn invite(&self, owner: &Account, list: &str, email: &str, role: &str) -> String {
        let reply = self
            .call(
                Method::POST,
                &format!("/lists/{list}/invitations"),
                Some(&owner.access_token),
                Some(json!({"email": email, "role": role})),
            )
            .await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{:#}", reply.body);
        reply.body["id"].as_str().unwrap().to_owned()
    }

    /// `owner` shares `list` with `member` (whose email is `email`) as `role`: invited, accepted.
    pub async fn share(&self, owner: &Account, list: &str, member: &Account, email: &str, role: &str) {
        let invitation = self.invite(owner, list, email, role).await;
        let reply = self.call(Method::POST, &format!("/invitations/{invitation}/accept"), Some(&member.access_token), None).await;
        assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
    }

    pub async fn sign_up(&self, email: &str) -> Account {
        let reply = self.call(Method::POST, "/users", None, Some(json!({"email": email, "password": PASSWORD}))).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        Account {
            id: reply.body["user"]["id"].as_str().unwrap().to_owned(),
            access_token: reply.body["access_token"].as_str().unwrap().to_owned(),
            refresh_token: reply.body["refresh_token"].as_str().unwrap().to_owned(),
        }
    }

    pub async fn create_task(&self, account: &Account, body: Value) -> Value {
        let reply = self.call(Method::POST, &format!("/lists/{}/tasks", account.id), Some(&account.access_token), Some(body)).await;
        assert_eq!(reply.status, StatusCode::CREATED, "{:#}", reply.body);
        reply.body
    }

    /// Every task the account can see, following cursors; `query` without `cursor`.
    pub async fn all_tasks(&self, account: &Account, query: &str) -> Vec<Value> {
        let mut items = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..1000 {
            let separator = if query.is_empty() { "" } else { "&" };
            let path = match &cursor {
                Some(cursor) => format!("/lists/{}/tasks?{query}{separator}cursor={cursor}", account.id),
                None => format!("/lists/{}/tasks?{query}", account.id),
            };
            let reply = self.call(Method::GET, &path, Some(&account.access_token), None).await;
            assert_eq!(reply.status, StatusCode::OK, "{:#}", reply.body);
            items.extend(reply.body["items"].as_array().unwrap().iter().cloned());
            match reply.body["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => return items,
            }
        }
        panic!("pagination did not end");
    }
}
