//! `scale-bench reminders`: loads due alarms and runs the reminders job's workers
//! (`reminders::run_once` — every shard's worker at once, in one process as the local server
//! runs them; on AWS each is its own invocation of the same `run_shard` — again and again, as
//! the schedule would, until nothing is left), on the embedded store and on DynamoDB (moto's server at
//! `--endpoint`). Prints alarms delivered per second (per worker too), lateness, what one
//! person's pile of ancient alarms does to everyone else's, and DynamoDB calls per alarm;
//! `--out FILE` also writes the figures as JSON (`cargo xtask reminders-bench` runs this
//! and turns them into docs/reminders.md).
//!
//! Lateness is alarm time to stored notification. Alarms are spread evenly over the minute
//! before the run starts (as a minute's alarms wait for the minute's run), so a figure is
//! the schedule's wait plus the run's own delay; the run's delay is printed on its own too.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use async_trait::async_trait;
use futures::StreamExt as _;
use todo_adapters::dynamodb::{CallLog, DynamoStore, create_table, emulator_client};
use todo_adapters::embedded::{EmbeddedStore, LocalBlobs};
use todo_domain::app::Stores;
use todo_domain::clock::SystemClock;
use todo_domain::model::{ListId, NewTask, Notification, NotificationId, Tags, Task, TaskId, TaskList, Timestamp, Title, User, UserId};
use todo_domain::ports::{
    CreateOutcome, DueAlarm, DueWindow, IdempotencyRecord, NotificationStore, Page, PageRequest, SendOutcome, StoreResult, TaskFilter,
    TaskStore, Writer,
};
use todo_domain::usecases::reminders::{self, Fairness};
use todo_domain::{App, Settings};

use crate::common::{cpu_seconds, secret, user};

struct Options {
    endpoint: Option<String>,
    alarms: usize,
    users: usize,
    pile: usize,
    scaling_alarms: usize,
    /// The DynamoDB runs load `alarms / dynamodb_divisor` (and the pile likewise): moto
    /// copies the whole table for every item of a TransactWriteItems, so its calls slow as
    /// the table grows.
    dynamodb_divisor: usize,
    out: Option<std::path::PathBuf>,
}

fn options() -> anyhow::Result<Options> {
    let args: Vec<String> = std::env::args().skip(2).collect();
    let value = |flag: &str| args.iter().position(|arg| arg == flag).and_then(|at| args.get(at + 1)).cloned();
    let number = |flag: &str, default: usize| -> anyhow::Result<usize> {
        value(flag).map_or(Ok(default), |raw| raw.parse().with_context(|| format!("{flag} needs a number")))
    };
    Ok(Options {
        endpoint: value("--endpoint"),
        alarms: number("--alarms", 20_000)?,
        users: number("--users", 5_000)?.max(1),
        pile: number("--pile", 5_000)?,
        scaling_alarms: number("--scaling-alarms", 2_000)?,
        dynamodb_divisor: number("--dynamodb-divisor", 100)?.max(1),
        out: value("--out").map(Into::into),
    })
}

/// A notification store that notes when each notification was stored (and for whom), and
/// can make each call take `round_trip` longer (an AWS-like round trip, for the scaling runs).
#[derive(Debug)]
struct Timed {
    inner: Arc<dyn NotificationStore>,
    sent: Mutex<Vec<(UserId, Timestamp, chrono::DateTime<chrono::Utc>)>>,
    round_trip: Duration,
}

/// The task port with `round_trip` added to each read (the job's one task call).
#[derive(Debug)]
struct SlowReads {
    inner: Arc<dyn TaskStore>,
    round_trip: Duration,
}

