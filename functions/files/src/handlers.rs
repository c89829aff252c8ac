//! Request → use case → response, for each storage-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::App;
use todo_domain::usecases::files;
use todo_http::{Authenticated, FilePath, HttpError, JsonBody, PageQuery, QueryParams, TaskPath};

use crate::representation::{FileListView, FileView, NewFileBody, RequestedUploadView};

pub async fn request_upload(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    body: JsonBody<NewFileBody>,
) -> Result<Response, HttpError> {
    let requested = files::request_upload(&app, principal, list, task, body.value.try_into()?).await?;
    let location = HeaderValue::from_str(&format!("/lists/{list}/tasks/{task}/files/{}", requested.file.id)).expect("ids are header-safe");
    let view = RequestedUploadView { file: FileView::new(&requested.file, None), upload: requested.upload.into() };
    let mut response = (StatusCode::CREATED, Json(view)).into_response();
    response.headers_mut().insert(header::LOCATION, location);
    Ok(response)
}

pub async fn list_files(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<FileListView>, HttpError> {
    let page = files::list_files(&app, principal, list, task, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(FileListView { items: page.items.iter().map(|file| FileView::new(file, None)).collect(), next_cursor: page.next_cursor }))
}

pub async fn get_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    FilePath { list, task, file }: FilePath,
) -> Result<Json<FileView>, HttpError> {
    let found = files::get_file(&app, principal, list, task, file).await?;
    Ok(Json(FileView::new(&found.file, found.download)))
}

pub async fn delete_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    FilePath { list, task, file }: FilePath,
) -> Result<StatusCode, HttpError> {
    files::delete_file(&app, principal, list, task, file).await?;
    Ok(StatusCode::NO_CONTENT)
}
