use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{FileId, FileRecord, FileStatus, ListId, TaskId, Timestamp};
use todo_domain::ports::{Batch, FileStore, ObjectInfo, Page, PageRequest, StoreError, StoreResult, UploadOutcome, Writer};

use super::lists::check_writer;
use super::{EmbeddedStore, backend, batch_of, from_doc, is_unique_violation, page_of, query_doc, stored_id, to_doc};

fn status(file: &FileRecord) -> &'static str {
    match file.status {
        FileStatus::Pending => "pending",
        FileStatus::Available => "available",
    }
}

/// The pending-upload index: when a pending file's URL expires (NULL once it arrived).
fn pending_until_ms(file: &FileRecord) -> Option<i64> {
    (file.status == FileStatus::Pending).then(|| file.upload_expires_at.unix_millis())
}

#[async_trait]
impl FileStore for EmbeddedStore {
    async fn create_file(&self, list: ListId, file: &FileRecord, max_per_task: u32) -> StoreResult<()> {
        let writer = Writer::Member { user: file.uploaded_by, list };
        let writer_account = file.uploaded_by;
        let list = list.to_string();
        let (task_id, id, status, pending_until, doc) =
            (file.task_id.to_string(), file.id.to_string(), status(file), pending_until_ms(file), to_doc(file)?);
        self.transaction(move |tx| {
            super::users::check_account(tx, writer_account)?;
            check_writer(tx, writer)?;
            let task = tx
                .query_row("SELECT 1 FROM tasks WHERE list_id = ?1 AND id = ?2", [&list, &task_id], |_| Ok(()))
                .optional()
                .map_err(backend)?;
            if task.is_none() {
                return Err(StoreError::NotFound);
            }
            let count: u32 =
                tx.query_row("SELECT count(*) FROM files WHERE task_id = ?1", [&task_id], |row| row.get(0)).map_err(backend)?;
            if count >= max_per_task {
                return Err(StoreError::LimitReached);
            }
            match tx.execute(
                "INSERT INTO files (task_id, id, status, pending_until_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5)",
                params![task_id, id, status, pending_until, doc],
            ) {
                Ok(_) => Ok(()),
                Err(error) if is_unique_violation(&error) => Err(StoreError::AlreadyExists),
                Err(error) => Err(backend(error)),
            }
        })
        .await
    }

    async fn get_file(&self, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>> {
        let keys = [task.to_string(), id.to_string()];
        let doc = self
            .read(move |c| {
                c.query_row("SELECT doc FROM files WHERE task_id = ?1 AND id = ?2", keys, |row| row.get::<_, String>(0)).optional()
            })
            .await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn list_files(&self, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>> {
        let task = task.to_string();
        let after = page.after.map(|id| id.to_string()).unwrap_or_default();
        let limit = page.limit;
        let docs = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT doc FROM files WHERE task_id = ?1 AND id > ?2 ORDER BY id LIMIT ?3")?;
                let rows = statement.query_map(params![task, after, limit + 1], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        page_of(&docs, limit, |file: &FileRecord| file.id)
    }

    async fn mark_uploaded(&self, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome> {
        let info = info.clone();
        self.transaction(move |tx| {
            let keys = [task.to_string(), id.to_string()];
            let mut file: FileRecord =
                query_doc(tx, "SELECT doc FROM files WHERE task_id = ?1 AND id = ?2", keys.clone())?.ok_or(StoreError::NotFound)?;
            if file.status == FileStatus::Available {
                return Ok(UploadOutcome::AlreadyAvailable(file));
            }
            file.status = FileStatus::Available;
            file.size = Some(info.size);
            file.etag = Some(info.etag);
            file.uploaded_at = Some(at);
            tx.execute(
                "UPDATE files SET status = ?3, pending_until_ms = ?4, doc = ?5 WHERE task_id = ?1 AND id = ?2",
                params![keys[0], keys[1], status(&file), pending_until_ms(&file), to_doc(&file)?],
            )
            .map_err(backend)?;
            Ok(UploadOutcome::Completed(file))
        })
        .await
    }

    async fn delete_file(&self, writer: Writer, task: TaskId, id: FileId) -> StoreResult<()> {
        let keys = [task.to_string(), id.to_string()];
        self.transaction(move |tx| {
            check_writer(tx, writer)?;
            if let Writer::Member { list, .. } = writer {
                let in_list = tx
                    .query_row("SELECT 1 FROM tasks WHERE list_id = ?1 AND id = ?2", [list.to_string(), keys[0].clone()], |_| Ok(()))
                    .optional()
                    .map_err(backend)?;
                if in_list.is_none() {
                    return Err(StoreError::Moved);
                }
            }
            match tx.execute("DELETE FROM files WHERE task_id = ?1 AND id = ?2", keys).map_err(backend)? {
                0 => Err(StoreError::NotFound),
                _ => Ok(()),
            }
        })
        .await
    }

    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(TaskId, FileId)>> {
        let before = before.unix_millis();
        let rows = self
            .read(move |c| {
                let mut statement =
                    c.prepare_cached("SELECT task_id, id FROM files WHERE pending_until_ms < ?1 ORDER BY pending_until_ms LIMIT ?2")?;
                let rows =
                    statement.query_map(params![before, limit + 1], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        batch_of(rows, limit, |(task, id)| Ok((stored_id(&task, TaskId::parse)?, stored_id(&id, FileId::parse)?)))
    }
}
