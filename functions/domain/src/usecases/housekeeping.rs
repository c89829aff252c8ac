//! The daily housekeeping job: finish what interrupted deletions left, and expire what the
//! store's own TTL does not (the embedded store has none). Bounded per run: whatever is left
//! is picked up by the next run.

use serde::Serialize;
use tracing::instrument;

use crate::app::App;
use crate::error::Error;
use crate::model::Timestamp;

/// What one run did (logged as one structured line, and returned to the runtime).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Deleted accounts whose leftovers (files, tasks, sessions) were removed.
    pub accounts_finished: u64,
    pub expired_sessions: u64,
    pub expired_idempotency_keys: u64,
    /// True when a limit was reached: the next run continues.
    pub more: bool,
}

/// How much one run may do of each kind of work.
pub const BATCH: u32 = 100;

/// One run at `now`. Safe to run concurrently with live traffic and with itself: every step
/// is idempotent. Progress is durable as it happens (each finished account drops its marker),
/// so an error after some work repeats nothing with side effects on the next run.
#[instrument(skip_all)]
pub async fn run_once(app: &App, now: Timestamp) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    let pending = app.stores.users.pending_deletions(BATCH).await?;
    outcome.more |= pending.len() == BATCH as usize;
    for user in pending {
        crate::usecases::users::remove_leftovers(app, user).await?;
        outcome.accounts_finished += 1;
    }
    outcome.expired_sessions = app.stores.sessions.purge_expired_sessions(now, BATCH).await?;
    outcome.expired_idempotency_keys = app.stores.tasks.purge_expired_idempotency(now, BATCH).await?;
    outcome.more |= outcome.expired_sessions == u64::from(BATCH) || outcome.expired_idempotency_keys == u64::from(BATCH);
    tracing::info!(
        accounts_finished = outcome.accounts_finished,
        expired_sessions = outcome.expired_sessions,
        expired_idempotency_keys = outcome.expired_idempotency_keys,
        more = outcome.more,
        "housekeeping run finished"
    );
    Ok(outcome)
}
