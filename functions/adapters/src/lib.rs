//! Adapters behind the domain's ports, and the start-up code every entry point shares.
//!
//! - `embedded`: SQLite (bundled) — the local default, and a real ACID store.
//! - `config` / `bootstrap`: typed configuration from the environment, parsed once, and
//!   the `App` built from it once per cold start.
//! - `lambda`: the few lines every Lambda binary's `main` delegates to.

pub mod bootstrap;
pub mod config;
pub mod dynamodb;
pub mod embedded;
pub mod lambda;
pub mod s3;
pub mod telemetry;
