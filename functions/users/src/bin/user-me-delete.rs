//! Lambda function `user-me-delete`: `DELETE /users/me`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::DELETE_ME).await
}
