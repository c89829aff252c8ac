//! The JSON the storage service reads and writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::error::Collector;
use todo_domain::model::{ContentType, FileName, FileRecord, FileStatus, Timestamp};
use todo_domain::ports::PresignedRequest;
use todo_domain::usecases::files::NewFile;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewFileBody {
    name: String,
    content_type: String,
    size: i64,
}

impl TryFrom<NewFileBody> for NewFile {
    type Error = Error;
    fn try_from(body: NewFileBody) -> Result<Self, Error> {
        let mut errors = Collector::new();
        let name = errors.take("name", FileName::parse(&body.name));
        let content_type = errors.take("content_type", ContentType::parse(&body.content_type));
        errors.finish()?;
        Ok(Self { name: name.expect("checked"), content_type: content_type.expect("checked"), size: body.size })
    }
}

#[derive(Debug, Serialize)]
pub struct DownloadView {
    url: String,
    expires_at: Timestamp,
}

#[derive(Debug, Serialize)]
pub struct FileView {
    id: String,
    task_id: String,
    name: String,
    content_type: String,
    /// What arrived, once it has; until then what the client declared.
    size: u64,
    status: FileStatus,
    created_at: Timestamp,
    uploaded_at: Option<Timestamp>,
    #[serde(skip_serializing_if = "Option::is_none")]
    download: Option<DownloadView>,
}

impl FileView {
    pub fn new(file: &FileRecord, download: Option<PresignedRequest>) -> Self {
        Self {
            id: file.id.to_string(),
            task_id: file.task_id.to_string(),
            name: file.name.as_str().to_owned(),
            content_type: file.content_type.as_str().to_owned(),
            size: file.size.unwrap_or(file.declared_size),
            status: file.status,
            created_at: file.created_at,
            uploaded_at: file.uploaded_at,
            download: download.map(|download| DownloadView { url: download.url, expires_at: download.expires_at }),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct UploadView {
    url: String,
    method: &'static str,
    /// Send exactly these headers with the upload: they are part of its signature.
    headers: BTreeMap<String, String>,
    expires_at: Timestamp,
}

impl From<PresignedRequest> for UploadView {
    fn from(request: PresignedRequest) -> Self {
        Self { url: request.url, method: request.method, headers: request.headers.into_iter().collect(), expires_at: request.expires_at }
    }
}

#[derive(Debug, Serialize)]
pub struct RequestedUploadView {
    pub file: FileView,
    pub upload: UploadView,
}

#[derive(Debug, Serialize)]
pub struct FileListView {
    pub items: Vec<FileView>,
    pub next_cursor: Option<String>,
}
