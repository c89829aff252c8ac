//! File attachments: upload URLs, completion on arrival, listing, download URLs, deletion,
//! and the cascade that removes a task's files.

use std::time::Duration;

use tracing::instrument;

use crate::app::App;
use crate::auth::Principal;
use crate::error::{Collector, Error};
use crate::model::{ContentType, FileId, FileName, FileRecord, FileStatus, ListId, TaskId};
use crate::ports::{ObjectKey, PageRequest, PresignedRequest, StoreError, UploadOutcome, UploadSpec, Writer};
use crate::usecases::access;
use crate::usecases::tasks::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE};

/// A file a client wants to upload, parsed at the edge (limits are checked here, as they
/// are configuration).
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: FileName,
    pub content_type: ContentType,
    pub size: i64,
}

#[derive(Debug)]
pub struct RequestedUpload {
    pub file: FileRecord,
    pub upload: PresignedRequest,
}

#[instrument(skip_all, fields(user_id = %principal.user_id, task_id = %task))]
pub async fn request_upload(app: &App, principal: Principal, list: ListId, task: TaskId, new: NewFile) -> Result<RequestedUpload, Error> {
    let limits = &app.settings.files;
    let mut errors = Collector::new();
    let size = u64::try_from(new.size).ok().filter(|size| (1..=limits.max_file_bytes).contains(size));
    if size.is_none() {
        errors.push("size", format!("must be from 1 to {} bytes", limits.max_file_bytes));
    }
    if limits.denied_types.iter().any(|denied| denied == new.content_type.as_str()) {
        errors.push("content_type", format!("{} files are not accepted", new.content_type.as_str()));
    }
    errors.finish()?;
    let size = size.expect("checked");
    let now = app.clock.now();
    let expires_in = Duration::from_secs(limits.upload_url_seconds);
    let file = FileRecord {
        id: FileId::generate(),
        uploaded_by: principal.user_id,
        task_id: task,
        name: new.name,
        content_type: new.content_type,
        declared_size: size,
        size: None,
        etag: None,
        status: FileStatus::Pending,
        created_at: now,
        upload_expires_at: now.after(expires_in),
        uploaded_at: None,
    };
    match app.stores.files.create_file(list, &file, limits.max_files_per_task).await {
        Ok(()) => {}
        Err(StoreError::NotFound) => return Err(Error::NotFound("task")),
        Err(StoreError::AccessDenied) => return Err(access::denied(app, principal, list, "task").await),
        Err(StoreError::LimitReached) => return Err(Error::Conflict(format!("a task holds at most {} files", limits.max_files_per_task))),
        Err(StoreError::OwnerMissing) => return Err(Error::Unauthenticated("the account no longer exists")),
        Err(other) => return Err(other.into()),
    }
    let spec = UploadSpec { content_type: file.content_type.as_str().to_owned(), content_length: size };
    let upload = app.stores.blobs.presign_put(&file.object_key(), &spec, expires_in, now).await?;
    Ok(RequestedUpload { file, upload })
}

/// What an object arriving in the store led to.
#[derive(Debug, PartialEq, Eq)]
pub enum Arrival {
    Completed,
    /// The same event again (or a second upload to one URL): nothing changed.
    Duplicate,
    /// No metadata names this object (foreign, or its file was deleted): it was removed.
    Orphan,
    /// Not what the upload URL allowed (a store that does not enforce URLs): removed.
    Rejected,
    /// The object is no longer there (deleted since): nothing to do.
    Gone,
    /// Other bytes than the ones recorded, under an available file: its upload URL (alive
    /// 15 minutes) was used again. The file is removed, bytes and all: its size and ETag no
    /// longer describe what is stored, and nobody reviewed the new bytes.
    Replaced,
}

