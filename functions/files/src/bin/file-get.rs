//! Lambda function `file-get`: `GET /lists/{list_id}/tasks/{task_id}/files/{file_id}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_files::GET_FILE).await
}
