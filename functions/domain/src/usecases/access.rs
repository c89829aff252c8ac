//! The one place a request's access to a list is decided. Every read of a list's items goes
//! through `read`: the membership and the items are read concurrently (one round trip) and
//! the items are dropped unless the caller is a member. Every write is made as
//! `Writer::Member`, which the store makes conditional on the membership in the same
//! transaction, after `require_writer` has answered a visible refusal (403) up front.
//!
//! A list the caller is not a member of, and everything in it, is a 404 naming what was
//! asked for: indistinguishable from one that does not exist.

use std::future::Future;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{ListId, Membership, Role};
use crate::ports::{StoreResult, Writer};

/// Runs `items` beside the membership check and returns both if `principal` is a member of
/// `list`; `NotFound(what)` otherwise, whatever `items` found.
pub async fn read<T>(
    app: &App,
    principal: Principal,
    list: ListId,
    what: &'static str,
    items: impl Future<Output = StoreResult<T>>,
) -> Result<(Role, T), Error> {
    read_as_member(app, principal, list, what, items).await.map(|(membership, items)| (membership.role, items))
}

/// `read`, with the caller's whole membership (their role and their place for the list).
pub async fn read_as_member<T>(
    app: &App,
    principal: Principal,
    list: ListId,
    what: &'static str,
    items: impl Future<Output = StoreResult<T>>,
) -> Result<(Membership, T), Error> {
    let (membership, items) = tokio::join!(app.stores.lists.membership(list, principal.user_id), items);
    let membership = membership?.ok_or(Error::NotFound(what))?;
    Ok((membership, items?))
}

/// The caller's role in `list`, or `NotFound(what)`.
async fn role(app: &App, principal: Principal, list: ListId, what: &'static str) -> Result<Role, Error> {
    read(app, principal, list, what, async { Ok(()) }).await.map(|(role, ())| role)
}

/// Refuses a viewer's write with 403: they can see the list, so its existence is no secret.
pub fn require_writer(role: Role) -> Result<(), Error> {
    if role.writes_tasks() { Ok(()) } else { Err(Error::Forbidden("a viewer of this list cannot change it")) }
}

/// What a store's `AccessDenied` means to the caller: their membership went (or was
/// demoted) between the check and the write. Answered as the check would answer now.
pub async fn denied(app: &App, principal: Principal, list: ListId, what: &'static str) -> Error {
    match role(app, principal, list, what).await.and_then(require_writer) {
        Err(error) => error,
        // Restored in between: rare enough that a retry is the honest answer.
        Ok(()) => Error::Conflict("your access to this list changed during the request; retry".to_owned()),
    }
}

/// The caller as the writer of `list`'s items.
pub fn as_writer(principal: Principal, list: ListId) -> Writer {
    Writer::Member { user: principal.user_id, list }
}
