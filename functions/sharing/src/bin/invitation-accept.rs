//! Lambda function `invitation-accept`: `POST /invitations/{invitation_id}/accept`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::ACCEPT_INVITATION).await
}
