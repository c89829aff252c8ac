//! Lambda function `reminders-shard`: the shards queue's messages, one shard's worker each.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, event| async move { Ok(todo_jobs::fan_out::run_shards(&app, event).await) }).await
}
