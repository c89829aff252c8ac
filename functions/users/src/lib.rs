//! The user service: accounts and sessions. One `Operation` per route; each has its own
//! Lambda binary in `src/bin/`, and the local server mounts them all.

mod handlers;
pub mod purge;
mod representation;

use axum::routing::{delete, get, patch, post};
use http::Method;
use todo_http::{Access, Operation};

pub static SIGN_UP: Operation =
    Operation { binary: "user-signup", method: Method::POST, path: "/users", access: Access::Write, route: || post(handlers::sign_up) };
pub static LOG_IN: Operation = Operation {
    binary: "session-create",
    method: Method::POST,
    path: "/sessions",
    access: Access::Write,
    route: || post(handlers::log_in),
};
pub static REFRESH: Operation = Operation {
    binary: "session-refresh",
    method: Method::POST,
    path: "/sessions/refresh",
    access: Access::Write,
    route: || post(handlers::refresh),
};
pub static LOG_OUT: Operation = Operation {
    binary: "session-delete",
    method: Method::DELETE,
    path: "/sessions/current",
    access: Access::Write,
    route: || delete(handlers::log_out),
};
pub static GET_ME: Operation =
    Operation { binary: "user-me-get", method: Method::GET, path: "/users/me", access: Access::Read, route: || get(handlers::get_me) };
pub static UPDATE_ME: Operation = Operation {
    binary: "user-me-update",
    method: Method::PATCH,
    path: "/users/me",
    access: Access::Write,
    route: || patch(handlers::update_me),
};
pub static DELETE_ME: Operation = Operation {
    binary: "user-me-delete",
    method: Method::DELETE,
    path: "/users/me",
    access: Access::Write,
    route: || delete(handlers::delete_me),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        handlers::sign_up,
        handlers::log_in,
        handlers::refresh,
        handlers::log_out,
        handlers::get_me,
        handlers::update_me,
        handlers::delete_me
    ))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every operation of this service.
pub static OPERATIONS: [&Operation; 7] = [&SIGN_UP, &LOG_IN, &REFRESH, &LOG_OUT, &GET_ME, &UPDATE_ME, &DELETE_ME];
