//! Lists: create, read, page through one's own and shared ones, rename and recolour, delete
//! (and the purge that finishes a deletion, shared with account deletion).

use std::collections::HashMap;

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{ListId, ListOrder, ListPatch, ListPosition, Membership, NewList, Role, TaskList, UserId};
use crate::ports::{CreateOutcome, Made, PageRequest, StoreError, TaskFilter, Writer};
use crate::usecases::access;
use crate::usecases::idempotency::{self, Idempotency};
use crate::usecases::tasks::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};
use crate::usecases::{each_then_first_failure, files};

/// How many lists a user may own besides their Inbox (200 with it).
pub const MAX_OWNED_LISTS: u32 = 199;

/// The name cursors of `GET /lists` are bound to.
const LIST_PAGES: &str = "lists";

/// A list as the caller sees it: with their role in it and their place for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAccess {
    pub role: Role,
    pub position: Option<ListPosition>,
    pub list: TaskList,
}

impl ListAccess {
    fn of(membership: Membership, list: TaskList) -> Self {
        Self { role: membership.role, position: membership.position, list }
    }
}

#[derive(Debug)]
pub struct CreatedList {
    pub list: ListAccess,
    /// True when this answers a retry with the list an earlier request created.
    pub replayed: bool,
}

/// Creates a list owned by the caller: one store write, with the idempotency record if any.
#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create_list(app: &App, principal: Principal, new: NewList, idempotency: Option<Idempotency>) -> Result<CreatedList, Error> {
    let now = app.clock.now();
    let list = TaskList::create(ListId::generate(), principal.user_id, new, now);
    let record = idempotency
        .map(|idempotency| idempotency.record(principal.user_id, Made::List(list.clone()), now, app.settings.idempotency_seconds));
    let owned = |list: TaskList| ListAccess::of(Membership::new(list.id, list.owner, Role::Owner), list);
    match app.stores.lists.create_list(&list, MAX_OWNED_LISTS, record.as_ref(), now).await {
        Ok(CreateOutcome::Created) => Ok(CreatedList { list: owned(list), replayed: false }),
        Ok(CreateOutcome::Replayed(previous)) => {
            let list = idempotency::replay(record.as_ref(), *previous, |made| match made {
                Made::List(list) => Some(list),
                Made::Task(_) => None,
            })?;
            // Answered as it was made (a later rename shows on GET), like a task's replay.
            Ok(CreatedList { list: owned(list), replayed: true })
        }
        Err(StoreError::LimitReached) => {
            Err(Error::Conflict(format!("you own {MAX_OWNED_LISTS} lists besides your Inbox already: delete one first")))
        }
        Err(StoreError::OwnerMissing) => Err(Error::Unauthenticated("the account no longer exists")),
        Err(other) => Err(other.into()),
    }
}

/// A list and the caller's role: one round trip.
pub async fn get_list(app: &App, principal: Principal, id: ListId) -> Result<ListAccess, Error> {
    let (membership, list) = access::read_as_member(app, principal, id, "list", app.stores.lists.get_list(id)).await?;
    Ok(ListAccess::of(membership, list.ok_or(Error::NotFound("list"))?))
}

#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<ListAccess>,
    pub next_cursor: Option<String>,
}

/// One page of the caller's lists (their own and shared ones), in their order: by the
/// position they gave each, then the rest oldest first. Reads the caller's whole membership
/// index (≤ 200 own lists plus shared ones: one query per 1 MB) to order it, then only the
/// page's lists; a list whose deletion is finishing is left out (a page may come back short).
pub async fn list_lists(app: &App, principal: Principal, limit: Option<u32>, cursor: Option<&str>) -> Result<ListPage, Error> {
    let after = match cursor {
        Some(cursor) => Some(
            app.cursors.decode::<ListOrder>(principal.user_id, LIST_PAGES, cursor).map_err(|message| Error::field("cursor", message))?,
        ),
        None => None,
    };
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE) as usize;
    let mut memberships = app.stores.lists.readable_lists(principal.user_id).await?;
    memberships.sort_by_key(Membership::order);
    memberships.retain(|membership| after.is_none_or(|after| membership.order() > after));
    let more = memberships.len() > limit;
    memberships.truncate(limit);
    let ids: Vec<ListId> = memberships.iter().map(|membership| membership.list_id).collect();
    let mut lists: HashMap<ListId, TaskList> = app.stores.lists.get_lists(&ids).await?.into_iter().map(|list| (list.id, list)).collect();
    let next_cursor =
        more.then(|| memberships.last().map(|last| app.cursors.encode(principal.user_id, LIST_PAGES, &last.order()))).flatten();
    let items =
        memberships.into_iter().filter_map(|membership| Some(ListAccess::of(membership, lists.remove(&membership.list_id)?))).collect();
    Ok(ListPage { items, next_cursor })
}

/// Renames or recolours a list (owners and editors), and places it among the caller's
/// lists (any member: it is their own order). With `if_match`, the list changes only if it
/// is still at that version (412 otherwise); without, a concurrent change is merged. The
/// position is not part of the list's version.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %id))]
pub async fn update_list(
    app: &App,
    principal: Principal,
    id: ListId,
    patch: ListPatch,
    if_match: Option<u64>,
) -> Result<ListAccess, Error> {
    let mut updated = if patch.touches_list() || if_match.is_some() {
        change_list(app, principal, id, &patch, if_match).await?
    } else {
        get_list(app, principal, id).await?
    };
    if let Some(position) = patch.position {
        match app.stores.lists.set_position(id, principal.user_id, position).await {
            Ok(()) => updated.position = position,
            Err(StoreError::NotFound) => return Err(Error::NotFound("list")),
            Err(other) => return Err(other.into()),
        }
    }
    Ok(updated)
}

