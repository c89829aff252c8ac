//! `cargo run`: the whole API on this machine, on the embedded store.
//! `cargo run -- job <name>`: run one scheduled job once against the same data.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    todo_adapters::telemetry::init_local();
    let env = todo_adapters::config::Env::process();
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>().as_slice() {
        [] => todo_local::serve(&env).await,
        ["job", name] => todo_local::run_job(&env, name).await,
        _ => anyhow::bail!("usage: todo-local [job <{}>]", todo_jobs::JOBS.map(|job| job.name).join("|")),
    }
}
