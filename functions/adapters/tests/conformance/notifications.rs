//! The reminders job and the notifications feed over each store: exactly once per alarm
//! under overlapping, crashed and repeated runs; the index, not the table, names the work.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use chrono::Duration;
use todo_domain::App;
use todo_domain::model::{
    AlarmKind, AlarmNotice, Notification, NotificationId, Task, TaskId, TaskList, TaskPatch, Timestamp, User, UserId,
};
use todo_domain::ports::{DueAlarm, DueWindow, NotificationStore, Page, PageRequest, SendOutcome, StoreError, StoreResult};
use todo_domain::usecases::reminders;

use crate::support::{Backend, inbox, now, user, writer};

fn ago(minutes: i64) -> Timestamp {
    now().plus(Duration::minutes(-minutes))
}

/// A stored open task with the given reminder and due times.
async fn task_with(backend: &Backend, owner: &User, reminder_at: Option<Timestamp>, due: Option<Timestamp>) -> Task {
    let mut task = crate::tasks::task(owner.id, "Renew the passport");
    task.reminder_at = reminder_at;
    task.due = due;
    backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
    task
}

async fn change(backend: &Backend, task: &Task, patch: TaskPatch) -> Task {
    let current = backend.stores.tasks.get_task(task.list_id, task.id).await.unwrap().unwrap();
    let (updated, _) = current.apply(patch, now(), TaskId::generate()).unwrap();
    backend.stores.tasks.update_task(writer(&updated), &updated, current.version, None).await.unwrap();
    updated
}

/// Every live notification of `owner`, read page by page (newest first).
async fn feed(backend: &Backend, owner: UserId, unread_only: bool, at: Timestamp) -> Vec<Notification> {
    let mut all = Vec::new();
    let mut after = None;
    loop {
        let page = backend.stores.notifications.list_notifications(owner, unread_only, at, PageRequest { limit: 3, after }).await.unwrap();
        all.extend(page.items);
        match page.next {
            Some(next) => after = Some(next),
            None => return all,
        }
    }
}

/// The alarm a task's notification is about.
fn alarm(notification: &Notification) -> &AlarmNotice {
    notification.alarm().expect("a task's notification")
}

fn kinds_by_task(notifications: &[Notification]) -> HashSet<(TaskId, AlarmKind)> {
    notifications.iter().map(alarm).map(|a| (a.task_id, a.kind)).collect()
}

pub async fn reminders_are_sent_exactly_once_even_by_concurrent_runs(backend: Backend) {
    let app = backend.app();
    let ada = user("ada@example.com");
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let reminded = task_with(&backend, &ada, Some(ago(30)), None).await;
    let overdue = task_with(&backend, &ada, None, Some(ago(10))).await;
    let both = task_with(&backend, &ada, Some(ago(120)), Some(ago(60))).await;
    let future = task_with(&backend, &ada, Some(now().plus(Duration::hours(1))), Some(now().plus(Duration::hours(2)))).await;
    let done = task_with(&backend, &ada, Some(ago(30)), Some(ago(5))).await;
    change(&backend, &done, TaskPatch { completed: Some(true), ..TaskPatch::default() }).await;
    let _plain = task_with(&backend, &ada, None, None).await;

    let at = now();
    let (first, second) = tokio::join!(reminders::run_once(&app, at), reminders::run_once(&app, at));
    let (first, second) = (first.unwrap(), second.unwrap());
    assert_eq!(first.sent + second.sent, 4, "{first:?} {second:?}");
    let notifications = feed(&backend, ada.id, false, at).await;
    assert_eq!(notifications.len(), 4, "{notifications:#?}");
    assert_eq!(
        kinds_by_task(&notifications),
        HashSet::from([
            (reminded.id, AlarmKind::Reminder),
            (overdue.id, AlarmKind::Overdue),
            (both.id, AlarmKind::Reminder),
            (both.id, AlarmKind::Overdue)
        ])
    );
    assert!(notifications.windows(2).all(|pair| alarm(&pair[0]).at >= alarm(&pair[1]).at), "newest first");

    // The same window again: the index holds nothing due, nothing is sent.
    let again = reminders::run_once(&app, at).await.unwrap();
    assert_eq!((again.tasks_checked, again.sent, again.already_sent), (0, 0, 0), "{again:?}");
    // Later, the future task's alarms come due (and only they).
    backend.calls();
    let later = reminders::run_once(&app, now().plus(Duration::hours(3))).await.unwrap();
    assert_eq!(later.sent, 2, "{later:?}");
    if backend.is_dynamodb() {
        // Per shard one keys-only query per lane (fresh, backlog), then per due task one read
        // and one transaction per alarm.
        let calls = backend.calls();
        let expected = [("GetItem", 1), ("Query", 2 * app.stores.notifications.alarm_shards() as usize), ("TransactWriteItems", 2)];
        assert_eq!(calls, expected.into_iter().map(|(name, count)| (name.to_owned(), count)).collect(), "{calls:?}");
    }
    let notifications = feed(&backend, ada.id, false, at).await;
    assert_eq!(notifications.iter().filter(|n| alarm(n).task_id == future.id).count(), 2);
    assert_eq!(notifications.len(), 6);
}

