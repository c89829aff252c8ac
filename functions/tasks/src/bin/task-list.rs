//! Lambda function `task-list`: `GET /lists/{list_id}/tasks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_tasks::LIST_TASKS).await
}
