//! Lambda function `file-list`: `GET /lists/{list_id}/tasks/{task_id}/files`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_files::LIST_FILES).await
}
