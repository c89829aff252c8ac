//! The JSON the storage service reads and writes.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use todo_domain::Error;
use todo_domain::app::FileLimits;
use todo_domain::error::Collector;
use todo_domain::model::{ContentType, FileName, FileRecord, FileStatus, Timestamp};
use todo_domain::ports::PresignedRequest;
use todo_domain::usecases::files::NewFile;
use todo_http::openapi;
use utoipa::ToSchema;
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

/// `text` as a pattern matching it in any ASCII case (`ContentType::parse` lower-cases).
fn any_case(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            c if c.is_ascii_alphabetic() => format!("[{}{}]", c.to_ascii_lowercase(), c.to_ascii_uppercase()),
            '.' | '+' | '*' | '?' | '(' | ')' | '[' | ']' | '{' | '}' | '|' | '^' | '$' | '\\' => format!("\\{c}"),
            c => c.to_string(),
        })
        .collect()
}

/// A media type `request_upload` accepts: `ContentType::parse`, less the types refused by
/// default (`FileLimits::default().denied_types`, in any case).
fn accepted_content_type() -> ObjectBuilder {
    let denied = FileLimits::default().denied_types;
    let base = openapi::content_type().build();
    let pattern = base.pattern.clone().unwrap_or_default();
    let rest = pattern.strip_prefix('^').unwrap_or(&pattern);
    let refused = denied.iter().map(|kind| any_case(kind)).collect::<Vec<_>>().join("|");
    ObjectBuilder::from(base)
        .pattern(Some(format!("^(?!(?:{refused})$){rest}")))
        .description(Some(format!("A media type without parameters (kept lower-cased); not {}.", denied.join(", "))))
}

/// The declared size in bytes: 1 to the largest file accepted (`FileLimits::max_file_bytes`,
/// by default).
fn file_size() -> ObjectBuilder {
    let max = FileLimits::default().max_file_bytes;
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(KnownFormat::Int64)))
        .minimum(Some(1))
        .maximum(Some(max))
        .description(Some(format!("The size in bytes the upload will have, 1 to {max}; the upload URL allows exactly this size.")))
        .examples([48_213])
}

fn file_status() -> ObjectBuilder {
    openapi::enumeration(&["pending", "available"]).description(Some("`pending` until the upload arrives, then `available`."))
}

/// A file to attach to a task: its metadata, declared before the upload.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(as = NewFile)]
pub struct NewFileBody {
    #[schema(schema_with = openapi::file_name)]
    name: String,
    #[schema(schema_with = accepted_content_type)]
    content_type: String,
    #[schema(schema_with = file_size)]
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

/// A presigned URL to GET the file's bytes from.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Download)]
pub struct DownloadView {
    url: String,
    /// The URL stops working then.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

/// A file attached to a task (its metadata).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = File)]
pub struct FileView {
    id: String,
    task_id: String,
    name: String,
    content_type: String,
    /// Bytes: what arrived, once it has; until then what the client declared.
    size: u64,
    #[schema(schema_with = file_status)]
    status: FileStatus,
    #[schema(value_type = String, format = DateTime)]
    created_at: Timestamp,
    /// When the upload arrived (`null` while pending).
    #[schema(value_type = Option<String>, format = DateTime, required = true)]
    uploaded_at: Option<Timestamp>,
    /// Only on `GET` of an available file.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
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

fn upload_method() -> ObjectBuilder {
    openapi::enumeration(&["PUT"])
}

/// How to upload the file's bytes: a presigned request, sent straight to storage.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = Upload)]
pub struct UploadView {
    url: String,
    #[schema(schema_with = upload_method)]
    method: &'static str,
    /// Send exactly these headers with the upload: they are part of its signature.
    headers: BTreeMap<String, String>,
    /// The URL stops working then; a file still pending some time after is removed.
    #[schema(value_type = String, format = DateTime)]
    expires_at: Timestamp,
}

impl From<PresignedRequest> for UploadView {
    fn from(request: PresignedRequest) -> Self {
        Self { url: request.url, method: request.method, headers: request.headers.into_iter().collect(), expires_at: request.expires_at }
    }
}

/// The new file (pending) and how to upload its bytes.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = RequestedUpload)]
pub struct RequestedUploadView {
    pub file: FileView,
    pub upload: UploadView,
}

/// A page of a task's files; `next_cursor` fetches the next (`null` on the last page).
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FilePage)]
pub struct FileListView {
    pub items: Vec<FileView>,
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}
