use std::collections::HashSet;

use todo_domain::model::{IdempotencyKey, ListId, NewTask, Tags, Task, TaskId, TaskList, TaskPatch, Timestamp, Title, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, Made, PageRequest, StoreError, TaskFilter};

use crate::support::{Backend, inbox, member, now, user, writer};

/// A task in `owner`'s Inbox, created by them.
pub fn task(owner: UserId, title: &str) -> Task {
    Task::create(TaskId::generate(), ListId::inbox_of(owner), owner, new_task(title), now()).unwrap()
}

pub fn new_task(title: &str) -> NewTask {
    NewTask {
        title: Title::parse(title).unwrap(),
        notes: None,
        due: None,
        priority: None,
        tags: Tags::default(),
        recurrence: None,
        reminder_at: None,
    }
}

pub fn idempotency(task: &Task, key: &str, now: Timestamp) -> IdempotencyRecord {
    IdempotencyRecord {
        owner: task.created_by,
        key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: format!("fingerprint of {}", task.title.as_str()),
        made: Made::Task(task.clone()),
        expires_at: now.plus(chrono::Duration::hours(24)),
    }
}

async fn owner(backend: &Backend, email: &str) -> UserId {
    let user = user(email);
    backend.stores.users.insert_user(&user, &TaskList::inbox_of(user.id, now())).await.unwrap();
    user.id
}

pub async fn create_and_get_are_isolated_per_owner(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let bob = owner(&backend, "bob@example.com").await;
    let mut created = task(ada, "private");
    created.tags = Tags::parse(&["home", "errand"]).unwrap();
    created.due = Some(now());
    backend.calls();
    assert_eq!(tasks.create_task(&created, None, now()).await.unwrap(), CreateOutcome::Created);
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "a create is one call");
    }
    assert_eq!(tasks.get_task(inbox(ada), created.id).await.unwrap(), Some(created.clone()));
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "a read is one call");
    }
    assert_eq!(tasks.get_task(inbox(bob), created.id).await.unwrap(), None);
    assert!(matches!(tasks.create_task(&created, None, now()).await, Err(StoreError::AlreadyExists)));
}

pub async fn create_needs_an_existing_owner(backend: Backend) {
    let ghost = UserId::generate();
    let orphan = task(ghost, "orphan");
    assert!(matches!(backend.stores.tasks.create_task(&orphan, None, now()).await, Err(StoreError::OwnerMissing)));
    assert_eq!(backend.items_of(ghost).await, 0);
}

pub async fn idempotent_create_replays(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let first = task(ada, "once");
    let record = idempotency(&first, "k1", now());
    assert_eq!(tasks.create_task(&first, Some(&record), now()).await.unwrap(), CreateOutcome::Created);
    let retry = task(ada, "once");
    let retry_record = idempotency(&retry, "k1", now());
    match tasks.create_task(&retry, Some(&retry_record), now()).await.unwrap() {
        CreateOutcome::Replayed(previous) => assert_eq!(*previous, record),
        CreateOutcome::Created => panic!("a used key must replay"),
    }
    assert_eq!(tasks.get_task(inbox(ada), retry.id).await.unwrap(), None, "the retry created nothing");
    // The same key for another user is another key.
    let bob = owner(&backend, "bob@example.com").await;
    let bobs = task(bob, "once");
    assert_eq!(tasks.create_task(&bobs, Some(&idempotency(&bobs, "k1", now())), now()).await.unwrap(), CreateOutcome::Created);
}

pub async fn concurrent_idempotent_creates_make_one_task(backend: Backend) {
    let ada = owner(&backend, "ada@example.com").await;
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let tasks = backend.stores.tasks.clone();
            tokio::spawn(async move {
                let attempt = task(ada, "exactly once");
                let record = idempotency(&attempt, "race", now());
                tasks.create_task(&attempt, Some(&record), now()).await
            })
        })
        .collect();
    let mut created = 0;
    let mut replayed = HashSet::new();
    for racer in racers {
        match racer.await.unwrap().unwrap() {
            CreateOutcome::Created => created += 1,
            CreateOutcome::Replayed(record) => {
                let Made::Task(task) = record.made else { panic!("the record holds the task: {record:?}") };
                replayed.insert(task.id);
            }
        }
    }
    assert_eq!(created, 1);
    assert!(replayed.len() <= 1, "every replay names the one task");
    let page = backend.stores.tasks.list_tasks(inbox(ada), &TaskFilter::default(), PageRequest { limit: 100, after: None }).await.unwrap();
    assert_eq!(page.items.len(), 1);
}