/// Records an object's arrival. Trusts neither the client's declared size nor the event:
/// asks the store what is there.
#[instrument(skip_all, fields(key = key.as_str()))]
pub async fn complete_upload(app: &App, key: &ObjectKey) -> Result<Arrival, Error> {
    let Some((_, task, id)) = key.file_ids() else {
        app.stores.blobs.delete(key).await?;
        return Ok(Arrival::Orphan);
    };
    // The record must name this very key (uploader included): any other object is foreign.
    let Some(file) = app.stores.files.get_file(task, id).await?.filter(|file| file.object_key() == *key) else {
        app.stores.blobs.delete(key).await?;
        return Ok(Arrival::Orphan);
    };
    let Some(info) = app.stores.blobs.head(key).await? else {
        return Ok(Arrival::Gone);
    };
    if file.status == FileStatus::Available {
        if file.etag.as_deref() == Some(info.etag.as_str()) {
            // The same bytes put again came with the upload URL's pending mark again.
            app.stores.blobs.keep(key).await?;
            return Ok(Arrival::Duplicate);
        }
        return replaced(app, &file, &info).await;
    }
    if info.size != file.declared_size || info.size > app.settings.files.max_file_bytes {
        tracing::warn!(declared = file.declared_size, actual = info.size, "upload does not match its URL; removing it");
        app.stores.blobs.delete(key).await?;
        return Ok(Arrival::Rejected);
    }
    // Kept first, recorded second. A failure in between leaves the file pending, which the
    // event's retry or housekeeping's `expire_upload` finishes (completing it, or removing
    // the bytes); the other order could leave an available file's bytes tagged for expiry
    // with nothing left to retry the untagging (housekeeping lists only pending files).
    app.stores.blobs.keep(key).await?;
    match app.stores.files.mark_uploaded(task, id, &info, app.clock.now()).await {
        Ok(UploadOutcome::Completed(_)) => Ok(Arrival::Completed),
        // Recorded meanwhile by another upload's event (the URL was used twice): other bytes
        // than the recorded ones are a reuse, handled as above.
        Ok(UploadOutcome::AlreadyAvailable(recorded)) if recorded.etag.as_deref() != Some(info.etag.as_str()) => {
            replaced(app, &recorded, &info).await
        }
        Ok(UploadOutcome::AlreadyAvailable(_)) => Ok(Arrival::Duplicate),
        Err(StoreError::NotFound) => {
            // Deleted between the read and the write: its object must not linger.
            app.stores.blobs.delete(key).await?;
            Ok(Arrival::Orphan)
        }
        Err(other) => Err(other.into()),
    }
}

/// An available file whose upload URL was used again with other bytes (`Arrival::Replaced`):
/// removed, bytes and all.
async fn replaced(app: &App, file: &FileRecord, arrived: &crate::ports::ObjectInfo) -> Result<Arrival, Error> {
    tracing::warn!(recorded = ?file.etag, arrived = %arrived.etag, "an available file's upload URL was used again with other bytes; removing the file");
    remove(app, Writer::System, file).await?;
    Ok(Arrival::Replaced)
}

/// What giving up on a stale pending upload did.
#[derive(Debug, PartialEq, Eq)]
pub enum Expiry {
    /// Nothing arrived in time: the metadata (and any stray object) is gone.
    Removed,
    /// The bytes had arrived but their event was never processed: the file is now available.
    CompletedLate,
    /// The file is no longer pending (completed or deleted since it was listed).
    NotPending,
}

/// Ends an upload whose URL expired more than the grace period ago. Asks the object store
/// first: bytes that arrived (an event lost or still failing) complete the file instead.
#[instrument(skip_all, fields(task_id = %task, file_id = %id))]
pub async fn expire_upload(app: &App, task: TaskId, id: FileId) -> Result<Expiry, Error> {
    let Some(file) = app.stores.files.get_file(task, id).await? else { return Ok(Expiry::NotPending) };
    if file.status != FileStatus::Pending {
        return Ok(Expiry::NotPending);
    }
    if app.stores.blobs.head(&file.object_key()).await?.is_some()
        && matches!(complete_upload(app, &file.object_key()).await?, Arrival::Completed | Arrival::Duplicate)
    {
        return Ok(Expiry::CompletedLate);
    }
    remove(app, Writer::System, &file).await?;
    Ok(Expiry::Removed)
}

/// A file and, once it is available, a download URL.
#[derive(Debug)]
pub struct FileWithDownload {
    pub file: FileRecord,
    pub download: Option<PresignedRequest>,
}

pub async fn get_file(app: &App, principal: Principal, list: ListId, task: TaskId, id: FileId) -> Result<FileWithDownload, Error> {
    let (_, file) = read_file(app, principal, list, task, id).await?;
    let download = match file.status {
        FileStatus::Available => {
            let expires_in = Duration::from_secs(app.settings.files.download_url_seconds);
            Some(app.stores.blobs.presign_get(&file.object_key(), Some(file.name.as_str()), expires_in, app.clock.now()).await?)
        }
        FileStatus::Pending => None,
    };
    Ok(FileWithDownload { file, download })
}

