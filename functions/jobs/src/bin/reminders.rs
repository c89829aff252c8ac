//! Lambda function `reminders`: the every-few-minutes schedule (any event payload; it is ignored).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, _: serde_json::Value| async move { todo_jobs::REMINDERS.run_once(&app).await }).await
}