/// Four workers racing on every shard at once (as overlapping minutes and retried
/// deliveries make them on AWS) send each alarm exactly once between them.
pub async fn workers_racing_on_one_shard_send_each_alarm_once(backend: Backend) {
    let app = backend.app();
    let ada = user("ada@example.com");
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let mut expected = HashSet::new();
    for n in 0..40 {
        let task = task_with(&backend, &ada, Some(ago(30 + n)), (n % 2 == 0).then(|| ago(20))).await;
        expected.insert((task.id, AlarmKind::Reminder));
        if n % 2 == 0 {
            expected.insert((task.id, AlarmKind::Overdue));
        }
    }
    let at = now();
    let workers = (0..app.stores.notifications.alarm_shards()).flat_map(|shard| (0..4).map(move |_| shard));
    let runs = futures::future::join_all(workers.map(|shard| reminders::run_shard(&app, shard, at))).await;
    let sent: u64 = runs.into_iter().map(|run| run.unwrap().sent).sum();
    assert_eq!(sent, expected.len() as u64, "each alarm sent by exactly one worker");
    let notifications = feed(&backend, ada.id, false, at).await;
    assert_eq!(kinds_by_task(&notifications), expected);
    assert_eq!(notifications.len(), expected.len(), "no duplicates");
}

/// An app whose reminders workers make small passes: `per_pass` tasks, `per_user` of one
/// person's, `backlog` places for old alarms; one pass per worker and run (`run_for` zero).
fn small_passes(backend: &Backend, per_pass: u32, per_user: u32, backlog: u32) -> App {
    let mut settings = backend.app().settings.clone();
    settings.reminders = reminders::Fairness {
        per_pass,
        per_user_per_pass: per_user,
        backlog_per_pass: backlog,
        concurrency: 4,
        run_for: std::time::Duration::ZERO,
        ..reminders::Fairness::default()
    };
    App::new(backend.stores.clone(), Arc::new(todo_domain::clock::SystemClock), settings)
}

