//! Lambda function `user-me-update`: `PATCH /users/me`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::UPDATE_ME).await
}
