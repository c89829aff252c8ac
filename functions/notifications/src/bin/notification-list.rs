//! Lambda function `notification-list`: `GET /notifications`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_notifications::LIST_NOTIFICATIONS).await
}
