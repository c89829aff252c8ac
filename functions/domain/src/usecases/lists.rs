//! Lists: create, read, page through one's own and shared ones, rename and recolour.

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{ListId, ListPatch, NewList, Role, TaskList};
use crate::ports::{PageRequest, StoreError};
use crate::usecases::access;
use crate::usecases::tasks::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// How many lists a user may own besides their Inbox (200 with it).
pub const MAX_OWNED_LISTS: u32 = 199;

/// The name cursors of `GET /lists` are bound to.
const LIST_PAGES: &str = "lists";

/// A list as the caller sees it: with their role in it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListAccess {
    pub role: Role,
    pub list: TaskList,
}

#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn create_list(app: &App, principal: Principal, new: NewList) -> Result<ListAccess, Error> {
    let list = TaskList::create(ListId::generate(), principal.user_id, new, app.clock.now());
    match app.stores.lists.create_list(&list, MAX_OWNED_LISTS).await {
        Ok(()) => Ok(ListAccess { role: Role::Owner, list }),
        Err(StoreError::LimitReached) => {
            Err(Error::Conflict(format!("you own {MAX_OWNED_LISTS} lists besides your Inbox already: delete one first")))
        }
        Err(StoreError::OwnerMissing) => Err(Error::Unauthenticated("the account no longer exists")),
        Err(other) => Err(other.into()),
    }
}

/// A list and the caller's role: one round trip.
pub async fn get_list(app: &App, principal: Principal, id: ListId) -> Result<ListAccess, Error> {
    let (role, list) = access::read(app, principal, id, "list", app.stores.lists.get_list(id)).await?;
    Ok(ListAccess { role, list: list.ok_or(Error::NotFound("list"))? })
}

#[derive(Debug)]
pub struct ListPage {
    pub items: Vec<ListAccess>,
    pub next_cursor: Option<String>,
}

/// One page of the caller's lists (their own and shared ones), in creation order.
pub async fn list_lists(app: &App, principal: Principal, limit: Option<u32>, cursor: Option<&str>) -> Result<ListPage, Error> {
    let after = match cursor {
        Some(cursor) => {
            Some(app.cursors.decode::<ListId>(principal.user_id, LIST_PAGES, cursor).map_err(|message| Error::field("cursor", message))?)
        }
        None => None,
    };
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let page = app.stores.lists.list_lists(principal.user_id, PageRequest { limit, after }).await?;
    let next_cursor = page.next.map(|last| app.cursors.encode(principal.user_id, LIST_PAGES, &last));
    Ok(ListPage { items: page.items.into_iter().map(|(role, list)| ListAccess { role, list }).collect(), next_cursor })
}

/// Renames or recolours a list (owners and editors). With `if_match`, only if the list is
/// still at that version (412 otherwise); without, a concurrent change is merged.
#[instrument(skip_all, fields(user_id = %principal.user_id, list_id = %id))]
pub async fn update_list(
    app: &App,
    principal: Principal,
    id: ListId,
    patch: ListPatch,
    if_match: Option<u64>,
) -> Result<ListAccess, Error> {
    const ATTEMPTS: usize = 3;
    for _ in 0..ATTEMPTS {
        let ListAccess { role, list: current } = get_list(app, principal, id).await?;
        access::require_writer(role)?;
        if if_match.is_some_and(|expected| expected != current.version) {
            return Err(Error::PreconditionFailed);
        }
        let updated = current.apply(patch.clone(), app.clock.now()).map_err(|error| Error::Validation(vec![error]))?;
        if updated.version == current.version {
            return Ok(ListAccess { role, list: current });
        }
        match app.stores.lists.update_list(access::as_writer(principal, id), &updated, current.version).await {
            Ok(()) => return Ok(ListAccess { role, list: updated }),
            Err(StoreError::VersionMismatch) if if_match.is_some() => return Err(Error::PreconditionFailed),
            Err(StoreError::VersionMismatch) => {}
            Err(StoreError::NotFound) => return Err(Error::NotFound("list")),
            Err(StoreError::AccessDenied) => return Err(access::denied(app, principal, id, "list").await),
            Err(other) => return Err(other.into()),
        }
    }
    Err(Error::Conflict("the list is being changed concurrently; retry".to_owned()))
}
