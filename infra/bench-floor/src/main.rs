//! `runtime-floor`: answers every event with itself. `cargo xtask bench` measures it beside
//! the real functions, in the same run, as the floor their cold start is compared with.

use lambda_http::lambda_runtime::{self, LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(|event: LambdaEvent<serde_json::Value>| async move { Ok::<_, lambda_runtime::Error>(event.payload) }))
        .await
}
