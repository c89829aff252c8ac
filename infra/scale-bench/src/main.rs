//! `scale-bench`: jobs measured at scale as production runs them, on the embedded store and
//! on DynamoDB (moto's server at `--endpoint`). `scale-bench reminders ...` (reminders.rs,
//! `cargo xtask reminders-bench`) and `scale-bench purge ...` (purge.rs, `cargo xtask
//! purge-bench`); each prints one JSON line of figures per run.

// Counts and durations become figures for people to read: f64 precision is plenty.
#![allow(clippy::cast_precision_loss, clippy::cast_possible_truncation, clippy::cast_sign_loss)]

mod common;
mod purge;
mod reminders;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    match std::env::args().nth(1).as_deref() {
        Some("reminders") => reminders::run().await,
        Some("purge") => purge::run().await,
        _ => anyhow::bail!("usage: scale-bench <reminders | purge> [--endpoint URL] [options]"),
    }
}
