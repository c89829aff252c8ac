//! Lambda function `invitation-revoke`: `DELETE /lists/{list_id}/invitations/{invitation_id}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::REVOKE_INVITATION).await
}