pub async fn an_expired_idempotency_key_is_free_again(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let long_ago = now().plus(chrono::Duration::days(-3));
    let old = task(ada, "old");
    tasks.create_task(&old, Some(&idempotency(&old, "k", long_ago)), long_ago).await.unwrap();
    let fresh = task(ada, "fresh");
    let outcome = tasks.create_task(&fresh, Some(&idempotency(&fresh, "k", now())), now()).await.unwrap();
    assert_eq!(outcome, CreateOutcome::Created);
}

pub async fn updates_are_conditional_on_version(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let original = task(ada, "v1");
    tasks.create_task(&original, None, now()).await.unwrap();
    let patch = TaskPatch { title: Some(Title::parse("v2").unwrap()), ..TaskPatch::default() };
    let (v2, _) = original.apply(patch.clone(), now(), TaskId::generate()).unwrap();
    backend.calls();
    tasks.update_task(writer(&v2), &v2, 1, None).await.unwrap();
    if backend.is_dynamodb() {
        assert_eq!(backend.calls().values().sum::<usize>(), 1, "an update is one call");
    }
    assert!(matches!(tasks.update_task(writer(&v2), &v2, 1, None).await, Err(StoreError::VersionMismatch)));
    assert_eq!(tasks.get_task(inbox(ada), original.id).await.unwrap(), Some(v2.clone()));
    let ghost = task(ada, "ghost");
    assert!(matches!(tasks.update_task(writer(&ghost), &ghost, 1, None).await, Err(StoreError::NotFound)));
    assert_eq!(tasks.get_task(inbox(ada), ghost.id).await.unwrap(), None, "a failed update creates nothing");
    // Concurrent writers at one version: exactly one wins.
    let (v3, _) =
        v2.apply(TaskPatch { title: Some(Title::parse("v3").unwrap()), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (tasks, v3) = (backend.stores.tasks.clone(), v3.clone());
            tokio::spawn(async move { tasks.update_task(writer(&v3), &v3, 2, None).await })
        })
        .collect();
    let mut won = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(()) => won += 1,
            Err(StoreError::VersionMismatch) => {}
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(won, 1);
}

pub async fn a_spawned_occurrence_is_created_with_its_update_or_not_at_all(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let original = task(ada, "recurring");
    tasks.create_task(&original, None, now()).await.unwrap();
    let (done, _) = original.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
    let next = task(ada, "next occurrence");
    // Stale version: neither the update nor the spawn happens.
    assert!(matches!(tasks.update_task(writer(&done), &done, 7, Some(&next)).await, Err(StoreError::VersionMismatch)));
    assert_eq!(tasks.get_task(inbox(ada), next.id).await.unwrap(), None);
    tasks.update_task(writer(&done), &done, 1, Some(&next)).await.unwrap();
    assert_eq!(tasks.get_task(inbox(ada), original.id).await.unwrap(), Some(done));
    assert_eq!(tasks.get_task(inbox(ada), next.id).await.unwrap(), Some(next));
}

