//! Lambda function `task-create`: `POST /lists/{list_id}/tasks`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_tasks::CREATE_TASK).await
}
