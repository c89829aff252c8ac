//! Lambda function `list-list`: `GET /lists`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_tasks::LIST_LISTS).await
}
