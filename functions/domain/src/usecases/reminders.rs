//! The reminders job: every open task whose reminder time or due date has passed gets one
//! notification per alarm — exactly once, however runs overlap, crash or repeat.
//!
//! Exactly-once rests on the store, not on this process: a notification's id is derived
//! from its task, kind and alarm time, and it is written only if absent, in the same atomic
//! write that records the alarm on the task (conditional on the task being as read). Tasks
//! are found through the due-alarm index, never by reading every task.

use serde::Serialize;
use tracing::instrument;

use crate::app::App;
use crate::error::Error;
use crate::model::{ListId, Notification, TaskId, Timestamp};
use crate::ports::SendOutcome;

/// What one run did (logged as one structured line, and returned to the runtime).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Tasks the index named as having an alarm due.
    pub tasks_checked: u64,
    pub sent: u64,
    /// Notifications another (overlapping or earlier, interrupted) run had already sent.
    pub already_sent: u64,
    /// Alarms not sent because the task changed first (completed, moved, deleted).
    pub superseded: u64,
    /// Tasks whose alarms could not be handled this run (the store failed): retried next run.
    pub failed: u64,
    /// True when the batch limit was reached: the next run continues.
    pub more: bool,
}

/// How many tasks one run handles at most.
pub const BATCH: u32 = 500;
/// A task has at most two alarms; a few more attempts absorb concurrent edits.
const ATTEMPTS_PER_TASK: usize = 4;

/// One run at `now`. Progress is durable per notification: a task that fails is skipped,
/// and the run then returns the error to the runtime (so the schedule retries and alarms
/// fire); the retry sends only what is still missing.
#[instrument(skip_all)]
pub async fn run_once(app: &App, now: Timestamp) -> Result<Outcome, Error> {
    let mut due = app.stores.notifications.tasks_with_due_alarms(now, BATCH).await?;
    due.items.sort_unstable();
    due.items.dedup();
    let mut outcome = Outcome { more: due.more, ..Outcome::default() };
    // One task failing must not starve the rest: carry on, report the failure at the end.
    let mut first_error = None;
    for (list_id, task_id) in due.items {
        outcome.tasks_checked += 1;
        if let Err(error) = notify_task(app, list_id, task_id, now, &mut outcome).await {
            tracing::warn!(%list_id, %task_id, %error, "could not notify a task's alarms; the next run retries");
            outcome.failed += 1;
            first_error.get_or_insert(error);
        }
    }
    tracing::info!(
        tasks_checked = outcome.tasks_checked,
        sent = outcome.sent,
        already_sent = outcome.already_sent,
        superseded = outcome.superseded,
        failed = outcome.failed,
        more = outcome.more,
        "reminders run finished"
    );
    match first_error {
        // Everything else this run did is stored: the retry only redoes what failed.
        Some(error) => Err(error),
        None => Ok(outcome),
    }
}

/// Sends every alarm of one task that is due at `now`.
/// Notifications go to the task's creator (docs/design/lists-and-sharing.md: once tasks can
/// be assigned, to the assignee).
async fn notify_task(app: &App, list: ListId, task_id: TaskId, now: Timestamp, outcome: &mut Outcome) -> Result<(), Error> {
    let lifetime = chrono::Duration::seconds(app.settings.notification_seconds);
    let Some(mut task) = app.stores.tasks.get_task(list, task_id).await? else { return Ok(()) };
    for _ in 0..ATTEMPTS_PER_TASK {
        let Some(alarm) = task.next_alarm().filter(|alarm| alarm.at <= now) else { break };
        let notified = task.with_notified(alarm);
        let notification = Notification::for_alarm(&task, alarm, now, lifetime);
        match app.stores.notifications.send_notification(&task, &notified, &notification).await? {
            SendOutcome::Sent => {
                outcome.sent += 1;
                task = notified;
            }
            SendOutcome::AlreadySent => {
                outcome.already_sent += 1;
                task = notified;
            }
            SendOutcome::TaskChanged => {
                outcome.superseded += 1;
                match app.stores.tasks.get_task(list, task_id).await? {
                    Some(fresh) => task = fresh,
                    None => break,
                }
            }
        }
    }
    Ok(())
}
