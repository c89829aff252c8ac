//! Lambda function `invitation-received`: `GET /invitations`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::RECEIVED_INVITATIONS).await
}
