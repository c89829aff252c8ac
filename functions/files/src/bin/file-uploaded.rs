//! Lambda function `file-uploaded`: the bucket's `s3:ObjectCreated:*` events.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, event| async move { todo_files::uploaded::on_objects_created(&app, event).await }).await
}
