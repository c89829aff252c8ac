//! Lambda function `reminders-shard`: the shards queue's messages, one shard's worker each.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, event| async move { todo_jobs::fan_out::handle(&app, event).await }).await
}