#[derive(Debug)]
pub struct FilePage {
    pub items: Vec<FileRecord>,
    pub next_cursor: Option<String>,
}

fn file_list(task: TaskId) -> String {
    format!("files:{task}")
}

/// A file of a task in `list`, with the caller's role: membership, task and file are read
/// in one round trip (the task proves the file's task is in the list the path names).
async fn read_file(
    app: &App,
    principal: Principal,
    list: ListId,
    task: TaskId,
    id: FileId,
) -> Result<(crate::model::Role, FileRecord), Error> {
    let items = async { tokio::try_join!(app.stores.tasks.get_task(list, task), app.stores.files.get_file(task, id)) };
    match access::read(app, principal, list, "file", items).await? {
        (role, (Some(_), Some(file))) => Ok((role, file)),
        _ => Err(Error::NotFound("file")),
    }
}

/// One page of a task's files: membership, task and page in one round trip.
pub async fn list_files(
    app: &App,
    principal: Principal,
    list: ListId,
    task: TaskId,
    limit: Option<u32>,
    cursor: Option<&str>,
) -> Result<FilePage, Error> {
    let after = match cursor {
        Some(cursor) => Some(
            app.cursors.decode::<FileId>(principal.user_id, &file_list(task), cursor).map_err(|message| Error::field("cursor", message))?,
        ),
        None => None,
    };
    let limit = limit.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    let items =
        async { tokio::try_join!(app.stores.tasks.get_task(list, task), app.stores.files.list_files(task, PageRequest { limit, after })) };
    let (_, (found, page)) = access::read(app, principal, list, "task", items).await?;
    // A task outside the list (or none) is a 404, not an empty list.
    found.ok_or(Error::NotFound("task"))?;
    let next_cursor = page.next.map(|last| app.cursors.encode(principal.user_id, &file_list(task), &last));
    Ok(FilePage { items: page.items, next_cursor })
}

/// Deletes the object first, then the metadata: an interruption leaves metadata without
/// bytes (retrying the delete finishes it), never bytes nobody can name.
#[instrument(skip_all, fields(user_id = %principal.user_id, task_id = %task, file_id = %id))]
pub async fn delete_file(app: &App, principal: Principal, list: ListId, task: TaskId, id: FileId) -> Result<(), Error> {
    let (role, file) = read_file(app, principal, list, task, id).await?;
    access::require_writer(role)?;
    remove(app, access::as_writer(principal, list), &file).await
}

/// Deletes the object first, then the metadata (as `writer`), then the object again: an
/// upload that landed in between (its URL still valid) leaves no bytes behind. A member who
/// lost the right between the check and here is refused at the metadata (409: a retry
/// answers as the access check then decides); a task moved to another list since it was
/// read is a 404 for the task — checked before the object goes, and again, atomically, at
/// the metadata (a move landing in the milliseconds between leaves that one file's record
/// without its bytes).
async fn remove(app: &App, writer: Writer, file: &FileRecord) -> Result<(), Error> {
    if let Writer::Member { list, .. } = writer {
        app.stores.tasks.get_task(list, file.task_id).await?.ok_or(Error::NotFound("task"))?;
    }
    app.stores.blobs.delete(&file.object_key()).await?;
    match app.stores.files.delete_file(writer, file.task_id, file.id).await {
        Ok(()) | Err(StoreError::NotFound) => {}
        Err(StoreError::Moved) => return Err(Error::NotFound("task")),
        Err(StoreError::AccessDenied) => {
            return Err(Error::Conflict("your access to this list changed during the request; retry".to_owned()));
        }
        Err(other) => return Err(other.into()),
    }
    app.stores.blobs.delete(&file.object_key()).await?;
    Ok(())
}

/// Removes every file of a task, objects first, a page at a time: always the first page,
/// as what was removed is no longer in it, until a page says it was the last (one Query for
/// a task with up to a page of files). Returns how many went. A file added meanwhile keeps
/// its task: the task's deletion is conditional on its file count, and its caller retries.
pub async fn delete_task_files(app: &App, writer: Writer, task: TaskId) -> Result<u64, Error> {
    let mut removed = 0;
    loop {
        let page = app.stores.files.list_files(task, PageRequest { limit: MAX_PAGE_SIZE, after: None }).await?;
        for file in &page.items {
            remove(app, writer, file).await?;
            removed += 1;
        }
        if page.next.is_none() {
            return Ok(removed);
        }
    }
}
