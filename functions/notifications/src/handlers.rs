//! Request → use case → response, for each notification route.

use axum::Json;
use axum::extract::State;
use todo_domain::App;
use todo_domain::model::NotificationId;
use todo_domain::usecases::notifications;
use todo_http::{Authenticated, HttpError, JsonBody, PathParam, QueryParams, parse_path_id};

use crate::representation::{ListQuery, NotificationListView, NotificationPatchBody, NotificationView};

pub async fn list_notifications(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<NotificationListView>, HttpError> {
    let page = notifications::list_notifications(&app, principal, query.try_into()?).await?;
    Ok(Json(NotificationListView { items: page.items.iter().map(NotificationView::from).collect(), next_cursor: page.next_cursor }))
}

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
