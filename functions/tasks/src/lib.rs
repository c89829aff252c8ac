//! The task service: the tasks in a list. One `Operation` per route; each has its own Lambda
//! binary in `src/bin/`, and the local server mounts them all. Task creation lives in
//! `handlers::create_task` (HTTP) over `todo_domain::usecases::tasks::create_task` (rules).

mod handlers;
mod representation;

use axum::routing::{delete, get, patch, post};
use http::Method;
use todo_http::{Access, Operation};

pub static LIST_ALL_TASKS: Operation =
    Operation { binary: "task-search", method: Method::GET, path: "/tasks", access: Access::Read, route: || get(handlers::list_all_tasks) };
pub static CREATE_TASK: Operation = Operation {
    binary: "task-create",
    method: Method::POST,
    path: "/lists/{list_id}/tasks",
    access: Access::Write,
    route: || post(handlers::create_task),
};
pub static LIST_TASKS: Operation = Operation {
    binary: "task-list",
    method: Method::GET,
    path: "/lists/{list_id}/tasks",
    access: Access::Read,
    route: || get(handlers::list_tasks),
};
pub static GET_TASK: Operation = Operation {
    binary: "task-get",
    method: Method::GET,
    path: "/lists/{list_id}/tasks/{task_id}",
    access: Access::Read,
    route: || get(handlers::get_task),
};
pub static UPDATE_TASK: Operation = Operation {
    binary: "task-update",
    method: Method::PATCH,
    path: "/lists/{list_id}/tasks/{task_id}",
    access: Access::Write,
    route: || patch(handlers::update_task),
};
pub static DELETE_TASK: Operation = Operation {
    binary: "task-delete",
    method: Method::DELETE,
    path: "/lists/{list_id}/tasks/{task_id}",
    access: Access::Write,
    route: || delete(handlers::delete_task),
};

/// This service's part of the OpenAPI document.
pub fn openapi() -> utoipa::openapi::OpenApi {
    #[derive(utoipa::OpenApi)]
    #[openapi(paths(
        handlers::list_all_tasks,
        handlers::create_task,
        handlers::list_tasks,
        handlers::get_task,
        handlers::update_task,
        handlers::delete_task
    ))]
    struct Doc;
    <Doc as utoipa::OpenApi>::openapi()
}

/// Every operation of this service.
pub static OPERATIONS: [&Operation; 6] = [&LIST_ALL_TASKS, &CREATE_TASK, &LIST_TASKS, &GET_TASK, &UPDATE_TASK, &DELETE_TASK];