/// One person with a pile of alarms, fresh and decades old, delays nobody else's: in the
/// first pass everyone else's fresh alarms are sent and the pile gets one place a shard
/// (without the cap it would take every place left); an old alarm queued behind the pile
/// goes out within a few passes, long before the pile drains. Then one run of many small
/// passes (its lanes reading on from pass to pass, going round again for what the cap
/// passed over) drains the rest, each alarm once.
pub async fn one_persons_pile_of_alarms_waits_behind_everyone_elses(backend: Backend) {
    let pile = user("pile@example.com");
    backend.stores.users.insert_user(&pile, &TaskList::inbox_of(pile.id, now())).await.unwrap();
    let ancient = Timestamp::parse("2001-01-01T00:00:00Z").unwrap();
    for n in 0..30 {
        task_with(&backend, &pile, Some(ancient.plus(Duration::minutes(n))), None).await;
        task_with(&backend, &pile, Some(ago(10)), None).await;
    }
    let mut others = Vec::new();
    for n in 0..8 {
        let other = user(&format!("other{n}@example.com"));
        backend.stores.users.insert_user(&other, &TaskList::inbox_of(other.id, now())).await.unwrap();
        task_with(&backend, &other, Some(ago(5)), None).await;
        others.push(other);
    }
    let late = user("late@example.com");
    backend.stores.users.insert_user(&late, &TaskList::inbox_of(late.id, now())).await.unwrap();
    task_with(&backend, &late, Some(ancient.plus(Duration::days(3650))), None).await;

    let shards = backend.stores.notifications.alarm_shards() as usize;
    let app = small_passes(&backend, 12, 1, 2);
    let at = now();
    let first = reminders::run_once(&app, at).await.unwrap();
    assert!(first.more, "the pile is not done in one pass: {first:?}");
    for other in &others {
        assert_eq!(feed(&backend, other.id, false, at).await.len(), 1, "everyone else's went in the first pass");
    }
    let piled = feed(&backend, pile.id, false, at).await.len();
    assert!((1..=shards).contains(&piled), "the pile got one place a shard: {piled}");

    let mut runs = 1;
    while feed(&backend, late.id, false, at).await.is_empty() {
        reminders::run_once(&app, at).await.unwrap();
        runs += 1;
        assert!(runs <= 10, "the old alarm behind the pile waits a few passes, not for the pile");
    }
    assert!(feed(&backend, pile.id, false, at).await.len() < 60, "the old alarm went before the pile drained");

    let mut settings = app.settings.clone();
    settings.reminders =
        reminders::Fairness { per_pass: 4, backlog_per_pass: 1, run_for: std::time::Duration::from_secs(30), ..settings.reminders };
    let patient = App::new(backend.stores.clone(), Arc::new(todo_domain::clock::SystemClock), settings);
    let left = 60 - feed(&backend, pile.id, false, at).await.len() as u64;
    let rest = reminders::run_once(&patient, at).await.unwrap();
    assert_eq!((rest.sent, rest.more), (left, false), "one run drains the shards: {rest:?}");
    // One place a person a pass, and only the pile is left: a pass per alarm of it.
    assert!(rest.passes >= left, "in many passes: {rest:?}");
    assert_eq!(feed(&backend, pile.id, false, at).await.len(), 60, "all of the pile, once each");
}

/// A notification store that fails every send after the first `allowed`: a run that dies
/// part-way (a timeout, a throttled table).
#[derive(Debug)]
struct FailingAfter {
    inner: Arc<dyn NotificationStore>,
    allowed: AtomicUsize,
}

#[async_trait]
impl NotificationStore for FailingAfter {
    fn alarm_shards(&self) -> u32 {
        self.inner.alarm_shards()
    }
    async fn due_alarms(&self, shard: u32, window: DueWindow, page: PageRequest<DueAlarm>) -> StoreResult<Page<DueAlarm, DueAlarm>> {
        self.inner.due_alarms(shard, window, page).await
    }
    async fn send_notification(&self, read: &Task, notified: &Task, notification: &Notification) -> StoreResult<SendOutcome> {
        if self.allowed.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1)).is_err() {
            return Err(StoreError::backend(anyhow::anyhow!("the run died here")));
        }
        self.inner.send_notification(read, notified, notification).await
    }
    async fn add_notification(&self, notification: &Notification) -> StoreResult<bool> {
        self.inner.add_notification(notification).await
    }
    async fn read_if_unread(&self, owner: UserId, id: NotificationId, at: Timestamp) -> StoreResult<()> {
        self.inner.read_if_unread(owner, id, at).await
    }
    async fn delete_user_notifications(&self, owner: UserId) -> StoreResult<u64> {
        self.inner.delete_user_notifications(owner).await
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
    async fn purge_expired_notifications(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        self.inner.purge_expired_notifications(now, limit).await
    }
}

