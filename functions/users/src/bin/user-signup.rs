//! Lambda function `user-signup`: `POST /users`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::SIGN_UP).await
}
