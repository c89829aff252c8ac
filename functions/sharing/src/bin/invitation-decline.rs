//! Lambda function `invitation-decline`: `POST /invitations/{invitation_id}/decline`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::DECLINE_INVITATION).await
}