pub async fn a_crashed_run_is_finished_by_the_next_without_repeats(backend: Backend) {
    let ada = user("ada@example.com");
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    for minutes in [50, 40, 30, 20, 10] {
        task_with(&backend, &ada, Some(ago(minutes)), None).await;
    }
    let mut stores = backend.stores.clone();
    stores.notifications = Arc::new(FailingAfter { inner: backend.stores.notifications.clone(), allowed: AtomicUsize::new(2) });
    let dying = App::new(stores, Arc::new(todo_domain::clock::SystemClock), backend.app().settings.clone());
    let at = now();
    assert!(reminders::run_once(&dying, at).await.is_err(), "a run that cannot finish reports an error to its runtime");
    assert_eq!(feed(&backend, ada.id, false, at).await.len(), 2, "what it sent before dying stays sent");

    let rerun = reminders::run_once(&backend.app(), at).await.unwrap();
    assert_eq!((rerun.sent, rerun.already_sent), (3, 0), "{rerun:?}");
    let notifications = feed(&backend, ada.id, false, at).await;
    assert_eq!(notifications.len(), 5);
    assert_eq!(notifications.iter().map(|n| alarm(n).task_id).collect::<HashSet<_>>().len(), 5, "one per task");
}

/// The notification was stored but the task lost the record of it (a client's write raced
/// the job and put back the task as it read it): the next run finds the notification there
/// and sends nothing new.
pub async fn a_notification_already_stored_is_not_sent_again(backend: Backend) {
    let ada = user("ada@example.com");
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let task = task_with(&backend, &ada, Some(ago(30)), None).await;
    let alarm = task.next_alarm().unwrap();
    let lifetime = Duration::days(30);
    let notification = Notification::for_alarm(&task, alarm, now(), lifetime);
    let outcome = backend.stores.notifications.send_notification(&task, &task.with_notified(alarm), &notification).await.unwrap();
    assert_eq!(outcome, SendOutcome::Sent);
    // The stale client write: the task as it was before the job, one version on.
    let stale = Task { version: task.version + 1, ..task.clone() };
    backend.stores.tasks.update_task(writer(&stale), &stale, task.version, None).await.unwrap();

    let run = reminders::run_once(&backend.app(), now()).await.unwrap();
    assert_eq!((run.sent, run.already_sent), (0, 1), "{run:?}");
    assert_eq!(feed(&backend, ada.id, false, now()).await.len(), 1);
    let stored = backend.stores.tasks.get_task(inbox(ada.id), task.id).await.unwrap().unwrap();
    assert_eq!(stored.next_alarm(), None, "the task records the alarm again");
    assert_eq!(stored.version, stale.version, "the job never bumps a task's version");
    // A send with a task that changed since it was read writes nothing.
    let changed = backend.stores.notifications.send_notification(&task, &task.with_notified(alarm), &notification).await.unwrap();
    assert_eq!(changed, SendOutcome::TaskChanged);
    assert_eq!(feed(&backend, ada.id, false, now()).await.len(), 1, "and stored nothing");
    assert_eq!(backend.stores.tasks.get_task(inbox(ada.id), task.id).await.unwrap().unwrap(), stored, "nor touched the task");
}

