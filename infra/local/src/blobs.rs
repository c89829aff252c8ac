//! The local stand-in for S3's presigned URLs: `PUT` and `GET` on `/blobs/<key>?<signed query>`.
//! The URLs are checked by `LocalBlobs` (signature, expiry, exact type and length).

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::put;
use todo_adapters::embedded::{BlobRefusal, LocalBlobs};
use todo_domain::App;
use todo_domain::clock::{Clock as _, SystemClock};
use todo_domain::ports::ObjectKey;

/// Uploads up to this size are accepted by the local blob store (S3's single PUT allows 5 GB).
pub const MAX_LOCAL_UPLOAD_BYTES: usize = 100 * 1024 * 1024;

/// What the blob routes need: the folder, and the app whose use case records arrivals.
#[derive(Clone, Debug)]
struct BlobState {
    blobs: LocalBlobs,
    app: App,
}

pub fn routes(blobs: LocalBlobs, app: App) -> Router {
    Router::new()
        .route("/blobs/{*key}", put(upload).get(download))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_LOCAL_UPLOAD_BYTES))
        .with_state(BlobState { blobs, app })
}

/// A refused blob request, answered as a problem.
struct Refused(BlobRefusal);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        refusal(&self.0)
    }
}

fn refusal(error: &BlobRefusal) -> Response {
    let status = match error {
        BlobRefusal::NotFound => StatusCode::NOT_FOUND,
        BlobRefusal::Io(_) => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::FORBIDDEN,
    };
    if status.is_server_error() {
        tracing::error!(error = %error, "local blob store failed");
    }
    let body = serde_json::json!({"type": "/problems/blob-refused", "title": "Blob request refused", "status": status.as_u16(), "detail": error.to_string()});
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    response
}

fn object_key(raw: &str) -> Result<ObjectKey, Refused> {
    ObjectKey::parse(raw).map_err(|_| Refused(BlobRefusal::NotFound))
}

/// Checks the URL first (nothing of the body is read for a forged or expired one), reads at
/// most the signed length, stores the bytes, then records the arrival as S3's
/// `ObjectCreated` event would.
async fn upload(
    State(BlobState { blobs, app }): State<BlobState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let key = object_key(&key)?;
    let query = query.as_deref().unwrap_or("");
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|value| value.to_str().ok());
    // Checked as the request starts, as S3 does: a URL that expires during a slow upload holds.
    let now = SystemClock.now();
    let length = blobs.admit_put(&key, query, content_type, now).map_err(Refused)?;
    let limit = usize::try_from(length).unwrap_or(usize::MAX).min(MAX_LOCAL_UPLOAD_BYTES);
    let body = axum::body::to_bytes(body, limit).await.map_err(|_| Refused(BlobRefusal::WrongLength(length)))?;
    let info = blobs.put(&key, query, content_type, &body, now).map_err(Refused)?;
    // S3 answers the PUT whatever its event handler later does; so does this. A failure is
    // logged, and the file stays pending (its upload can be retried).
    if let Err(error) = todo_domain::usecases::files::complete_upload(&app, &key).await {
        tracing::error!(error = %error, key = key.as_str(), "recording a local upload failed");
    }
    let mut response = StatusCode::OK.into_response();
    if let Ok(etag) = HeaderValue::from_str(&info.etag) {
        response.headers_mut().insert(header::ETAG, etag);
    }
    Ok(response)
}

async fn download(
    State(BlobState { blobs, .. }): State<BlobState>,
    Path(key): Path<String>,
    RawQuery(query): RawQuery,
) -> Result<Response, Refused> {
    let key = object_key(&key)?;
    let (bytes, info, verified) = blobs.get(&key, query.as_deref().unwrap_or(""), SystemClock.now()).map_err(Refused)?;
    let mut response = bytes.into_response();
    let headers = response.headers_mut();
    let content_type = info.content_type.as_deref().and_then(|value| HeaderValue::from_str(value).ok());
    headers.insert(header::CONTENT_TYPE, content_type.unwrap_or(HeaderValue::from_static("application/octet-stream")));
    if let Some(disposition) = verified.disposition.and_then(|value| HeaderValue::from_str(&value).ok()) {
        headers.insert(header::CONTENT_DISPOSITION, disposition);
    }
    if let Ok(etag) = HeaderValue::from_str(&info.etag) {
        headers.insert(header::ETAG, etag);
    }
    // The stored type is the uploader's word: a browser must not second-guess it into HTML.
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    Ok(response)
}
