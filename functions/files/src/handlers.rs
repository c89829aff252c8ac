//! Request → use case → response, for each storage-service route.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use todo_domain::App;
use todo_domain::usecases::files;
use todo_http::openapi::{FileParams, PageParams, TaskParams};
use todo_http::{Authenticated, FilePath, HttpError, JsonBody, PageQuery, QueryParams, TaskPath};

use crate::representation::{FileListView, FileView, NewFileBody, RequestedUploadView};

#[utoipa::path(post, path = "/lists/{list_id}/tasks/{task_id}/files", operation_id = "file-upload-url", tag = "files",
    summary = "Attach a file to a task: its metadata now, an upload URL for its bytes",
    params(TaskParams), request_body = NewFileBody, security(("bearer" = [])),
    responses(
        (status = 201, description = "Created, pending until the bytes are uploaded to `upload.url`.", body = RequestedUploadView,
            headers(("Location" = String, description = "The file's URL")),
            links(("GetFile" = (operation_id = "file-get", parameters(("list_id" = "$request.path.list_id"), ("task_id" = "$request.path.task_id"), ("file_id" = "$response.body#/file/id")))),
                ("DeleteFile" = (operation_id = "file-delete", parameters(("list_id" = "$request.path.list_id"), ("task_id" = "$request.path.task_id"), ("file_id" = "$response.body#/file/id")))))),
        (status = 403, description = "A viewer cannot add files."),
        (status = 409, description = "The task holds the most files it may, or the caller's access changed during the request."),
    ))]
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

#[utoipa::path(get, path = "/lists/{list_id}/tasks/{task_id}/files", operation_id = "file-list", tag = "files",
    summary = "A task's files, paged",
    params(TaskParams, PageParams), security(("bearer" = [])),
    responses((status = 200, description = "A page of files, oldest first.", body = FileListView)))]
pub async fn list_files(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    TaskPath { list, task }: TaskPath,
    QueryParams(query): QueryParams<PageQuery>,
) -> Result<Json<FileListView>, HttpError> {
    let page = files::list_files(&app, principal, list, task, query.limit()?, query.cursor.as_deref()).await?;
    Ok(Json(FileListView { items: page.items.iter().map(|file| FileView::new(file, None)).collect(), next_cursor: page.next_cursor }))
}

#[utoipa::path(get, path = "/lists/{list_id}/tasks/{task_id}/files/{file_id}", operation_id = "file-get", tag = "files",
    summary = "A file, with a download URL once it is available",
    params(FileParams), security(("bearer" = [])),
    responses((status = 200, description = "The file; `download` when its bytes have arrived.", body = FileView)))]
pub async fn get_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    FilePath { list, task, file }: FilePath,
) -> Result<Json<FileView>, HttpError> {
    let found = files::get_file(&app, principal, list, task, file).await?;
    Ok(Json(FileView::new(&found.file, found.download)))
}

#[utoipa::path(delete, path = "/lists/{list_id}/tasks/{task_id}/files/{file_id}", operation_id = "file-delete", tag = "files",
    summary = "Delete a file and its bytes",
    params(FileParams), security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted."),
        (status = 403, description = "A viewer cannot delete files."),
        (status = 409, description = "The caller's access to the list changed during the request; retry."),
    ))]
pub async fn delete_file(
    State(app): State<App>,
    Authenticated(principal): Authenticated,
    FilePath { list, task, file }: FilePath,
) -> Result<StatusCode, HttpError> {
    files::delete_file(&app, principal, list, task, file).await?;
    Ok(StatusCode::NO_CONTENT)
}
