use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use todo_domain::model::{FileId, FileRecord, TaskId, Timestamp, UserId};
use todo_domain::ports::{Batch, FileStore, ObjectInfo, Page, PageRequest, StoreError, StoreResult, UploadOutcome};

use super::schedule::ScheduleKey;
use super::{DynamoStore, Item, backend, from_item, key, n, s, to_item, user_pk};

pub(crate) const FILE_PREFIX: &str = "FILE#";
pub(crate) const COUNT_PREFIX: &str = "FILECOUNT#";

#[derive(Serialize, Deserialize)]
struct FileItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// The file's place in the pending-upload index until it arrives.
    #[serde(flatten, skip_deserializing)]
    schedule: Option<ScheduleKey>,
    #[serde(flatten)]
    file: FileRecord,
}

fn task_files_prefix(task: TaskId) -> String {
    format!("{FILE_PREFIX}{task}#")
}

fn file_sk(task: TaskId, id: FileId) -> String {
    format!("{}{id}", task_files_prefix(task))
}

fn count_sk(task: TaskId) -> String {
    format!("{COUNT_PREFIX}{task}")
}

impl DynamoStore {
    /// One consistent `Query` of an owner's file records under `prefix`: the records and the
    /// last evaluated key.
    async fn query_files(
        &self,
        owner: UserId,
        prefix: &str,
        limit: u32,
        start: Option<Item>,
    ) -> StoreResult<(Vec<FileRecord>, Option<Item>)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(owner)))
            .expression_attribute_values(":prefix", s(prefix))
            .limit(i32::try_from(limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(start)
            .consistent_read(true)
            .send()
            .await
            .map_err(backend)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<FileItem>(item).map(|item| item.file))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok((items, output.last_evaluated_key))
    }
}

#[async_trait]
impl FileStore for DynamoStore {
    /// One `TransactWriteItems`: the task exists, its file count is under the limit (and goes
    /// up by one), the file record is new.
    async fn create_file(&self, file: &FileRecord, max_per_task: u32) -> StoreResult<()> {
        let pk = user_pk(file.owner);
        let task_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), format!("TASK#{}", file.task_id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), count_sk(file.task_id))))
            .update_expression("ADD #count :one")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_per_task))
            .build()
            .map_err(StoreError::backend)?;
        let item = FileItem { pk, sk: file_sk(file.task_id, file.id), schedule: ScheduleKey::for_file(file), file: file.clone() };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let items = vec![
            TransactWriteItem::builder().condition_check(task_exists).build(),
            TransactWriteItem::builder().update(count).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self.transact(items, "file creation").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::NotFound),
            Err(cancelled) if cancelled.failed_at(1) => Err(StoreError::LimitReached),
            Err(cancelled) if cancelled.failed_at(2) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("file creation")),
        }
    }

    /// One `GetItem`.
    async fn get_file(&self, owner: UserId, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>> {
        Ok(self.get::<FileItem>(user_pk(owner), file_sk(task, id)).await?.map(|item| item.file))
    }

    /// One `Query` per page.
    async fn list_files(&self, owner: UserId, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>> {
        let prefix = task_files_prefix(task);
        let start = page.after.map(|after| key(user_pk(owner), file_sk(task, after)));
        let (items, last) = self.query_files(owner, &prefix, page.limit, start).await?;
        Ok(Page { items, next: super::resume_after(last, &prefix, FileId::parse) })
    }

    /// One conditional `UpdateItem` (pending → available); a duplicate finds it available.
    async fn mark_uploaded(&self, owner: UserId, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(owner), file_sk(task, id))))
            // `size` is a reserved word: every name goes through a placeholder.
            .update_expression("SET #status = :available, #size = :size, #etag = :etag, #uploaded_at = :at REMOVE sched_pk, sched_sk")
            .condition_expression("#status = :pending")
            .expression_attribute_names("#status", "status")
            .expression_attribute_names("#size", "size")
            .expression_attribute_names("#etag", "etag")
            .expression_attribute_names("#uploaded_at", "uploaded_at")
            .expression_attribute_values(":available", s("available"))
            .expression_attribute_values(":pending", s("pending"))
            .expression_attribute_values(":size", n(info.size))
            .expression_attribute_values(":etag", s(info.etag.clone()))
            .expression_attribute_values(":at", s(at.to_string()))
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(output) => Ok(UploadOutcome::Completed(from_item::<FileItem>(output.attributes.unwrap_or_default())?.file)),
            Err(error) => match error.into_service_error() {
                UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                    Some(item) => Ok(UploadOutcome::AlreadyAvailable(from_item::<FileItem>(item)?.file)),
                    None => Err(StoreError::NotFound),
                },
                other => Err(StoreError::backend(other)),
            },
        }
    }

    /// One `TransactWriteItems`: the record goes and the task's file count goes down.
    async fn delete_file(&self, owner: UserId, task: TaskId, id: FileId) -> StoreResult<()> {
        let pk = user_pk(owner);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), file_sk(task, id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, count_sk(task))))
            .update_expression("ADD #count :minus_one")
            .condition_expression("attribute_exists(#count)")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":minus_one", n(-1))
            .build()
            .map_err(StoreError::backend)?;
        let items = vec![TransactWriteItem::builder().delete(delete).build(), TransactWriteItem::builder().update(count).build()];
        match self.transact(items, "file deletion").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("file deletion")),
        }
    }

    /// One `Query` of the owner's file records (every task's: the prefix is shared).
    async fn user_files(&self, owner: UserId, limit: u32) -> StoreResult<Vec<FileRecord>> {
        Ok(self.query_files(owner, FILE_PREFIX, limit, None).await?.0)
    }

    /// Keys-only `Query`s of the `schedule` index, one per shard.
    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(UserId, TaskId, FileId)>> {
        let due = self.uploads_expired_before(before, limit).await?;
        let items = due
            .items
            .iter()
            .map(|item| {
                let (owner, sk) = super::item_keys(item)?;
                sk.strip_prefix(FILE_PREFIX)
                    .and_then(|rest| rest.split_once('#'))
                    .and_then(|(task, id)| Some((owner, TaskId::parse(task).ok()?, FileId::parse(id).ok()?)))
                    .ok_or_else(|| StoreError::backend(anyhow::anyhow!("not a file key in the schedule index: {sk}")))
            })
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Batch { items, more: due.more })
    }
}
