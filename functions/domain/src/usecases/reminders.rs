//! The reminders job: every open task whose reminder time or due date has passed gets one
//! notification per alarm — exactly once, however runs overlap, crash or repeat — and
//! promptly for everyone, however many alarms one person piles up.
//!
//! Exactly-once rests on the store, not on this process: a notification's id is derived
//! from its task, kind and alarm time, and it is written only if absent, in the same atomic
//! write that records the alarm on the task (conditional on the task being as read). Tasks
//! are found through the due-alarm index, never by reading every task.
//!
//! Scale: the index is split in shards (`NotificationStore::alarm_shards`), each handled by
//! its own worker (`run_shard`), which sends `Fairness::concurrency` alarms at a time and
//! keeps going, pass after pass, until its shard is empty or its time is up. `run_once`
//! runs every shard's worker at once.
//!
//! Fairness, per pass of a worker: alarms due within `fresh_window` (the *fresh lane*) go
//! first, oldest first, and older ones (the *backlog lane*: alarms set in the past, a
//! backlog after an outage) get `backlog_per_pass` places; nobody gets more than
//! `per_user_per_pass` places in a pass (the rest of theirs wait for the next pass). A pass
//! reads at most `keys_per_place` index keys per place it fills, and the next pass of the
//! run reads on from there. So a fresh alarm never waits behind anyone's backlog, and one
//! person's alarms put at most `per_user_per_pass` of their sends ahead of it per pass. In
//! the backlog lane, one person's pile of P older alarms holds yours back for at most
//! ⌈P / (`keys_per_place` × backlog places)⌉ passes within a run; a pile bigger than a run
//! reads (about 18,000 keys a shard when fresh alarms fill every pass) holds it over to
//! later runs, while the pile drains at `per_user_per_pass` a pass (docs/reminders.md).

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use futures::StreamExt as _;
use serde::Serialize;
use tracing::instrument;

use crate::app::App;
use crate::error::Error;
use crate::model::{ListId, Notification, TaskId, Timestamp, UserId};
use crate::ports::{DueAlarm, DueWindow, PageRequest, SendOutcome};

/// How a worker shares its passes out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fairness {
    /// Tasks one pass handles at most.
    pub per_pass: u32,
    /// Places in a pass any one person's alarms can take.
    pub per_user_per_pass: u32,
    /// Places in a pass kept for the backlog lane (when it has alarms).
    pub backlog_per_pass: u32,
    /// Alarms due at most this long ago are fresh; older ones are backlog.
    pub fresh_window: Duration,
    /// Index keys a pass reads at most per place it still has to fill (passed-over ones
    /// included): bounds the cost of reading past one person's capped alarms; the next pass
    /// reads on from there.
    pub keys_per_place: u32,
    /// Alarms a worker sends at once (concurrent store calls).
    pub concurrency: usize,
    /// How long a worker starts new passes: under the schedule's period, so consecutive
    /// runs rarely overlap (when they do, exactly-once still holds).
    pub run_for: Duration,
}

impl Default for Fairness {
    fn default() -> Self {
        Self {
            per_pass: 1_000,
            per_user_per_pass: 50,
            backlog_per_pass: 100,
            fresh_window: Duration::from_secs(15 * 60),
            keys_per_place: 4,
            concurrency: 16,
            run_for: Duration::from_secs(50),
        }
    }
}

/// What one run did (logged as one structured line, and returned to the runtime).
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Workers run (one per shard).
    pub shards: u32,
    /// Passes over their shards, all workers together.
    pub passes: u64,
    /// Tasks the index named as having an alarm due, handled.
    pub tasks_checked: u64,
    pub sent: u64,
    /// Notifications another (overlapping or earlier, interrupted) run had already sent.
    pub already_sent: u64,
    /// Alarms not sent because the task changed first (completed, moved, deleted).
    pub superseded: u64,
    /// Tasks whose alarms could not be handled this run (the store failed): retried next run.
    pub failed: u64,
    /// True when a worker stopped with alarms left (its time was up): the next run goes on.
    pub more: bool,
}

impl Outcome {
    /// Adds what another worker did.
    pub fn add(&mut self, other: &Self) {
        self.shards += other.shards;
        self.passes += other.passes;
        self.tasks_checked += other.tasks_checked;
        self.sent += other.sent;
        self.already_sent += other.already_sent;
        self.superseded += other.superseded;
        self.failed += other.failed;
        self.more |= other.more;
    }
}

/// A task has at most two alarms; a few more attempts absorb concurrent edits.
const ATTEMPTS_PER_TASK: usize = 4;

