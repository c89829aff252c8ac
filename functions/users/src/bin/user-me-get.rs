//! Lambda function `user-me-get`: `GET /users/me`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::GET_ME).await
}