/// Between an account's deletion and its purge removing its memberships (seconds), its
/// access token still verifies: completing a recurring task then must not leave a new task
/// (a create) behind, in place or moving, while plain edits stay a member's right until the purge.
pub async fn a_deleted_account_spawns_no_occurrence(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let errands = crate::lists::new_list(ada, "Errands");
    backend.stores.lists.create_list(&errands, 5, None, now()).await.unwrap();
    let original = task(ada, "recurring");
    tasks.create_task(&original, None, now()).await.unwrap();
    let profile = backend.stores.users.get_user(ada).await.unwrap().unwrap();
    backend.stores.users.delete_user(&profile, now()).await.unwrap();

    let (done, _) = original.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
    let next = task(ada, "next occurrence");
    assert!(matches!(tasks.update_task(writer(&done), &done, 1, Some(&next)).await, Err(StoreError::OwnerMissing)));
    let mut moved = done.clone();
    moved.list_id = errands.id;
    let mut next_there = next.clone();
    next_there.list_id = errands.id;
    let refused = tasks.move_task(member(ada), &moved, inbox(ada), 1, Some(&next_there)).await;
    assert!(matches!(refused, Err(StoreError::OwnerMissing)), "{refused:?}");
    assert_eq!(tasks.get_task(inbox(ada), original.id).await.unwrap(), Some(original.clone()), "nothing changed");
    assert_eq!(tasks.get_task(inbox(ada), next.id).await.unwrap(), None);
    assert_eq!(tasks.get_task(errands.id, original.id).await.unwrap(), None);
    assert_eq!(tasks.get_task(errands.id, next.id).await.unwrap(), None);
    // Not a create: allowed until the purge takes the membership away.
    tasks.update_task(writer(&done), &done, 1, None).await.unwrap();
}

pub async fn deletes_are_conditional(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let bob = owner(&backend, "bob@example.com").await;
    let doomed = task(ada, "doomed");
    tasks.create_task(&doomed, None, now()).await.unwrap();
    assert!(matches!(tasks.delete_task(member(bob), inbox(bob), doomed.id, None).await, Err(StoreError::NotFound)), "not someone else's");
    assert!(matches!(tasks.delete_task(member(ada), inbox(ada), doomed.id, Some(2)).await, Err(StoreError::VersionMismatch)));
    tasks.delete_task(member(ada), inbox(ada), doomed.id, Some(1)).await.unwrap();
    assert!(matches!(tasks.delete_task(member(ada), inbox(ada), doomed.id, None).await, Err(StoreError::NotFound)));
    assert_eq!(tasks.get_task(inbox(ada), doomed.id).await.unwrap(), None);
}

/// Follows `next` to the end, as a client follows cursors.
async fn all_pages(backend: &Backend, owner: UserId, filter: &TaskFilter, limit: u32) -> Vec<TaskId> {
    let mut seen = Vec::new();
    let mut after = None;
    for _ in 0..1000 {
        let page = backend.stores.tasks.list_tasks(inbox(owner), filter, PageRequest { limit, after }).await.unwrap();
        assert!(page.items.len() <= limit as usize);
        seen.extend(page.items.iter().map(|task| task.id));
        match page.next {
            Some(next) => after = Some(next),
            None => return seen,
        }
    }
    panic!("pagination never ended");
}

pub async fn pages_cover_every_task_exactly_once(backend: Backend) {
    let ada = owner(&backend, "ada@example.com").await;
    let mut created = Vec::new();
    for n in 0..30 {
        let task = task(ada, &format!("task {n}"));
        backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
        created.push(task.id);
    }
    backend.calls();
    assert_eq!(all_pages(&backend, ada, &TaskFilter::default(), 7).await, created);
    if backend.is_dynamodb() {
        let calls = backend.calls();
        assert_eq!(calls.keys().collect::<Vec<_>>(), ["Query"], "{calls:?}");
        assert!(calls["Query"] <= 5, "one query per page: {calls:?}");
    }
    assert_eq!(all_pages(&backend, ada, &TaskFilter::default(), 30).await, created);
    assert_eq!(all_pages(&backend, ada, &TaskFilter::default(), 100).await, created);
}

pub async fn filtered_pages_cover_every_match_exactly_once(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let base = now();
    let mut expected = Vec::new();
    for n in 0..24 {
        let mut task = task(ada, &format!("task {n}"));
        task.tags = Tags::parse(&[if n % 2 == 0 { "even" } else { "odd" }]).unwrap();
        task.due = (n % 3 != 0).then(|| base.plus(chrono::Duration::hours(n)));
        tasks.create_task(&task, None, now()).await.unwrap();
        if n % 4 == 0 {
            let (done, _) = task.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
            tasks.update_task(writer(&done), &done, 1, None).await.unwrap();
            task = done;
        }
        expected.push(task);
    }
    let filters = [
        TaskFilter { completed: Some(false), ..TaskFilter::default() },
        TaskFilter { completed: Some(true), ..TaskFilter::default() },
        TaskFilter { tag: Some(todo_domain::model::Tag::parse("odd").unwrap()), ..TaskFilter::default() },
        TaskFilter { due_before: Some(base.plus(chrono::Duration::hours(12))), ..TaskFilter::default() },
        TaskFilter { due_after: Some(base.plus(chrono::Duration::hours(5))), completed: Some(false), ..TaskFilter::default() },
    ];
    for filter in filters {
        let want: Vec<TaskId> = expected.iter().filter(|task| filter.matches(task)).map(|task| task.id).collect();
        assert!(!want.is_empty());
        assert_eq!(all_pages(&backend, ada, &filter, 5).await, want, "{filter:?}");
    }
}

