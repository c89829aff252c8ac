//! Request → use case → response, for each notification route.

use axum::Json;
use axum::extract::State;
use todo_domain::App;
use todo_domain::model::NotificationId;
use todo_domain::usecases::notifications;
use todo_http::{Authenticated, HttpError, JsonBody, PathParam, QueryParams, parse_path_id};

use todo_http::openapi::NotificationParams;

use crate::representation::{ListQuery, NotificationListView, NotificationPatchBody, NotificationView};

#[utoipa::path(get, path = "/notifications", operation_id = "notification-list", tag = "notifications",
    summary = "The caller's notifications, newest first, paged",
    params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of live notifications.", body = NotificationListView,
        links(("MarkFirst" = (operation_id = "notification-update", parameters(("id" = "$response.body#/items/0/id"))))))))]
pub async fn list_notifications(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<NotificationListView>, HttpError> {
    let page = notifications::list_notifications(&app, principal, query.try_into()?).await?;
    Ok(Json(NotificationListView { items: page.items.iter().map(NotificationView::from).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(patch, path = "/notifications/{id}", operation_id = "notification-update", tag = "notifications",
    summary = "Mark a notification read or unread",
    params(NotificationParams), request_body(content = NotificationPatchBody, content_type = "application/merge-patch+json"), security(("bearer" = [])),
    responses((status = 200, description = "The notification as marked.", body = NotificationView)))]
pub async fn update_notification(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    PathParam(id): PathParam,
    body: JsonBody<NotificationPatchBody>,
) -> Result<Json<NotificationView>, HttpError> {
    let id = parse_path_id("id", &id, NotificationId::parse)?;
    let read = body.value.read()?;
    let notification = notifications::mark_notification(&app, principal, id, read).await?;
    Ok(Json(NotificationView::from(&notification)))
}
