//! Lambda function `session-create`: `POST /sessions`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::LOG_IN).await
}