#[async_trait]
impl TaskStore for SlowReads {
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome> {
        self.inner.create_task(task, idempotency, now).await
    }
    async fn get_task(&self, list: ListId, id: TaskId) -> StoreResult<Option<Task>> {
        tokio::time::sleep(self.round_trip).await;
        self.inner.get_task(list, id).await
    }
    async fn update_task(&self, writer: Writer, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        self.inner.update_task(writer, task, expected_version, spawned).await
    }
    async fn move_task(&self, writer: Writer, task: &Task, from: ListId, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        self.inner.move_task(writer, task, from, expected_version, spawned).await
    }
    async fn delete_task(&self, writer: Writer, list: ListId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()> {
        self.inner.delete_task(writer, list, id, expected_version).await
    }
    async fn list_tasks(&self, list: ListId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>> {
        self.inner.list_tasks(list, filter, page).await
    }
    async fn delete_user_idempotency(&self, user: UserId) -> StoreResult<u64> {
        self.inner.delete_user_idempotency(user).await
    }
    async fn purge_expired_idempotency(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        self.inner.purge_expired_idempotency(now, limit).await
    }
}

#[async_trait]
impl NotificationStore for Timed {
    fn alarm_shards(&self) -> u32 {
        self.inner.alarm_shards()
    }
    async fn due_alarms(&self, shard: u32, window: DueWindow, page: PageRequest<DueAlarm>) -> StoreResult<Page<DueAlarm, DueAlarm>> {
        tokio::time::sleep(self.round_trip).await;
        self.inner.due_alarms(shard, window, page).await
    }
    async fn send_notification(&self, read: &Task, notified: &Task, notification: &Notification) -> StoreResult<SendOutcome> {
        tokio::time::sleep(self.round_trip).await;
        let outcome = self.inner.send_notification(read, notified, notification).await?;
        if outcome == SendOutcome::Sent {
            let at = notification.alarm().map_or(notification.created_at, |alarm| alarm.at);
            self.sent.lock().unwrap().push((notification.owner, at, chrono::Utc::now()));
        }
        Ok(outcome)
    }
    async fn add_notification(&self, notification: &Notification) -> StoreResult<bool> {
        self.inner.add_notification(notification).await
    }
    async fn get_notification(&self, owner: UserId, id: NotificationId) -> StoreResult<Option<Notification>> {
        self.inner.get_notification(owner, id).await
    }
    async fn list_notifications(
        &self,
        owner: UserId,
        unread_only: bool,
        now: Timestamp,
        page: PageRequest<NotificationId>,
    ) -> StoreResult<Page<Notification, NotificationId>> {
        self.inner.list_notifications(owner, unread_only, now, page).await
    }
    async fn set_notification_read(&self, owner: UserId, id: NotificationId, read_at: Option<Timestamp>) -> StoreResult<()> {
        self.inner.set_notification_read(owner, id, read_at).await
    }
    async fn read_if_unread(&self, owner: UserId, id: NotificationId, at: Timestamp) -> StoreResult<()> {
        self.inner.read_if_unread(owner, id, at).await
    }
    async fn delete_user_notifications(&self, owner: UserId) -> StoreResult<u64> {
        self.inner.delete_user_notifications(owner).await
    }
    async fn purge_expired_notifications(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        self.inner.purge_expired_notifications(now, limit).await
    }
}

/// A fresh store of one kind, with what measures it.
struct Bench {
    stores: Stores,
    timed: Arc<Timed>,
    calls: Option<CallLog>,
    _dir: Option<tempfile::TempDir>,
}

async fn fresh(endpoint: Option<&str>, round_trip: Duration) -> anyhow::Result<Bench> {
    let (stores, calls, dir) = match endpoint {
        None => {
            let dir = tempfile::tempdir()?;
            let store = Arc::new(EmbeddedStore::open(dir.path())?);
            let blobs = LocalBlobs::new(dir.path().join("blobs"), "http://127.0.0.1:1", &secret());
            (Stores::from_one(&store, Arc::new(blobs)), None, Some(dir))
        }
        Some(endpoint) => {
            let calls = CallLog::new();
            let table = format!("reminders-bench-{}", TaskId::generate().to_string().to_lowercase());
            create_table(&emulator_client(endpoint, None), &table).await?;
            let store = Arc::new(DynamoStore::new(emulator_client(endpoint, Some(&calls)), &table));
            let blobs = LocalBlobs::new(std::env::temp_dir().join("reminders-bench-blobs"), "http://127.0.0.1:1", &secret());
            (Stores::from_one(&store, Arc::new(blobs)), Some(calls), None)
        }
    };
    let timed = Arc::new(Timed { inner: stores.notifications.clone(), sent: Mutex::new(Vec::new()), round_trip });
    let tasks: Arc<dyn TaskStore> = Arc::new(SlowReads { inner: stores.tasks.clone(), round_trip });
    let stores = Stores { notifications: timed.clone(), tasks, ..stores };
    Ok(Bench { stores, timed, calls, _dir: dir })
}

fn app(stores: &Stores, fairness: Fairness) -> App {
    let mut settings = Settings::with_secret(secret());
    settings.reminders = fairness;
    App::new(stores.clone(), Arc::new(SystemClock), settings)
}

/// Signs up `users` people (and the pile's owner when `pile > 0`), then gives them
/// `alarms` reminders spread evenly over the minute before `anchor` (round robin), and the
/// pile's owner `pile` reminders from 2001. The pile's owner's id comes back.
async fn load(stores: &Stores, users: usize, alarms: usize, pile: usize, anchor: Timestamp) -> anyhow::Result<Option<UserId>> {
    let now = Timestamp::from_datetime(chrono::Utc::now());
    let people: Vec<User> = (0..users + usize::from(pile > 0)).map(|n| user(n, now)).collect();
    let signups = futures::stream::iter(&people).map(|person| async move {
        let inbox = TaskList::inbox_of(person.id, now);
        stores.users.insert_user(person, &inbox).await
    });
    for result in signups.buffer_unordered(LOADING_AT_ONCE).collect::<Vec<_>>().await {
        result?;
    }
    let pile_owner = (pile > 0).then(|| people[users].id);
    let ancient = Timestamp::parse("2001-01-01T00:00:00Z").expect("a time");
    let mut specs: Vec<(UserId, Timestamp)> = (0..alarms)
        .map(|n| {
            let offset_ms = i64::try_from(n * 60_000 / alarms.max(1)).unwrap_or(0);
            (people[n % users].id, anchor.plus(chrono::Duration::milliseconds(-60_000 + offset_ms)))
        })
        .collect();
    if let Some(owner) = pile_owner {
        specs.extend((0..pile).map(|n| (owner, ancient.plus(chrono::Duration::minutes(i64::try_from(n).unwrap_or(0))))));
    }
    let creates = futures::stream::iter(specs).map(|(owner, at)| async move {
        let new = NewTask {
            title: Title::parse("Call the plumber").expect("a title"),
            notes: None,
            due: None,
            priority: None,
            tags: Tags::default(),
            recurrence: None,
            reminder_at: Some(at),
        };
        let task = Task::create(TaskId::generate(), ListId::inbox_of(owner), owner, new, now).map_err(|e| anyhow::anyhow!("{e:?}"))?;
        stores.tasks.create_task(&task, None, now).await.map_err(anyhow::Error::from)
    });
    for result in creates.buffer_unordered(LOADING_AT_ONCE).collect::<Vec<_>>().await {
        result?;
    }
    Ok(pile_owner)
}

/// Runs the job until a run finds nothing more, each run at its own start time (as the
/// schedule starts them, only back to back).
async fn drain(app: &App) -> anyhow::Result<(reminders::Outcome, Duration, usize)> {
    let started = Instant::now();
    let mut total = reminders::Outcome::default();
    let mut runs = 0;
    loop {
        let outcome = reminders::run_once(app, Timestamp::from_datetime(chrono::Utc::now())).await?;
        runs += 1;
        total.sent += outcome.sent;
        total.tasks_checked += outcome.tasks_checked;
        total.passes += outcome.passes;
        total.shards = outcome.shards;
        if !outcome.more {
            return Ok((total, started.elapsed(), runs));
        }
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * (sorted.len() - 1) as f64).round() as usize;
    sorted[rank.min(sorted.len() - 1)]
}

fn summary(mut values: Vec<f64>) -> serde_json::Value {
    values.sort_by(f64::total_cmp);
    serde_json::json!({
        "count": values.len(),
        "p50_s": percentile(&values, 50.0),
        "p99_s": percentile(&values, 99.0),
        "max_s": values.last().copied().unwrap_or(0.0),
    })
}

/// One load-and-drain: figures for everyone but the pile's owner, and for the pile.
async fn scenario(
    name: &str,
    endpoint: Option<&str>,
    round_trip: Duration,
    options: &Options,
    alarms: usize,
    pile: usize,
    fairness: Fairness,
) -> anyhow::Result<serde_json::Value> {
    let bench = fresh(endpoint, round_trip).await?;
    let anchor = Timestamp::from_datetime(chrono::Utc::now());
    let loading = Instant::now();
    let users = options.users.min(alarms / 4).max(1);
    let pile_owner = load(&bench.stores, users, alarms, pile, anchor).await?;
    let loaded_in = loading.elapsed();
    if let Some(calls) = &bench.calls {
        calls.take();
    }
    let app = app(&bench.stores, fairness.clone());
    let run_start = chrono::Utc::now();
    let cpu_before = cpu_seconds();
    let (outcome, elapsed, runs) = drain(&app).await?;
    let cpu = cpu_seconds() - cpu_before;
    anyhow::ensure!(outcome.sent as usize == alarms + pile, "{name}: sent {} of {} alarms", outcome.sent, alarms + pile);
    let calls: BTreeMap<String, usize> = bench.calls.as_ref().map(CallLog::take_counts).unwrap_or_default();
    let sent = bench.timed.sent.lock().unwrap().clone();
    let seconds =
        |from: chrono::DateTime<chrono::Utc>, to: chrono::DateTime<chrono::Utc>| (to - from).num_microseconds().unwrap_or(0) as f64 / 1e6;
    let mut others_total = Vec::new();
    let mut others_run = Vec::new();
    let mut pile_run = Vec::new();
    for (owner, at, stored) in &sent {
        let in_run = seconds(run_start, *stored);
        if Some(*owner) == pile_owner {
            pile_run.push(in_run);
        } else {
            // The schedule's wait (the alarm's place in the minute before the run) + the run's delay.
            others_total.push(seconds(at.as_datetime(), anchor.as_datetime()) + in_run);
            others_run.push(in_run);
        }
    }
    let rate = outcome.sent as f64 / elapsed.as_secs_f64();
    let per_call: BTreeMap<&String, f64> = calls.iter().map(|(name, count)| (name, *count as f64 / outcome.sent.max(1) as f64)).collect();
    let figures = serde_json::json!({
        "scenario": name,
        "store": match (endpoint, round_trip.is_zero()) {
            (Some(_), _) => "dynamodb (moto)".to_owned(),
            (None, true) => "embedded (SQLite)".to_owned(),
            (None, false) => format!("embedded + {} ms a call", round_trip.as_millis()),
        },
        "alarms": alarms, "pile": pile, "users": users,
        "workers": outcome.shards, "concurrency": fairness.concurrency,
        "load_s": loaded_in.as_secs_f64(),
        "runs": runs, "passes": outcome.passes, "run_s": elapsed.as_secs_f64(),
        "delivered_per_s": rate, "delivered_per_s_per_worker": rate / f64::from(outcome.shards.max(1)),
        "lateness_others": summary(others_total),
        "run_delay_others": summary(others_run),
        "run_delay_pile": summary(pile_run),
        "dynamodb_calls_per_alarm": per_call,
        "cpu_ms_per_alarm": cpu * 1000.0 / outcome.sent.max(1) as f64,
    });
    println!("{}", serde_json::to_string(&figures)?);
    Ok(figures)
}

/// Writes the loading keeps in flight (moto takes one at a time).
pub const LOADING_AT_ONCE: usize = 8;

/// The round trip the scaling runs add to each of the job's calls (AWS, same region).
const SCALING_ROUND_TRIP: Duration = Duration::from_millis(8);

pub async fn run() -> anyhow::Result<()> {
    let options = options()?;
    let mut results = Vec::new();
    let stores: Vec<Option<&str>> = std::iter::once(None).chain(options.endpoint.as_deref().map(Some)).collect();
    for endpoint in stores {
        let divisor = if endpoint.is_some() { options.dynamodb_divisor } else { 1 };
        let (alarms, pile) = (options.alarms / divisor, options.pile / divisor);
        // moto answers one call at a time, slowly: hundreds in flight would only queue there
        // past the client's timeout (and change none of the per-alarm figures).
        let fairness = if endpoint.is_some() { Fairness { concurrency: 2, ..Fairness::default() } } else { Fairness::default() };
        // Everyone's alarms alone, then with one person's pile of ancient ones beside them.
        results.push(scenario("baseline", endpoint, Duration::ZERO, &options, alarms, 0, fairness.clone()).await?);
        results.push(scenario("with pile", endpoint, Duration::ZERO, &options, alarms, pile, fairness).await?);
    }
    // Scaling: the emulators take one call at a time, so alarms in flight only help while
    // a call waits on the network. With AWS-like round trips added to the job's calls (the
    // embedded store underneath), delivery per worker follows alarms in flight.
    for concurrency in [1, 4, 16, 64] {
        let fairness = Fairness { concurrency, ..Fairness::default() };
        let name = format!("in flight {concurrency}");
        results.push(scenario(&name, None, SCALING_ROUND_TRIP, &options, options.scaling_alarms, 0, fairness).await?);
    }
    if let Some(out) = &options.out {
        std::fs::write(out, serde_json::to_string_pretty(&serde_json::Value::Array(results))?)?;
        eprintln!("figures written to {}", out.display());
    }
    Ok(())
}
