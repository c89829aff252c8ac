//! The storage service: files attached to tasks. Bytes never pass through a function:
//! clients PUT and GET them with presigned URLs; these operations hand out URLs and keep
//! metadata, and `uploaded` records arrivals from the bucket's events.

mod handlers;
mod representation;
pub mod uploaded;

use axum::routing::{delete, get, post};
use http::Method;
use todo_http::{Access, Operation};

pub static REQUEST_UPLOAD: Operation = Operation {
    binary: "file-upload-url",
    method: Method::POST,
    path: "/lists/{list_id}/tasks/{task_id}/files",
    access: Access::Write,
    route: || post(handlers::request_upload),
};
pub static LIST_FILES: Operation = Operation {
    binary: "file-list",
    method: Method::GET,
    path: "/lists/{list_id}/tasks/{task_id}/files",
    access: Access::Read,
    route: || get(handlers::list_files),
};
pub static GET_FILE: Operation = Operation {
    binary: "file-get",
    method: Method::GET,
    path: "/lists/{list_id}/tasks/{task_id}/files/{file_id}",
    access: Access::Read,
    route: || get(handlers::get_file),
};
pub static DELETE_FILE: Operation = Operation {
    binary: "file-delete",
    method: Method::DELETE,
    path: "/lists/{list_id}/tasks/{task_id}/files/{file_id}",
    access: Access::Write,
    route: || delete(handlers::delete_file),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(handlers::request_upload, handlers::list_files, handlers::get_file, handlers::delete_file))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every HTTP operation of this service (`file-uploaded` is driven by S3 events instead).
pub static OPERATIONS: [&Operation; 4] = [&REQUEST_UPLOAD, &LIST_FILES, &GET_FILE, &DELETE_FILE];
