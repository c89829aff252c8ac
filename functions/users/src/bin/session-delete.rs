//! Lambda function `session-delete`: `DELETE /sessions/current`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_users::LOG_OUT).await
}
