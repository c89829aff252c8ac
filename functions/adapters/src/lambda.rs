//! What every Lambda binary runs: telemetry, the app built once, one operation served.

use todo_domain::http::Operation;

/// Serves one operation under the Lambda runtime. Configuration and clients are built
/// here, once per cold start; a bad configuration fails the cold start with its cause.
pub async fn serve(operation: &'static Operation) -> Result<(), lambda_http::Error> {
    crate::telemetry::init_lambda();
    let app = crate::bootstrap::from_env().await.map_err(|error| {
        tracing::error!(error = format!("{error:#}"), binary = operation.binary, "cold start failed");
        error
    })?;
    lambda_http::run(operation.router(app)).await
}
