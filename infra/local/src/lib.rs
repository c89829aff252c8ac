//! The local API server: every operation of every service on one port, over the embedded
//! store. It mounts the very routers the Lambda binaries serve (`todo_http::router`).

use std::net::SocketAddr;
use std::path::PathBuf;

pub mod blobs;
pub mod front;

use todo_adapters::bootstrap::EmbeddedApp;
use todo_adapters::config::{self, Env};
use todo_http::Operation;

/// Every operation the API offers, across services.
pub fn operations() -> impl Iterator<Item = &'static Operation> {
    todo_users::OPERATIONS
        .into_iter()
        .chain(todo_lists::OPERATIONS)
        .chain(todo_tasks::OPERATIONS)
        .chain(todo_files::OPERATIONS)
        .chain(todo_notifications::OPERATIONS)
        .chain(todo_sharing::OPERATIONS)
}

/// The API's OpenAPI 3.1 document: every service's routes (each service crate's
/// `openapi()`, from its handlers' `#[utoipa::path]`) with the shared parts
/// (`todo_http::openapi::document`). `docs/openapi.json` is a copy, kept current by a test.
pub fn openapi() -> utoipa::openapi::OpenApi {
    todo_http::openapi::document([
        todo_users::openapi(),
        todo_lists::openapi(),
        todo_tasks::openapi(),
        todo_files::openapi(),
        todo_notifications::openapi(),
        todo_sharing::openapi(),
    ])
}

/// The document as served and kept in `docs/openapi.json`: keys sorted, so the same code
/// always prints the same text.
pub fn openapi_json() -> String {
    let document = serde_json::to_value(openapi()).expect("the OpenAPI document serialises");
    serde_json::to_string_pretty(&document).expect("JSON values serialise") + "\n"
}

/// The whole API as one router, plus the local blob URLs, the web app (`GET /`) and the
/// OpenAPI document (`GET /openapi.json`).
pub fn router(embedded: EmbeddedApp) -> axum::Router {
    let document = bytes::Bytes::from(openapi_json());
    let serve_document = move || std::future::ready(([(http::header::CONTENT_TYPE, "application/json")], document.clone()));
    todo_http::router(operations(), embedded.app.clone())
        .merge(blobs::routes(embedded.blobs, embedded.app))
        .merge(todo_web::router(&todo_web::WebConfig::default()))
        .route("/openapi.json", axum::routing::get(serve_document))
}

/// The local server's configuration, from `TODO_ADDR`, `TODO_DATA_DIR` and
/// `TODO_TOKEN_SECRET` (optional: by default a secret is generated once and kept in the
/// data dir, so tokens survive restarts).
#[derive(Debug)]
pub struct LocalConfig {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
}

impl LocalConfig {
    pub fn from_env(env: &Env<'_>) -> Result<Self, config::ConfigError> {
        let addr = env.parsed("TODO_ADDR", config::DEFAULT_ADDR.parse().expect("the default address parses"))?;
        Ok(Self { addr, data_dir: config::data_dir(env) })
    }
}

/// Builds the app on the embedded store and serves it until Ctrl-C or SIGTERM.
pub async fn serve(env: &Env<'_>) -> anyhow::Result<()> {
    let config = LocalConfig::from_env(env)?;
    let listener = tokio::net::TcpListener::bind(config.addr)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {} (TODO_ADDR): {e}", config.addr))?;
    let url = format!("http://{}", listener.local_addr()?);
    // Blob URLs point back at this server, wherever it actually bound.
    let app = todo_adapters::bootstrap::embedded_app(env, &config.data_dir, config::token_keys(env)?, &url)?;
    tracing::info!(data_dir = %config.data_dir.display(), "To-Do API listening on {url} (the web app: {url}/)");
    tracing::info!(
        "try: curl -s -X POST {url}/users -H 'content-type: application/json' -d '{{\"email\":\"ada@example.com\",\"password\":\"correct horse battery\"}}'"
    );
    for job in todo_jobs::JOBS {
        tokio::spawn(run_on_schedule(job, app.app.clone()));
    }
    tokio::spawn(follow_changes(app.clone()));
    front::serve(listener, router(app), front::Limits::DEFAULT, shutdown_signal()).await;
    tracing::info!("stopped");
    Ok(())
}

