//! The daily housekeeping job: finish what interrupted deletions (of accounts and lists) left, give up on uploads
//! that never arrived, and expire what the store's own TTL does not (the embedded store has
//! none). Bounded per run: whatever is left is picked up by the next run.

use serde::Serialize;
use tracing::instrument;

use crate::app::App;
use crate::error::Error;
use crate::model::Timestamp;
use crate::usecases::files::{self, Expiry};

/// What one run did (logged as one structured line, and returned to the runtime).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Deleted accounts whose leftovers (files, tasks, sessions) were removed.
    pub accounts_finished: u64,
    /// Deleted lists whose tasks and files were removed.
    pub lists_finished: u64,
    /// Pending uploads past their URL expiry and grace period: metadata (and any object) removed.
    pub stale_uploads_removed: u64,
    /// Pending uploads whose bytes had arrived unnoticed: completed instead.
    pub late_uploads_completed: u64,
    pub expired_sessions: u64,
    pub expired_idempotency_keys: u64,
    pub expired_notifications: u64,
    /// Password-failure counts past the longest lock (stores without a TTL).
    pub forgotten_password_failures: u64,
    /// True when a limit was reached: the next run continues.
    pub more: bool,
    /// Steps (or single uploads) that failed; the others still ran. Seen in the run's log
    /// line: a run with failures returns its first one instead (so it is retried and
    /// alarmed on), with everything else done.
    pub failures: u64,
}

/// How much one run may do of each kind of work.
pub const BATCH: u32 = 100;
/// Stale uploads are cheap to check (a read and a HEAD) and hold places a task could use:
/// a daily run gives up on more of them.
pub const STALE_UPLOAD_BATCH: u32 = 1000;

/// Failures met during a run: each logged, the first kept to report.
#[derive(Default)]
struct Failures {
    count: u64,
    first: Option<Error>,
}

impl Failures {
    /// The value of a step that worked; for one that failed, `None` (and the failure noted).
    fn kept<T>(&mut self, step: &str, result: Result<T, Error>) -> Option<T> {
        match result {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::error!(step, error = %error, "a housekeeping step failed; the others go on");
                self.count += 1;
                self.first.get_or_insert(error);
                None
            }
        }
    }
}

/// One run at `now`. Safe to run concurrently with live traffic and with itself: every step
/// is idempotent. Progress is durable as it happens (each finished account drops its marker),
/// so an error after some work repeats nothing with side effects on the next run. A failing
/// step (or upload) never keeps the others from running; the run then ends in the first
/// failure, everything else done.
#[instrument(skip_all)]
pub async fn run_once(app: &App, now: Timestamp) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    let mut failures = Failures::default();
    let accounts = crate::usecases::users::finish_pending_deletions(app, BATCH).await;
    if let Some((finished, more)) = failures.kept("account deletions", accounts) {
        outcome.accounts_finished = finished;
        outcome.more |= more;
    }
    let lists = crate::usecases::lists::finish_pending_list_deletions(app, BATCH).await;
    if let Some((finished, more)) = failures.kept("list deletions", lists) {
        outcome.lists_finished = finished;
        outcome.more |= more;
    }
    let grace = std::time::Duration::from_secs(app.settings.files.stale_upload_grace_seconds);
    let stale_before =
        Timestamp::from_unix_millis(now.unix_millis().saturating_sub(i64::try_from(grace.as_millis()).unwrap_or(i64::MAX))).unwrap_or(now);
    let stale = app.stores.files.stale_uploads(stale_before, STALE_UPLOAD_BATCH).await.map_err(Error::from);
    if let Some(stale) = failures.kept("stale uploads", stale) {
        outcome.more |= stale.more;
        for (task, id) in stale.items {
            match failures.kept("a stale upload", files::expire_upload(app, task, id).await) {
                Some(Expiry::Removed) => outcome.stale_uploads_removed += 1,
                Some(Expiry::CompletedLate) => outcome.late_uploads_completed += 1,
                Some(Expiry::NotPending) | None => {}
            }
        }
    }
    let mut purged =
        |step, result: Result<u64, crate::ports::StoreError>| failures.kept(step, result.map_err(Error::from)).unwrap_or_default();
    outcome.expired_sessions = purged("expired sessions", app.stores.sessions.purge_expired_sessions(now, BATCH).await);
    outcome.expired_idempotency_keys = purged("expired idempotency keys", app.stores.tasks.purge_expired_idempotency(now, BATCH).await);
    outcome.expired_notifications = purged("expired notifications", app.stores.notifications.purge_expired_notifications(now, BATCH).await);
    outcome.forgotten_password_failures =
        purged("forgotten password failures", app.stores.throttle.purge_forgotten_failures(now, BATCH).await);
    outcome.failures = failures.count;
    outcome.more |=
        [outcome.expired_sessions, outcome.expired_idempotency_keys, outcome.expired_notifications, outcome.forgotten_password_failures]
            .contains(&u64::from(BATCH));
    tracing::info!(
        accounts_finished = outcome.accounts_finished,
        lists_finished = outcome.lists_finished,
        stale_uploads_removed = outcome.stale_uploads_removed,
        late_uploads_completed = outcome.late_uploads_completed,
        expired_sessions = outcome.expired_sessions,
        expired_idempotency_keys = outcome.expired_idempotency_keys,
        expired_notifications = outcome.expired_notifications,
        forgotten_password_failures = outcome.forgotten_password_failures,
        more = outcome.more,
        failures = outcome.failures,
        "housekeeping run finished"
    );
    match failures.first {
        Some(first) => Err(first),
        None => Ok(outcome),
    }
}
