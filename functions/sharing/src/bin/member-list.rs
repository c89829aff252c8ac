//! Lambda function `member-list`: `GET /lists/{list_id}/members`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::LIST_MEMBERS).await
}
