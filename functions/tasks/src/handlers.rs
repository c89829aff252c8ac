//! Request → use case → response, for each task-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::model::{Task, TaskId};
use todo_domain::usecases::tasks::{self, Idempotency};
use todo_domain::{App, Error};
use todo_http::{Authenticated, HttpError, IdempotencyKeyHeader, IfMatch, JsonBody, PathParam, QueryParams, etag, parse_path_id};

use crate::representation::{CreateTaskBody, ListQuery, TaskListView, TaskPatchBody, TaskView};

/// A single task with its `ETag`.
fn task_response(status: StatusCode, task: &Task) -> Response {
    let mut response = (status, Json(TaskView::from(task))).into_response();
    response.headers_mut().insert(header::ETAG, etag(task.version));
    response
}

fn task_id(raw: &str) -> Result<TaskId, Error> {
    parse_path_id("id", raw, TaskId::parse)
}

pub async fn create_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    IdempotencyKeyHeader(key): IdempotencyKeyHeader,
    body: JsonBody<CreateTaskBody>,
) -> Result<Response, HttpError> {
    let idempotency = key.map(|key| Idempotency::for_request(key, &body.canonical));
    let created = tasks::create_task(&app, principal, principal.inbox(), body.value.try_into()?, idempotency).await?;
    let mut response = task_response(StatusCode::CREATED, &created.task);
    let location = HeaderValue::from_str(&format!("/tasks/{}", created.task.id)).expect("ids are header-safe");
    response.headers_mut().insert(header::LOCATION, location);
    if created.replayed {
        response.headers_mut().insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    Ok(response)
}

pub async fn list_tasks(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<TaskListView>, HttpError> {
    let page = tasks::list_tasks(&app, principal, principal.inbox(), query.try_into()?).await?;
    Ok(Json(TaskListView { items: page.items.iter().map(TaskView::from).collect(), next_cursor: page.next_cursor }))
}

pub async fn get_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    PathParam(id): PathParam,
) -> Result<Response, HttpError> {
    let task = tasks::get_task(&app, principal, principal.inbox(), task_id(&id)?).await?;
    Ok(task_response(StatusCode::OK, &task))
}

pub async fn update_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
    body: JsonBody<TaskPatchBody>,
) -> Result<Response, HttpError> {
    let id = task_id(&id)?;
    let task = tasks::update_task(&app, principal, principal.inbox(), id, body.value.try_into()?, if_match).await?;
    Ok(task_response(StatusCode::OK, &task))
}

pub async fn delete_task(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    PathParam(id): PathParam,
    IfMatch(if_match): IfMatch,
) -> Result<StatusCode, HttpError> {
    tasks::delete_task(&app, principal, principal.inbox(), task_id(&id)?, if_match).await?;
    Ok(StatusCode::NO_CONTENT)
}
