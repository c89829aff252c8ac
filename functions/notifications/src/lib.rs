//! The notifications service: a user's feed of reminders and overdue tasks, written by the
//! reminders job (`todo_domain::usecases::reminders`). One `Operation` per route; each has
//! its own Lambda binary in `src/bin/`, and the local server mounts them all.

mod handlers;
mod representation;

use axum::routing::{get, patch};
use http::Method;
use todo_http::{Access, Operation};

pub static LIST_NOTIFICATIONS: Operation = Operation {
    binary: "notification-list",
    method: Method::GET,
    path: "/notifications",
    access: Access::Read,
    route: || get(handlers::list_notifications),
};
pub static UPDATE_NOTIFICATION: Operation = Operation {
    binary: "notification-update",
    method: Method::PATCH,
    path: "/notifications/{id}",
    access: Access::Write,
    route: || patch(handlers::update_notification),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(handlers::list_notifications, handlers::update_notification))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every operation of this service.
pub static OPERATIONS: [&Operation; 2] = [&LIST_NOTIFICATIONS, &UPDATE_NOTIFICATION];
