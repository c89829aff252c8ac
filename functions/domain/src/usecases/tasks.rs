//! Tasks: create (idempotent), read, list, update (optimistic concurrency), delete.

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{ListId, NewTask, Role, Task, TaskId, TaskPatch};
use crate::ports::{CreateOutcome, Made, PageRequest, StoreError, TaskFilter};
use crate::usecases::access;
use crate::usecases::idempotency::{self, Idempotency};

#[derive(Debug)]
pub struct Created {
    pub task: Task,
    /// True when this answers a retry with the task an earlier request created.
    pub replayed: bool,
}

/// The list page size when the client names none, and the largest it may name.
pub const DEFAULT_PAGE_SIZE: u32 = 20;
pub const MAX_PAGE_SIZE: u32 = 100;
/// The name a list's task-page cursors are bound to (with the caller's id).
fn task_pages(list: ListId) -> String {
    format!("tasks:{list}")
}

/// Creates a task in `list`. One store write, conditional on the caller's membership: a
/// refusal costs a second read to say why (404 or 403).
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn create_task(
    app: &App,
    principal: Principal,
    list: ListId,
    new: NewTask,
    idempotency: Option<Idempotency>,
) -> Result<Created, Error> {
    let now = app.clock.now();
    let task = Task::create(TaskId::generate(), list, principal.user_id, new, now).map_err(|e| Error::Validation(vec![e]))?;
    let record = idempotency
        .map(|idempotency| idempotency.record(principal.user_id, Made::Task(task.clone()), now, app.settings.idempotency_seconds));
    match app.stores.tasks.create_task(&task, record.as_ref(), now).await {
        Ok(CreateOutcome::Created) => Ok(Created { task, replayed: false }),
        Ok(CreateOutcome::Replayed(previous)) => {
            // The key names one request: the same body sent to another list is another.
            let task = idempotency::replay(record.as_ref(), *previous, |made| match made {
                Made::Task(task) if task.list_id == list => Some(task),
                _ => None,
            })?;
            Ok(Created { task, replayed: true })
        }
        Err(StoreError::OwnerMissing) => Err(Error::Unauthenticated("the account no longer exists")),
        Err(StoreError::AccessDenied) => Err(access::denied(app, principal, list, "list").await),
        Err(other) => Err(other.into()),
    }
}

pub async fn get_task(app: &App, principal: Principal, list: ListId, id: TaskId) -> Result<Task, Error> {
    read_task(app, principal, list, id).await.map(|(_, task)| task)
}

/// A task with the caller's role in its list: one round trip.
async fn read_task(app: &App, principal: Principal, list: ListId, id: TaskId) -> Result<(Role, Task), Error> {
    let (role, task) = access::read(app, principal, list, "task", app.stores.tasks.get_task(list, id)).await?;
    Ok((role, task.ok_or(Error::NotFound("task"))?))
}

#[derive(Debug, Default)]
pub struct ListTasks {
    pub filter: TaskFilter,
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page, as the client sent it back.
    pub cursor: Option<String>,
}

#[derive(Debug)]
pub struct TaskPage {
    pub items: Vec<Task>,
    pub next_cursor: Option<String>,
}

/// One page of a list's tasks: the page and the membership are read in one round trip.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %list))]
pub async fn list_tasks(app: &App, principal: Principal, list: ListId, query: ListTasks) -> Result<TaskPage, Error> {
    let pages = task_pages(list);
    let after = match &query.cursor {
        Some(cursor) => {
            Some(app.cursors.decode::<TaskId>(principal.user_id, &pages, cursor).map_err(|message| Error::field("cursor", message))?)
        }
        None => None,
    };
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let read = app.stores.tasks.list_tasks(list, &query.filter, PageRequest { limit, after });
    let (_, page) = access::read(app, principal, list, "list", read).await?;
    let next_cursor = page.next.map(|last| app.cursors.encode(principal.user_id, &pages, &last));
    Ok(TaskPage { items: page.items, next_cursor })
}

/// How many lists `GET /tasks` queries at once.
pub const LISTS_AT_ONCE: usize = 25;
/// The name cross-list cursors are bound to (with the caller's id).
const ALL_TASK_PAGES: &str = "tasks:all";

/// One page of the tasks in every list the caller can read, in creation (id) order, with a
/// list page's filters. Bounded by the caller's lists: one query of their memberships, then
/// one query per list, `LISTS_AT_ONCE` at a time (round trips: 1 + ⌈lists / 25⌉). Every
/// list is read from the same place (after the cursor's task id, which orders tasks across
/// lists too), and only what every list has been read up to is returned: a page may come
/// back short, never out of order, and the cursor resumes exactly there.
#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_all_tasks(app: &App, principal: Principal, query: ListTasks) -> Result<TaskPage, Error> {
    use futures::StreamExt as _;
    let after = match &query.cursor {
        Some(cursor) => Some(
            app.cursors.decode::<TaskId>(principal.user_id, ALL_TASK_PAGES, cursor).map_err(|message| Error::field("cursor", message))?,
        ),
        None => None,
    };
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let lists = app.stores.lists.readable_lists(principal.user_id).await?;
    let filter = &query.filter;
    let mut pages = futures::stream::iter(lists)
        .map(|membership| app.stores.tasks.list_tasks(membership.list_id, filter, PageRequest { limit, after }))
        .buffer_unordered(LISTS_AT_ONCE);
    // Merged as pages arrive, keeping at most `limit + 1` tasks: the page's candidates only
    // shrink (`read_up_to` only goes down), so nothing dropped could come back.
    let mut items: Vec<Task> = Vec::with_capacity(limit as usize + 1);
    // Every list has been read up to here (the smallest place a list stopped with more).
    let mut read_up_to: Option<TaskId> = None;
    while let Some(page) = pages.next().await {
        let page = page?;
        if let Some(next) = page.next {
            read_up_to = Some(read_up_to.map_or(next, |up_to| up_to.min(next)));
        }
        items.extend(page.items);
        items.retain(|task| read_up_to.is_none_or(|up_to| task.id <= up_to));
        items.sort_by_key(|task| task.id);
        // A task moved between two lists' reads can come from both.
        items.dedup_by_key(|task| task.id);
        items.truncate(limit as usize + 1);
    }
    let next = if items.len() > limit as usize {
        items.truncate(limit as usize);
        items.last().map(|task| task.id)
    } else {
        read_up_to
    };
    Ok(TaskPage { items, next_cursor: next.map(|last| app.cursors.encode(principal.user_id, ALL_TASK_PAGES, &last)) })
}

