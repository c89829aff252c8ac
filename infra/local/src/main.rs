//! `cargo run`: the whole API on this machine, on the embedded store.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_adapters::telemetry::init_local();
    todo_local::serve(&todo_adapters::config::Env::process()).await
}
