//! Lambda function `notification-update`: `PATCH /notifications/{id}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_notifications::UPDATE_NOTIFICATION).await
}
