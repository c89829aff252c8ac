//! Lambda function `list-create`: `POST /lists`.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_adapters::lambda::serve(&todo_lists::CREATE_LIST).await
}
