//! Lambda function `account-purge`: the table stream's new account-deletion markers.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, event| async move { todo_users::purge::on_deletion_markers(&app, event).await }).await
}