/// Runs `job` now and then every `job.every`, as its EventBridge schedule does on AWS.
async fn run_on_schedule(job: todo_jobs::Job, app: todo_domain::App) {
    let mut ticks = tokio::time::interval(job.every);
    loop {
        ticks.tick().await;
        match job.run_once(&app).await {
            Ok(outcome) => tracing::info!(job = job.name, %outcome, "scheduled job ran"),
            Err(error) => tracing::error!(job = job.name, error = %error, "scheduled job failed; it runs again next period"),
        }
    }
}

/// How often the local server does what AWS's table stream would deliver.
pub const FOLLOW_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// Does what the table stream's functions do on AWS, shortly after the write that calls for
/// it, each `FOLLOW_EVERY`, as two independent loops (one's failures never hold up the
/// other): `finish_deletions` and `announce_invitations`.
async fn follow_changes(embedded: EmbeddedApp) {
    tokio::join!(finish_deletions(&embedded.app), announce_invitations(&embedded));
}

/// Finishes account and list deletions (`account-purge` on AWS): a query of the indexed,
/// nearly always empty deletion markers. After a failure it waits a minute; housekeeping's
/// daily run is the safety net either way.
async fn finish_deletions(app: &todo_domain::App) {
    let mut ticks = tokio::time::interval(FOLLOW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        let batch = todo_domain::usecases::housekeeping::BATCH;
        let accounts = todo_domain::usecases::users::finish_pending_deletions(app, batch).await;
        let lists = todo_domain::usecases::lists::finish_pending_list_deletions(app, batch).await;
        match accounts.and_then(|accounts| Ok((accounts, lists?))) {
            Ok(((0, _), (0, _))) => {}
            Ok(((accounts, more_accounts), (lists, more_lists))) => {
                tracing::info!(accounts, lists, more = more_accounts || more_lists, "deletions finished");
            }
            Err(error) => {
                tracing::error!(error = %error, "finishing deletions failed; retrying in a minute");
                tokio::time::sleep(std::time::Duration::from_secs(60)).await;
            }
        }
    }
}

/// Tells invitees of new invitations (`invitation-announce` on AWS).
async fn announce_invitations(embedded: &EmbeddedApp) {
    let mut ticks = tokio::time::interval(FOLLOW_EVERY);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        match announce_new_invitations(embedded).await {
            Ok(0) => {}
            Ok(announced) => tracing::info!(announced, "invitations announced"),
            Err(error) => tracing::error!(error = %error, "reading the invitations to announce failed"),
        }
    }
}

/// Announces every invitation not yet announced (`usecases::sharing::announce_invitation`,
/// as `invitation-announce` does for the stream's records), oldest first; how many. One that
/// fails is logged and left for the next call, without holding up the ones after it.
pub async fn announce_new_invitations(embedded: &EmbeddedApp) -> Result<u64, todo_domain::Error> {
    let (mut announced, mut after) = (0, None);
    loop {
        let page = embedded.store.unannounced_invitations(after, todo_domain::usecases::housekeeping::BATCH).await?;
        let Some(&(_, last)) = page.last() else { return Ok(announced) };
        after = Some(last);
        for (email, id) in page {
            let outcome = todo_domain::usecases::sharing::announce_invitation(&embedded.app, &email, id).await;
            match outcome {
                Ok(_) => {
                    embedded.store.mark_announced(id).await?;
                    announced += 1;
                }
                Err(error) => tracing::error!(invitation_id = %id, error = %error, "announcing an invitation failed; trying again later"),
            }
        }
    }
}

/// `cargo run -- job <name>`: one run against `TODO_DATA_DIR`, safe while the server runs
/// (SQLite in WAL mode; every write is a short immediate transaction). Prints the outcome.
pub async fn run_job(env: &Env<'_>, name: &str) -> anyhow::Result<()> {
    let job = todo_jobs::Job::named(name)
        .ok_or_else(|| anyhow::anyhow!("no job named {name:?}; jobs: {}", todo_jobs::JOBS.map(|job| job.name).join(", ")))?;
    let config = LocalConfig::from_env(env)?;
    let app = todo_adapters::bootstrap::embedded_app(env, &config.data_dir, config::token_keys(env)?, &format!("http://{}", config.addr))?;
    let outcome = job.run_once(&app.app).await.map_err(|error| anyhow::anyhow!("{name} failed: {error}"))?;
    println!("{outcome}");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