pub async fn completing_first_silences_and_moving_a_reminder_re_arms_it(backend: Backend) {
    let app = backend.app();
    let ada = user("ada@example.com");
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    let completed = task_with(&backend, &ada, Some(ago(60)), None).await;
    change(&backend, &completed, TaskPatch { completed: Some(true), ..TaskPatch::default() }).await;
    let moved = task_with(&backend, &ada, Some(ago(60)), None).await;
    assert_eq!(reminders::run_once(&app, now()).await.unwrap().sent, 1);

    // Edited after its reminder went: the same reminder is not sent twice.
    change(&backend, &moved, TaskPatch { title: Some(todo_domain::model::Title::parse("Renewed?").unwrap()), ..TaskPatch::default() })
        .await;
    assert_eq!(reminders::run_once(&app, now()).await.unwrap().sent, 0);
    // Moved later (still passed): a new reminder.
    change(&backend, &moved, TaskPatch { reminder_at: Some(Some(ago(30))), ..TaskPatch::default() }).await;
    assert_eq!(reminders::run_once(&app, now()).await.unwrap().sent, 1);
    // Moved into the future: nothing until then, then once.
    change(&backend, &moved, TaskPatch { reminder_at: Some(Some(now().plus(Duration::hours(1)))), ..TaskPatch::default() }).await;
    assert_eq!(reminders::run_once(&app, now()).await.unwrap().sent, 0);
    assert_eq!(reminders::run_once(&app, now().plus(Duration::hours(2))).await.unwrap().sent, 1);

    let notifications = feed(&backend, ada.id, false, now()).await;
    assert_eq!(notifications.len(), 3);
    assert!(notifications.iter().all(|n| alarm(n).task_id == moved.id && alarm(n).kind == AlarmKind::Reminder));
    assert_eq!(notifications.iter().map(|n| alarm(n).at).collect::<HashSet<_>>().len(), 3, "one per reminder time");
}

pub async fn the_feed_is_paged_newest_first_filtered_expiring_and_isolated(backend: Backend) {
    let app = backend.app();
    let (ada, bob) = (user("ada@example.com"), user("bob@example.com"));
    backend.stores.users.insert_user(&ada, &TaskList::inbox_of(ada.id, now())).await.unwrap();
    backend.stores.users.insert_user(&bob, &TaskList::inbox_of(bob.id, now())).await.unwrap();
    for minutes in 1..=7 {
        task_with(&backend, &ada, Some(ago(minutes * 10)), None).await;
    }
    task_with(&backend, &bob, Some(ago(5)), None).await;
    assert_eq!(reminders::run_once(&app, now()).await.unwrap().sent, 8);

    let all = feed(&backend, ada.id, false, now()).await;
    assert_eq!(all.len(), 7, "every notification exactly once across pages");
    assert_eq!(all.iter().map(|n| n.id).collect::<HashSet<_>>().len(), 7);
    assert!(all.windows(2).all(|pair| pair[0].id > pair[1].id && alarm(&pair[0]).at > alarm(&pair[1]).at), "newest first");
    for read in &all[..2] {
        backend.stores.notifications.set_notification_read(ada.id, read.id, Some(now())).await.unwrap();
    }
    let unread = feed(&backend, ada.id, true, now()).await;
    assert_eq!(unread.iter().map(|n| n.id).collect::<Vec<_>>(), all[2..].iter().map(|n| n.id).collect::<Vec<_>>());
    let first = backend.stores.notifications.get_notification(ada.id, all[0].id).await.unwrap().unwrap();
    assert!(first.read_at.is_some());
    backend.stores.notifications.set_notification_read(ada.id, all[0].id, None).await.unwrap();
    assert_eq!(feed(&backend, ada.id, true, now()).await.len(), 6, "unread again");

    // Another user's notification does not exist for them.
    assert!(backend.stores.notifications.get_notification(bob.id, all[0].id).await.unwrap().is_none());
    assert!(matches!(backend.stores.notifications.set_notification_read(bob.id, all[0].id, Some(now())).await, Err(StoreError::NotFound)));
    assert_eq!(feed(&backend, bob.id, false, now()).await.len(), 1);

    // Past their lifetime they leave the feed at once (a TTL deletes lazily), and the
    // housekeeping job removes them where the store has no TTL.
    let expired_at = now().plus(Duration::seconds(app.settings.notification_seconds + 60));
    assert!(feed(&backend, ada.id, false, expired_at).await.is_empty());
    let purged = backend.stores.notifications.purge_expired_notifications(expired_at, 100).await.unwrap();
    assert_eq!(purged, if backend.is_dynamodb() { 0 } else { 8 }, "DynamoDB's TTL does this itself");
}
