//! Request → use case → response, for each task-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::App;
use todo_domain::model::Task;
use todo_domain::usecases::idempotency::Idempotency;
use todo_domain::usecases::tasks;
use todo_http::{Authenticated, HttpError, IdempotencyKeyHeader, IfMatch, JsonBody, ListPath, QueryParams, TaskPath, etag};

use todo_http::openapi::{IdempotencyParams, IfMatchParams, ListParams, TaskParams};

use crate::representation::{CreateTaskBody, ListQuery, NewTaskSchema, TaskListView, TaskPatchBody, TaskView};

/// A single task with its `ETag`.
fn task_response(status: StatusCode, task: &Task) -> Response {
    let mut response = (status, Json(TaskView::from(task))).into_response();
    response.headers_mut().insert(header::ETAG, etag(task.version));
    response
}

#[utoipa::path(post, path = "/lists/{list_id}/tasks", operation_id = "task-create", tag = "tasks",
    summary = "Create a task in a list",
    params(ListParams, IdempotencyParams), request_body = NewTaskSchema, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created; with a replayed `Idempotency-Key`, the task first created.", body = TaskView,
            headers(("ETag" = String, description = "The task's version"), ("Location" = String, description = "The task's URL"),
                ("Idempotent-Replayed" = String, description = "`true` when this answers an earlier request with the same key")),
            links(("GetTask" = (operation_id = "task-get", parameters(("list_id" = "$response.body#/list_id"), ("task_id" = "$response.body#/id")))),
                ("UpdateTask" = (operation_id = "task-update", parameters(("list_id" = "$response.body#/list_id"), ("task_id" = "$response.body#/id")))),
                ("DeleteTask" = (operation_id = "task-delete", parameters(("list_id" = "$response.body#/list_id"), ("task_id" = "$response.body#/id")))),
                ("RequestUpload" = (operation_id = "file-upload-url", parameters(("list_id" = "$response.body#/list_id"), ("task_id" = "$response.body#/id")))))),
        (status = 403, description = "A viewer cannot add tasks."),
        (status = 409, description = "The `Idempotency-Key` was used with another request, or the caller's access changed while the task was being created."),
    ))]
pub async fn create_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    body: JsonBody<CreateTaskBody>,
) -> Result<Response, HttpError> {
    let idempotency = key.map(|key| Idempotency::for_request(key, &body.canonical));
    let created = tasks::create_task(&app, principal, list, body.value.try_into()?, idempotency).await?;
    let mut response = task_response(StatusCode::CREATED, &created.task);
    let location = HeaderValue::from_str(&format!("/lists/{list}/tasks/{}", created.task.id)).expect("ids are header-safe");
    response.headers_mut().insert(header::LOCATION, location);
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

#[utoipa::path(get, path = "/lists/{list_id}/tasks", operation_id = "task-list", tag = "tasks",
    summary = "A list's tasks, filtered and paged",
    params(ListParams, ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of tasks.", body = TaskListView)))]
pub async fn list_tasks(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    ListPath(list): ListPath,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TaskListView>, HttpError> {
    let page = tasks::list_tasks(&app, principal, list, query.try_into()?).await?;
    Ok(Json(TaskListView { items: page.items.iter().map(TaskView::from).collect(), next_cursor: page.next_cursor }))
}

/// `GET /tasks`: the same filters and page shape, across every list of the caller's.
#[utoipa::path(get, path = "/tasks", operation_id = "task-search", tag = "tasks",
    summary = "Tasks across all the caller's lists, filtered and paged",
    params(ListQuery), security(("bearer" = [])),
    responses((status = 200, description = "A page of tasks.", body = TaskListView)))]
pub async fn list_all_tasks(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TaskListView>, HttpError> {
    let page = tasks::list_all_tasks(&app, principal, query.try_into()?).await?;
    Ok(Json(TaskListView { items: page.items.iter().map(TaskView::from).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/lists/{list_id}/tasks/{task_id}", operation_id = "task-get", tag = "tasks",
    summary = "A task",
    params(TaskParams), security(("bearer" = [])),
    responses((status = 200, description = "The task.", body = TaskView, headers(("ETag" = String, description = "The task's version")))))]
pub async fn get_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
) -> Result<Response, HttpError> {
    let task = tasks::get_task(&app, principal, list, task).await?;
    Ok(task_response(StatusCode::OK, &task))
}

#[utoipa::path(patch, path = "/lists/{list_id}/tasks/{task_id}", operation_id = "task-update", tag = "tasks",
    summary = "Change a task (JSON merge patch)",
    params(TaskParams, IfMatchParams), request_body(content = TaskPatchBody, content_type = "application/merge-patch+json"), security(("bearer" = [])),
    responses(
        (status = 200, description = "The task as changed.", body = TaskView, headers(("ETag" = String, description = "The task's new version"))),
        (status = 403, description = "A viewer cannot change tasks (moving needs editor rights on both lists)."),
        (status = 409, description = "The task kept changing under concurrent writes, or the caller's access changed meanwhile; retry."),
        (status = 412, description = "`If-Match` names an older version; nothing changed."),
    ))]
pub async fn update_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    IfMatch(if_match): IfMatch,
    body: JsonBody<TaskPatchBody>,
) -> Result<Response, HttpError> {
    let task = tasks::update_task(&app, principal, list, task, body.value.try_into()?, if_match).await?;
    Ok(task_response(StatusCode::OK, &task))
}

#[utoipa::path(delete, path = "/lists/{list_id}/tasks/{task_id}", operation_id = "task-delete", tag = "tasks",
    summary = "Delete a task and its files",
    params(TaskParams, IfMatchParams), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "A viewer cannot delete tasks."),
        (status = 409, description = "Files are still being added to the task, or the caller's access changed meanwhile; retry."),
        (status = 412, description = "`If-Match` names an older version; nothing changed."),
    ))]
pub async fn delete_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode, HttpError> {
    tasks::delete_task(&app, principal, list, task, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}
