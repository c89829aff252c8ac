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

use crate::representation::{CreateTaskBody, ListQuery, TaskListView, TaskPatchBody, TaskView};

/// A single task with its `ETag`.
fn task_response(status: StatusCode, task: &Task) -> Response {
    let mut response = (status, Json(TaskView::from(task))).into_response();
    response.headers_mut().insert(header::ETAG, etag(task.version));
    response
}

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
pub async fn list_all_tasks(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TaskListView>, HttpError> {
    let page = tasks::list_all_tasks(&app, principal, query.try_into()?).await?;
    Ok(Json(TaskListView { items: page.items.iter().map(TaskView::from).collect(), next_cursor: page.next_cursor }))
}

pub async fn get_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
) -> Result<Response, HttpError> {
    let task = tasks::get_task(&app, principal, list, task).await?;
    Ok(task_response(StatusCode::OK, &task))
}

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

pub async fn delete_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode, HttpError> {
    tasks::delete_task(&app, principal, list, task, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}
