//! Request → use case → response, for each storage-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::model::{FileId, TaskId};
use todo_domain::usecases::files;
use todo_domain::{App, Error};
use todo_http::{Authenticated, HttpError, JsonBody, PathParams, QueryParams, parse_path_id};

use crate::representation::{FileListView, FileView, ListQuery, NewFileBody, RequestedUploadView};

fn task_id(params: &PathParams) -> Result<TaskId, Error> {
    parse_path_id("id", params.get("id")?, TaskId::parse)
}

fn file_id(params: &PathParams) -> Result<FileId, Error> {
    parse_path_id("file_id", params.get("file_id")?, FileId::parse)
}

pub async fn request_upload(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    params: PathParams,
    body: JsonBody<NewFileBody>,
) -> Result<Response, HttpError> {
    let task = task_id(&params)?;
    let requested = files::request_upload(&app, principal, principal.inbox(), task, body.value.try_into()?).await?;
    let location = HeaderValue::from_str(&format!("/tasks/{task}/files/{}", requested.file.id)).expect("ids are header-safe");
    let view = RequestedUploadView { file: FileView::new(&requested.file, None), upload: requested.upload.into() };
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

pub async fn list_files(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    params: PathParams,
    QueryParams(query): QueryParams<ListQuery>,
) -> Result<Json<FileListView>, HttpError> {
    let task = task_id(&params)?;
    let page = files::list_files(&app, principal, principal.inbox(), task, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(FileListView { items: page.items.iter().map(|file| FileView::new(file, None)).collect(), next_cursor: page.next_cursor }))
}

pub async fn get_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    params: PathParams,
) -> Result<Json<FileView>, HttpError> {
    let found = files::get_file(&app, principal, principal.inbox(), task_id(&params)?, file_id(&params)?).await?;
    Ok(Json(FileView::new(&found.file, found.download)))
}

pub async fn delete_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    params: PathParams,
) -> Result<StatusCode, HttpError> {
    files::delete_file(&app, principal, principal.inbox(), task_id(&params)?, file_id(&params)?).await?;
    Ok(StatusCode::NO_CONTENT)
}
