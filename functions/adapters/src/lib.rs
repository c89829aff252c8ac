//! Adapters behind the domain's ports, and the start-up code every entry point shares.
//!
//! - `embedded` (feature `embedded`): SQLite (bundled) — the local default, and a real ACID
//!   store. Lambda binaries are built without it.
//! - `config` / `bootstrap`: typed configuration from the environment, parsed once, and
//!   the `App` built from it once per cold start.
//! - `lambda`: the few lines every Lambda binary's `main` delegates to.

pub mod aws_http;
pub mod bootstrap;
pub mod config;
pub mod dynamodb;
#[cfg(feature = "embedded")]
pub mod embedded;
pub mod lambda;
pub mod s3;
pub mod secrets;
pub mod sqs;
pub mod telemetry;
