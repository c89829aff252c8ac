//! What every Lambda binary runs: telemetry, the app built once, one operation served.

use todo_http::Operation;

use crate::bootstrap::KeyUse;

/// Serves one operation under the Lambda runtime. Configuration and clients are built
/// here, once per cold start; a bad configuration fails the cold start with its cause.
pub async fn serve(operation: &'static Operation) -> Result<(), lambda_http::Error> {
    crate::telemetry::init_lambda();
    let app = crate::bootstrap::from_env(KeyUse::Signs).await.map_err(|error| {
        tracing::error!(error = format!("{error:#}"), binary = operation.binary, "cold start failed");
        error
    })?;
    lambda_http::run(operation.router(app)).await
}

/// Serves a function driven by events (S3, schedules, the table stream, a queue) rather than
/// HTTP: `handler` gets the app built once per cold start and each event; an error fails the
/// invocation, so Lambda retries it as the template says (a queue's worker may instead answer
/// which messages failed). These functions never see the signing keys.
pub async fn serve_events<E, R, F, Fut>(handler: F) -> Result<(), lambda_http::Error>
where
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(todo_domain::App, E) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, todo_domain::Error>> + Send + 'static,
{
    serve_events_with(|_| Ok(()), move |app, (), event| handler(app, event)).await
}

/// `serve_events` for a function that needs more than the app: `setup` builds it from the
/// environment once per cold start (a bad configuration fails the cold start, as the app's
/// does), and `handler` gets a clone of it with each event.
pub async fn serve_events_with<S, E, R, F, Fut>(
    setup: impl FnOnce(&crate::config::Env<'_>) -> Result<S, crate::config::ConfigError>,
    handler: F,
) -> Result<(), lambda_http::Error>
where
    S: Clone + Send + Sync + 'static,
    E: serde::de::DeserializeOwned + Send + 'static,
    R: serde::Serialize + Send + 'static,
    F: Fn(todo_domain::App, S, E) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = Result<R, todo_domain::Error>> + Send + 'static,
{
    crate::telemetry::init_lambda();
    let cold_start_failed = |error: &dyn std::fmt::Display| tracing::error!(error = format!("{error:#}"), "cold start failed");
    let app = crate::bootstrap::from_env(KeyUse::Never).await.inspect_err(|error| cold_start_failed(error))?;
    let state = setup(&crate::config::Env::process()).inspect_err(|error| cold_start_failed(error))?;
    let handler = &handler;
    lambda_http::lambda_runtime::run(lambda_http::lambda_runtime::service_fn(move |event: lambda_http::lambda_runtime::LambdaEvent<E>| {
        let (app, state) = (app.clone(), state.clone());
        async move { handler(app, state, event.payload).await.map_err(|error| lambda_http::Error::from(error.to_string())) }
    }))
    .await
}
