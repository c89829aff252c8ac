//! Lambda function `invitation-create`: `POST /lists/{list_id}/invitations`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::CREATE_INVITATION).await
}
