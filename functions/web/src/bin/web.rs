//! Lambda function `web`: `GET /` and `GET /assets/{proxy+}`, the web app.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_http::Error> {
    todo_web::serve_lambda().await
}
