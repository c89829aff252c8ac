//! Lambda function `list-update`: `PATCH /lists/{list_id}`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_lists::UPDATE_LIST).await
}
