//! Lambda function `member-remove`: `DELETE /lists/{list_id}/members/{user_id}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_sharing::REMOVE_MEMBER).await
}