/// `?status=open` costs about a page whatever the history: a list with 10,000 completed
/// tasks (between its open ones) pages its 10 open tasks in one Query reading 10 items on
/// DynamoDB, and on SQLite with no more work than the same page of a list without history.
pub async fn open_tasks_cost_a_page_whatever_the_history(backend: Backend) {
    let tasks = &backend.stores.tasks;
    let ada = owner(&backend, "ada@example.com").await;
    let bob = owner(&backend, "bob@example.com").await;
    let open = TaskFilter { completed: Some(false), ..TaskFilter::default() };
    let mut adas = Vec::new();
    let create_open = async |owner: UserId, n: usize| {
        let task = task(owner, &format!("open {n}"));
        tasks.create_task(&task, None, now()).await.unwrap();
        task.id
    };
    for n in 0..5 {
        adas.push(create_open(ada, n).await);
    }
    let mut bobs = Vec::new();
    for n in 0..10 {
        bobs.push(create_open(bob, n).await);
    }
    let first = task(ada, "done");
    tasks.create_task(&first, None, now()).await.unwrap();
    let (done, _) = first.apply(TaskPatch { completed: Some(true), ..TaskPatch::default() }, now(), TaskId::generate()).unwrap();
    tasks.update_task(writer(&done), &done, 1, None).await.unwrap();
    // The history, then five more open tasks after it, all in bulk: moto copies the whole
    // table for every transaction, so no port write follows the history (it would hold up
    // every other test sharing the emulator).
    backend.copy_task(&done, 9_999).await;
    let opener = tasks.get_task(inbox(ada), adas[0]).await.unwrap().unwrap();
    adas.extend(backend.copy_task(&opener, 5).await);

    backend.calls();
    backend.task_page_work();
    assert_eq!(all_pages(&backend, bob, &open, 20).await, bobs);
    let (bob_calls, bob_work) = (backend.calls(), backend.task_page_work());
    assert_eq!(all_pages(&backend, ada, &open, 20).await, adas, "the open tasks, in order, past the history");
    let (ada_calls, ada_work) = (backend.calls(), backend.task_page_work());
    assert!(bob_work > 0, "the work is measured");
    assert!(ada_work <= bob_work * 2, "a page reads through history: {ada_work} units against {bob_work} without it");
    if backend.is_dynamodb() {
        assert_eq!(ada_calls, bob_calls);
        assert_eq!(ada_calls.into_iter().collect::<Vec<_>>(), [("Query".to_owned(), 1)], "one Query for the page");
        assert_eq!(ada_work, 10, "items read = results");
    }
    // The history is there, and an "all" page still reads it in order.
    let all = tasks.list_tasks(inbox(ada), &TaskFilter::default(), PageRequest { limit: 6, after: None }).await.unwrap();
    assert_eq!(all.items.len(), 6);
    assert_eq!(all.items[5].id, done.id);
}

pub async fn a_resume_key_never_crosses_owners(backend: Backend) {
    let ada = owner(&backend, "ada@example.com").await;
    let bob = owner(&backend, "bob@example.com").await;
    let mut adas = Vec::new();
    for n in 0..5 {
        let task = task(ada, &format!("ada {n}"));
        backend.stores.tasks.create_task(&task, None, now()).await.unwrap();
        adas.push(task.id);
    }
    // Bob resuming after one of Ada's keys sees only Bob's (none).
    let page = backend
        .stores
        .tasks
        .list_tasks(inbox(bob), &TaskFilter::default(), PageRequest { limit: 100, after: Some(adas[0]) })
        .await
        .unwrap();
    assert!(page.items.is_empty(), "{:?}", page.items);
}
