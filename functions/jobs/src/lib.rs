//! Scheduled jobs. Each is a `run_once(now)` use case in the domain crate, run by the local
//! server on the job's schedule and on demand with `cargo run -- job <name>`. On AWS an
//! EventBridge schedule invokes the job's function: `housekeeping` runs `run_once`;
//! `reminders` fans out instead, a worker invocation per shard (`fan_out`).

pub mod fan_out;

use std::time::Duration;

use todo_domain::usecases::{housekeeping, reminders};
use todo_domain::{App, Error};

/// A job the scheduler knows: its name (and binary), its period, and how to run it once.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub name: &'static str,
    /// How often the local server runs it: the template's schedule parameter has the same
    /// default (a test checks).
    pub every: Duration,
}

/// Notifies reminders and overdue tasks. Its period bounds how late a notification can be.
pub const REMINDERS: Job = Job { name: "reminders", every: Duration::from_secs(60) };
pub const HOUSEKEEPING: Job = Job { name: "housekeeping", every: Duration::from_secs(24 * 3600) };

/// Every scheduled job.
pub const JOBS: [Job; 2] = [REMINDERS, HOUSEKEEPING];

impl Job {
    pub fn named(name: &str) -> Option<Self> {
        JOBS.into_iter().find(|job| job.name == name)
    }

    /// Runs the job once at the app's current time, in this process; the outcome as JSON (what
    /// `cargo run -- job` prints and the housekeeping function returns).
    pub async fn run_once(&self, app: &App) -> Result<serde_json::Value, Error> {
        let now = app.clock.now();
        let outcome = match self.name {
            "reminders" => serde_json::to_value(reminders::run_once(app, now).await?),
            "housekeeping" => serde_json::to_value(housekeeping::run_once(app, now).await?),
            other => unreachable!("no job named {other}"),
        };
        Ok(outcome.expect("outcomes serialise"))
    }
}
