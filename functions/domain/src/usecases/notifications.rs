//! The notifications feed: list (newest first, optionally unread only) and mark read.

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::Error;
use crate::model::{Notification, NotificationId};
use crate::ports::{PageRequest, StoreError};
use crate::usecases::tasks::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// The name cursors of this list are bound to (a cursor from the unread view is not one of
/// the full feed: the filter is part of the name).
fn list_name(unread_only: bool) -> &'static str {
    if unread_only { "notifications:unread" } else { "notifications" }
}

#[derive(Debug, Default)]
pub struct ListNotifications {
    pub unread_only: bool,
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

#[derive(Debug)]
pub struct NotificationPage {
    pub items: Vec<Notification>,
    pub next_cursor: Option<String>,
}

#[instrument(skip_all, fields(user_id = %principal.user_id))]
pub async fn list_notifications(app: &App, principal: Principal, query: ListNotifications) -> Result<NotificationPage, Error> {
    let name = list_name(query.unread_only);
    let after = match &query.cursor {
        Some(cursor) => {
            Some(app.cursors.decode::<NotificationId>(principal.user_id, name, cursor).map_err(|message| Error::field("cursor", message))?)
        }
        None => None,
    };
    let limit = query.limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let page = app
        .stores
        .notifications
        .list_notifications(principal.user_id, query.unread_only, app.clock.now(), PageRequest { limit, after })
        .await?;
    let next_cursor = page.next.map(|last| app.cursors.encode(principal.user_id, name, &last));
    Ok(NotificationPage { items: page.items, next_cursor })
}

/// An owner's live notification; another user's, an expired or a missing one is a 404.
pub async fn get_notification(app: &App, principal: Principal, id: NotificationId) -> Result<Notification, Error> {
    let now = app.clock.now();
    app.stores
        .notifications
        .get_notification(principal.user_id, id)
        .await?
        .filter(|notification| !notification.is_expired(now))
        .ok_or(Error::NotFound("notification"))
}

/// Marks a notification read (or unread again). Idempotent: marking a read notification
/// read keeps the time it was first read.
#[instrument(skip_all, fields(user_id = %principal.user_id, notification_id = %id))]
pub async fn mark_notification(app: &App, principal: Principal, id: NotificationId, read: bool) -> Result<Notification, Error> {
    let notification = get_notification(app, principal, id).await?;
    if notification.read_at.is_some() == read {
        return Ok(notification);
    }
    let read_at = read.then(|| app.clock.now());
    match app.stores.notifications.set_notification_read(principal.user_id, id, read_at).await {
        Ok(()) => Ok(Notification { read_at, ..notification }),
        Err(StoreError::NotFound) => Err(Error::NotFound("notification")),
        Err(other) => Err(other.into()),
    }
}
