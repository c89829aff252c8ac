//! Lambda function `session-refresh`: `POST /sessions/refresh`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::REFRESH).await
}
