//! The lists service: create, read, page through, rename or recolour and delete lists, over
//! `todo_domain::usecases::lists`. One `Operation` per route; each has its own Lambda binary
//! in `src/bin/`, and the local server mounts them all. A list is rendered with the caller's
//! role in it and its `ETag` (`ListView`, `list_response`: the sharing service answers an
//! accepted invitation with them).

mod handlers;

use axum::routing::{delete, get, patch, post};
use http::Method;
use todo_http::{Access, Operation};

pub use handlers::{ListView, list_response};

pub static CREATE_LIST: Operation =
    Operation { binary: "list-create", method: Method::POST, path: "/lists", access: Access::Write, route: || post(handlers::create_list) };
pub static LIST_LISTS: Operation =
    Operation { binary: "list-list", method: Method::GET, path: "/lists", access: Access::Read, route: || get(handlers::list_lists) };
pub static GET_LIST: Operation = Operation {
    binary: "list-get",
    method: Method::GET,
    path: "/lists/{list_id}",
    access: Access::Read,
    route: || get(handlers::get_list),
};
pub static UPDATE_LIST: Operation = Operation {
    binary: "list-update",
    method: Method::PATCH,
    path: "/lists/{list_id}",
    access: Access::Write,
    route: || patch(handlers::update_list),
};
pub static DELETE_LIST: Operation = Operation {
    binary: "list-delete",
    method: Method::DELETE,
    path: "/lists/{list_id}",
    access: Access::Write,
    route: || delete(handlers::delete_list),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(handlers::create_list, handlers::list_lists, handlers::get_list, handlers::update_list, handlers::delete_list))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every operation of this service.
pub static OPERATIONS: [&Operation; 5] = [&CREATE_LIST, &LIST_LISTS, &GET_LIST, &UPDATE_LIST, &DELETE_LIST];
