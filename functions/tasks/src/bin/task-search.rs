//! Lambda function `task-search`: `GET /tasks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_tasks::LIST_ALL_TASKS).await
}