/// Applies a merge patch. With `if_match`, the write happens only if the task is still at
/// that version (412 otherwise); without, a concurrent change is merged by re-applying the
/// patch to the fresh task. A `list_id` other than the path's moves the task there (the
/// caller must write tasks in both lists; the move and the other changes are one write).
#[instrument(skip_all, fields(user_id = %principal.user_id, task_id = %id))]
pub async fn update_task(
    app: &App,
    principal: Principal,
    list: ListId,
    id: TaskId,
    patch: TaskPatch,
    if_match: Option<u64>,
) -> Result<Task, Error> {
    const ATTEMPTS: usize = 3;
    let writer = access::as_writer(principal, list);
    let destination = patch.list_id.filter(|destination| *destination != list);
    for _ in 0..ATTEMPTS {
        let destination_role = async {
            match destination {
                Some(destination) => app.stores.lists.member_role(destination, principal.user_id).await,
                None => Ok(None),
            }
        };
        let (read, destination_role) = tokio::join!(read_task(app, principal, list, id), destination_role);
        let (role, current) = read?;
        access::require_writer(role)?;
        if destination.is_some() && !destination_role?.is_some_and(Role::writes_tasks) {
            return Err(not_a_destination());
        }
        if if_match.is_some_and(|expected| expected != current.version) {
            return Err(Error::PreconditionFailed);
        }
        let (updated, spawned) =
            current.apply(patch.clone(), app.clock.now(), TaskId::generate()).map_err(|e| Error::Validation(vec![e]))?;
        if updated.version == current.version {
            return Ok(current);
        }
        let written = match destination {
            Some(_) => app.stores.tasks.move_task(writer, &updated, list, current.version, spawned.as_ref()).await,
            None => app.stores.tasks.update_task(writer, &updated, current.version, spawned.as_ref()).await,
        };
        match written {
            Ok(()) => return Ok(updated),
            Err(StoreError::AccessDenied) => {
                return Err(match access::denied(app, principal, list, "task").await {
                    // The source list still lets the caller write: the destination refused.
                    Error::Conflict(_) if destination.is_some() => not_a_destination(),
                    other => other,
                });
            }
            Err(StoreError::VersionMismatch) if if_match.is_some() => return Err(Error::PreconditionFailed),
            Err(StoreError::VersionMismatch) => {}
            Err(StoreError::NotFound) => return Err(Error::NotFound("task")),
            Err(StoreError::OwnerMissing) => return Err(Error::Unauthenticated("the account no longer exists")),
            Err(other) => return Err(other.into()),
        }
    }
    Err(Error::Conflict("the task is being changed concurrently; retry".to_owned()))
}

/// A move to a list the caller cannot add tasks to: whether it exists stays unsaid.
fn not_a_destination() -> Error {
    Error::field("list_id", "is not a list you can add tasks to")
}

#[instrument(skip_all, fields(user_id = %principal.user_id, task_id = %id))]
pub async fn delete_task(app: &App, principal: Principal, list: ListId, id: TaskId, if_match: Option<u64>) -> Result<(), Error> {
    let (role, task) = read_task(app, principal, list, id).await?;
    access::require_writer(role)?;
    let writer = access::as_writer(principal, list);
    let mut expected = if_match;
    if let Some(version) = if_match {
        if version != task.version {
            return Err(Error::PreconditionFailed);
        }
        // Claim the version before touching any file, so a stale If-Match can never cost
        // the task its attachments: a concurrent change fails here, with nothing deleted.
        let claimed = Task { version: task.version + 1, updated_at: app.clock.now(), ..task.clone() };
        match app.stores.tasks.update_task(writer, &claimed, version, None).await {
            Ok(()) => expected = Some(claimed.version),
            Err(StoreError::AccessDenied) => return Err(access::denied(app, principal, list, "task").await),
            Err(StoreError::VersionMismatch) => return Err(Error::PreconditionFailed),
            Err(StoreError::NotFound) => return Err(Error::NotFound("task")),
            Err(other) => return Err(other.into()),
        }
    }
    // Files go first (objects, then metadata), the task last: an interrupted delete leaves
    // the task in place, and retrying it finishes the job. The task goes only once it has no
    // files, so an upload racing the delete is removed on the next pass, never orphaned.
    for _ in 0..3 {
        crate::usecases::files::delete_task_files(app, writer, id).await?;
        match app.stores.tasks.delete_task(writer, list, id, expected).await {
            Ok(()) => return Ok(()),
            Err(StoreError::AccessDenied) => return Err(access::denied(app, principal, list, "task").await),
            Err(StoreError::NotEmpty) => {}
            Err(StoreError::NotFound) => return Err(Error::NotFound("task")),
            Err(StoreError::VersionMismatch) => return Err(Error::PreconditionFailed),
            Err(other) => return Err(other.into()),
        }
    }
    Err(Error::Conflict("files are still being added to this task; retry the delete".to_owned()))
}