/// The name and colour part of `update_list`.
async fn change_list(app: &App, principal: Principal, id: ListId, patch: &ListPatch, if_match: Option<u64>) -> Result<ListAccess, Error> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let ListAccess { role, position, list: current } = get_list(app, principal, id).await?;
        if patch.touches_list() {
            access::require_writer(role)?;
        }
        if if_match.is_some_and(|expected| expected != current.version) {
            return Err(Error::PreconditionFailed);
        }
        let updated = current.apply(patch.clone(), app.clock.now()).map_err(|error| Error::Validation(vec![error]))?;
        if updated.version == current.version {
            return Ok(ListAccess { role, position, list: current });
        }
        match app.stores.lists.update_list(access::as_writer(principal, id), &updated, current.version).await {
            Ok(()) => return Ok(ListAccess { role, position, list: updated }),
            Err(StoreError::VersionMismatch) if if_match.is_some() => return Err(Error::PreconditionFailed),
            Err(StoreError::VersionMismatch) => {}
            Err(StoreError::NotFound) => return Err(Error::NotFound("list")),
            Err(StoreError::AccessDenied) => return Err(access::denied(app, principal, id, "list").await),
            Err(other) => return Err(other.into()),
        }
    }
    Err(Error::Conflict("the list is being changed concurrently; retry".to_owned()))
}

/// Deletes a list (its owner; never the Inbox). A durable marker first, then its members
/// and invitations go at once: from the answer on, nobody reads, writes or joins it. Its
/// tasks and files go off the request path (`finish_list_deletions`: the table stream on
/// AWS, the purge loop locally, housekeeping as the safety net).
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %id))]
pub async fn delete_list(app: &App, principal: Principal, id: ListId) -> Result<(), Error> {
    let ListAccess { role, list, .. } = get_list(app, principal, id).await?;
    if role != Role::Owner {
        return Err(Error::Forbidden("only the list's owner deletes it"));
    }
    if list.inbox {
        return Err(Error::Conflict("the Inbox cannot be deleted".to_owned()));
    }
    match app.stores.lists.mark_list_deleted(&list, app.clock.now()).await {
        Ok(()) => {}
        // No longer its owner's: a deletion already under way took the membership.
        Err(StoreError::AccessDenied) => return Err(Error::NotFound("list")),
        Err(other) => return Err(other.into()),
    }
    app.stores.lists.delete_list_members(id, list.owner).await?;
    Ok(())
}

/// Finishes the deletion of each list named (a marker's). Idempotent: a list already gone is
/// done. One failing does not hold up the others; how many finished.
pub async fn finish_list_deletions(app: &App, lists: impl IntoIterator<Item = ListId>) -> Result<u64, Error> {
    each_then_first_failure(lists, |id| async move {
        let outcome = match app.stores.lists.get_list(id).await {
            Ok(Some(list)) => purge_list(app, id, list.owner).await,
            Ok(None) => Ok(()),
            Err(error) => Err(error.into()),
        };
        outcome.inspect_err(|error| tracing::error!(list_id = %id, error = %error, "finishing a list deletion failed"))
    })
    .await
}

/// Finishes up to `limit` pending list deletions, oldest first; how many, and whether more
/// may be pending.
pub async fn finish_pending_list_deletions(app: &App, limit: u32) -> Result<(u64, bool), Error> {
    let pending = app.stores.lists.pending_list_deletions(limit).await?;
    let more = pending.len() == limit as usize;
    Ok((finish_list_deletions(app, pending).await?, more))
}

/// Tasks a list's purge removes at once (each: its files, then the task): a list of 20,000
/// tasks is minutes of one-at-a-time round trips, well inside a run at 16.
const PURGED_AT_ONCE: usize = 16;

/// Deletes a list and everything in it, resumably. Its memberships go first, so nobody can
/// write to it any more (every member's write is conditional on their membership); then each
/// task's files (objects first) and the task, `PURGED_AT_ONCE` tasks at a time; then the
/// list. `keeper`'s membership index entry stays until the end: it is how a retry finds the
/// list again. Progress is the deletions themselves: a retry reads on from the first task
/// left, never through what is gone.
#[instrument(skip_all, fields(list_id = %list))]
pub(crate) async fn purge_list(app: &App, list: ListId, keeper: UserId) -> Result<(), Error> {
    use futures::StreamExt as _;
    app.stores.lists.delete_list_members(list, keeper).await?;
    let everything = TaskFilter::default();
    loop {
        let page = app.stores.tasks.list_tasks(list, &everything, PageRequest { limit: MAX_PAGE_SIZE, after: None }).await?;
        if page.items.is_empty() {
            break;
        }
        let mut purges = futures::stream::iter(page.items)
            .map(|task| async move {
                files::delete_task_files(app, Writer::System, task.id).await?;
                match app.stores.tasks.delete_task(Writer::System, list, task.id, None).await {
                    Ok(()) | Err(StoreError::NotFound) => Ok(()),
                    // No member can add a file now; an upload to an earlier URL finds no record
                    // and is removed on arrival. A file here is a bug: stop, the retry resumes.
                    Err(other) => Err(Error::from(other)),
                }
            })
            .buffer_unordered(PURGED_AT_ONCE);
        // The first failure ends the run (and drops the purges under way: each step is
        // atomic on its own, so a dropped one is an interruption the retry finishes).
        while let Some(result) = purges.next().await {
            result?;
        }
    }
    app.stores.lists.delete_list(list, keeper).await?;
    Ok(())
}