/// One run at `now`: every shard's worker at once. Progress is durable per notification: a
/// task that fails is skipped, and the run then returns the first error to the runtime (so
/// the failure is retried and alarmed on); the retry sends only what is still missing.
#[instrument(skip_all)]
pub async fn run_once(app: &App, now: Timestamp) -> Result<Outcome, Error> {
    let shards = app.stores.notifications.alarm_shards();
    let runs = futures::future::join_all((0..shards).map(|shard| work_shard(app, shard, now))).await;
    let mut outcome = Outcome::default();
    let mut first_error = None;
    for (run, error) in runs {
        outcome.add(&run);
        if let Some(error) = error {
            first_error.get_or_insert(error);
        }
    }
    log_outcome(&outcome, "reminders run finished");
    first_error.map_or(Ok(outcome), Err)
}

/// One worker: passes over shard `shard` at `now` until it is empty or `run_for` is up; the
/// first failure (after everything else it could do), or what it did.
#[instrument(skip_all, fields(shard))]
pub async fn run_shard(app: &App, shard: u32, now: Timestamp) -> Result<Outcome, Error> {
    match work_shard(app, shard, now).await {
        (outcome, None) => Ok(outcome),
        (_, Some(error)) => Err(error),
    }
}

/// What one worker did, and its first failure: a task that failed is counted and skipped; a
/// failed read of the index ends the worker (the next run goes on).
async fn work_shard(app: &App, shard: u32, now: Timestamp) -> (Outcome, Option<Error>) {
    let fairness = &app.settings.reminders;
    let started = std::time::Instant::now();
    let mut outcome = Outcome { shards: 1, ..Outcome::default() };
    // Tasks this worker already handled: the index may still name them for a moment.
    let mut handled = HashSet::new();
    let mut first_error = None;
    let (mut fresh, mut backlog) = lanes(fairness, now);
    loop {
        let pass = match pick(app, shard, (&mut fresh, &mut backlog), &handled).await {
            Ok(pass) => pass,
            Err(error) => {
                outcome.more = true;
                first_error.get_or_insert(error);
                break;
            }
        };
        let out_of_time = started.elapsed() >= fairness.run_for;
        if pass.tasks.is_empty() {
            // Only keys already handled were read: read on, unless the time is up.
            if pass.more && !out_of_time {
                continue;
            }
            outcome.more |= pass.more;
            break;
        }
        outcome.passes += 1;
        handled.extend(pass.tasks.iter().map(|due| due.task));
        let mut sends = futures::stream::iter(pass.tasks)
            .map(|due| async move { (due, notify_task(app, due.list, due.task, now).await) })
            .buffer_unordered(fairness.concurrency.max(1));
        while let Some((due, result)) = sends.next().await {
            outcome.tasks_checked += 1;
            match result {
                Ok(task) => {
                    outcome.sent += task.sent;
                    outcome.already_sent += task.already_sent;
                    outcome.superseded += task.superseded;
                }
                Err(error) => {
                    tracing::warn!(list_id = %due.list, task_id = %due.task, %error, "could not notify a task's alarms; the next run retries");
                    outcome.failed += 1;
                    first_error.get_or_insert(error);
                }
            }
        }
        if !pass.more {
            break;
        }
        if started.elapsed() >= fairness.run_for {
            outcome.more = true;
            break;
        }
    }
    log_outcome(&outcome, "reminders shard finished");
    // Everything else this worker did is stored: the retry only redoes what failed.
    (outcome, first_error)
}

fn log_outcome(outcome: &Outcome, message: &'static str) {
    tracing::info!(
        shards = outcome.shards,
        passes = outcome.passes,
        tasks_checked = outcome.tasks_checked,
        sent = outcome.sent,
        already_sent = outcome.already_sent,
        superseded = outcome.superseded,
        failed = outcome.failed,
        more = outcome.more,
        "{message}"
    );
}

/// The tasks one pass handles.
struct Pass {
    tasks: Vec<DueAlarm>,
    /// Whether the shard may hold due alarms not yet handled (a lane not read to its end,
    /// or one going round again for alarms it passed over).
    more: bool,
}

/// One lane of a shard as a worker reads it, pass after pass: where it stopped, whether it
/// reached the end, and whether it passed over alarms (someone's over their cap). Each pass
/// reads on from where the last stopped, so a capped pile of alarms is read once per sweep,
/// not once per pass; at the end a lane that passed alarms over starts again.
struct Lane {
    window: DueWindow,
    after: Option<DueAlarm>,
    exhausted: bool,
    passed_over: bool,
}

impl Lane {
    fn new(window: DueWindow) -> Self {
        Self { window, after: None, exhausted: false, passed_over: false }
    }

    /// After a pass: a lane read to its end that left alarms behind goes round again.
    fn wrap(&mut self) {
        if self.exhausted && self.passed_over {
            *self = Self::new(self.window);
        }
    }
}

