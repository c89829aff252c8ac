//! Lambda function `reminders`: the every-minute schedule (any event payload; it is ignored).
//! Sends one message per shard to the shards queue; `reminders-shard` does the work.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    let dispatch = |app, queue, _: serde_json::Value| async move { todo_jobs::fan_out::dispatch(&app, &queue).await };
    todo_adapters::lambda::serve_events_with(todo_jobs::fan_out::shards_queue, dispatch).await
}
