//! Lambda function `invitation-announce`: the table stream's new invitations, told to their invitees.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve_events(|app, event| async move { todo_sharing::announce::on_new_invitations(&app, event).await }).await
}