/// The two lanes of one worker's shard at `now`.
fn lanes(fairness: &Fairness, now: Timestamp) -> (Lane, Lane) {
    let fresh_from = now.before(fairness.fresh_window);
    let fresh = Lane::new(DueWindow { from: Some(fresh_from), until: now });
    let backlog = Lane::new(DueWindow { from: None, until: fresh_from.before(Duration::from_millis(1)) });
    (fresh, backlog)
}

/// Chooses a pass: fresh alarms first up to what the backlog's places leave, then the
/// backlog, then fresh again into any places the backlog left; never more than
/// `per_user_per_pass` tasks of one person, never a task this worker handled already.
async fn pick(app: &App, shard: u32, (fresh, backlog): (&mut Lane, &mut Lane), handled: &HashSet<TaskId>) -> Result<Pass, Error> {
    let fairness = &app.settings.reminders;
    let mut picker = Picker { tasks: Vec::new(), picked: HashSet::new(), per_user: HashMap::new() };
    let fresh_places = fairness.per_pass.saturating_sub(fairness.backlog_per_pass);
    picker.fill(app, shard, fresh, fresh_places, handled).await?;
    picker.fill(app, shard, backlog, fairness.per_pass, handled).await?;
    picker.fill(app, shard, fresh, fairness.per_pass, handled).await?;
    fresh.wrap();
    backlog.wrap();
    Ok(Pass { tasks: picker.tasks, more: !fresh.exhausted || !backlog.exhausted })
}

struct Picker {
    tasks: Vec<DueAlarm>,
    /// The pass's tasks: an entry the index moved between two reads is not taken twice.
    picked: HashSet<TaskId>,
    per_user: HashMap<UserId, u32>,
}

impl Picker {
    fn taken(&self) -> u32 {
        u32::try_from(self.tasks.len()).unwrap_or(u32::MAX)
    }

    /// Reads `lane` on from where it stopped until the pass holds `up_to` tasks, the lane
    /// ends, or it has read `keys_per_place` keys per place it had to fill.
    async fn fill(&mut self, app: &App, shard: u32, lane: &mut Lane, up_to: u32, handled: &HashSet<TaskId>) -> Result<(), Error> {
        let fairness = &app.settings.reminders;
        let budget = up_to.saturating_sub(self.taken()).saturating_mul(fairness.keys_per_place.max(1));
        let mut keys_read = 0u32;
        while !lane.exhausted && self.taken() < up_to && keys_read < budget {
            let limit = (up_to - self.taken()).clamp(25, 1_000).min(budget - keys_read);
            let page = app.stores.notifications.due_alarms(shard, lane.window, PageRequest { limit, after: lane.after }).await?;
            keys_read = keys_read.saturating_add(u32::try_from(page.items.len()).unwrap_or(u32::MAX));
            for due in &page.items {
                if self.taken() >= up_to {
                    // Not taken: the lane resumes here (after the last one taken) next time.
                    return Ok(());
                }
                lane.after = Some(*due);
                if handled.contains(&due.task) || self.picked.contains(&due.task) {
                    continue;
                }
                let count = self.per_user.entry(due.user).or_default();
                if *count >= fairness.per_user_per_pass {
                    lane.passed_over = true;
                    continue;
                }
                *count += 1;
                self.picked.insert(due.task);
                self.tasks.push(*due);
            }
            match page.next {
                Some(next) => lane.after = Some(next),
                None => lane.exhausted = true,
            }
        }
        Ok(())
    }
}

/// What handling one task did.
#[derive(Default)]
struct TaskOutcome {
    sent: u64,
    already_sent: u64,
    superseded: u64,
}

/// Sends every alarm of one task that is due at `now`.
/// Notifications go to the task's creator (docs/design/lists-and-sharing.md: once tasks can
/// be assigned, to the assignee).
async fn notify_task(app: &App, list: ListId, task_id: TaskId, now: Timestamp) -> Result<TaskOutcome, Error> {
    let mut outcome = TaskOutcome::default();
    let lifetime = chrono::Duration::seconds(app.settings.notification_seconds);
    let Some(mut task) = app.stores.tasks.get_task(list, task_id).await? else { return Ok(outcome) };
    for _ in 0..ATTEMPTS_PER_TASK {
        let Some(alarm) = task.next_alarm().filter(|alarm| alarm.at <= now) else { break };
        let notified = task.with_notified(alarm);
        // When it was sent: the run's time, or later when this pass started late.
        let sent_at = now.max(app.clock.now());
        let notification = Notification::for_alarm(&task, alarm, sent_at, lifetime);
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
    Ok(outcome)
}
