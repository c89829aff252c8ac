use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure, TransactWriteItem, Update};
use serde::{Deserialize, Serialize};
use todo_domain::model::{FileId, FileRecord, ListId, TaskId, Timestamp};
use todo_domain::ports::{Batch, FileStore, ObjectInfo, Page, PageRequest, StoreError, StoreResult, UploadOutcome, Writer};

use super::lists::writer_check;
use super::schedule::ScheduleKey;
use super::{DynamoStore, Item, TASK_PARTITION_PREFIX, backend, from_item, item_ids, key, list_pk, n, s, task_pk, to_item};

pub(crate) const FILE_PREFIX: &str = "FILE#";
/// The task's file counter, in the task's file partition.
pub(crate) const COUNT_SK: &str = "FILECOUNT";

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

fn file_sk(id: FileId) -> String {
    format!("{FILE_PREFIX}{id}")
}

impl DynamoStore {
    /// One consistent `Query` of a task's file records: the records and the last evaluated key.
    async fn query_files(&self, task: TaskId, limit: u32, start: Option<Item>) -> StoreResult<(Vec<FileRecord>, Option<Item>)> {
        let output = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(task_pk(task)))
            .expression_attribute_values(":prefix", s(FILE_PREFIX))
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
    /// One `TransactWriteItems`: the uploader's account exists and their membership writes tasks, the task is in the
    /// list, its file count is under the limit (and goes up by one), the file record is new.
    async fn create_file(&self, list: ListId, file: &FileRecord, max_per_task: u32) -> StoreResult<()> {
        let pk = task_pk(file.task_id);
        let member_check = writer_check(&self.table, Writer::Member { user: file.uploaded_by, list })?.expect("a member's check");
        let task_exists = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(list_pk(list), super::tasks::task_sk(file.task_id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), COUNT_SK.to_owned())))
            .update_expression("ADD #count :one")
            .condition_expression("attribute_not_exists(#count) OR #count < :max")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(max_per_task))
            .build()
            .map_err(StoreError::backend)?;
        let item = FileItem { pk, sk: file_sk(file.id), schedule: ScheduleKey::for_file(file, self.alarm_shards), file: file.clone() };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(to_item(&item)?))
            .condition_expression("attribute_not_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let items = vec![
            super::users::account_check(&self.table, file.uploaded_by)?,
            member_check,
            TransactWriteItem::builder().condition_check(task_exists).build(),
            TransactWriteItem::builder().update(count).build(),
            TransactWriteItem::builder().put(put).build(),
        ];
        match self.transact(items, "file creation").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::OwnerMissing),
            Err(cancelled) if cancelled.failed_at(1) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(2) => Err(StoreError::NotFound),
            Err(cancelled) if cancelled.failed_at(3) => Err(StoreError::LimitReached),
            Err(cancelled) if cancelled.failed_at(4) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("file creation")),
        }
    }

    /// One `GetItem`.
    async fn get_file(&self, task: TaskId, id: FileId) -> StoreResult<Option<FileRecord>> {
        Ok(self.get::<FileItem>(task_pk(task), file_sk(id)).await?.map(|item| item.file))
    }

    /// One `Query` per page.
    async fn list_files(&self, task: TaskId, page: PageRequest<FileId>) -> StoreResult<Page<FileRecord, FileId>> {
        let start = page.after.map(|after| key(task_pk(task), file_sk(after)));
        let (items, last) = self.query_files(task, page.limit, start).await?;
        Ok(Page { items, next: super::resume_after(last, FILE_PREFIX, FileId::parse) })
    }

    /// One conditional `UpdateItem` (pending → available); a duplicate finds it available.
    async fn mark_uploaded(&self, task: TaskId, id: FileId, info: &ObjectInfo, at: Timestamp) -> StoreResult<UploadOutcome> {
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(task_pk(task), file_sk(id))))
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
            Err(error) => match super::expected_error(error, UpdateItemError::is_conditional_check_failed_exception)? {
                UpdateItemError::ConditionalCheckFailedException(failed) => match failed.item {
                    Some(item) => Ok(UploadOutcome::AlreadyAvailable(from_item::<FileItem>(item)?.file)),
                    None => Err(StoreError::NotFound),
                },
                other => Err(StoreError::backend(other)),
            },
        }
    }

    /// One `TransactWriteItems`: the member check, the record goes and the task's file count
    /// goes down.
    async fn delete_file(&self, writer: Writer, task: TaskId, id: FileId) -> StoreResult<()> {
        let pk = task_pk(task);
        let delete = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk.clone(), file_sk(id))))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let count = Update::builder()
            .table_name(&self.table)
            .set_key(Some(key(pk, COUNT_SK.to_owned())))
            .update_expression("ADD #count :minus_one")
            .condition_expression("attribute_exists(#count)")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":minus_one", n(-1))
            .build()
            .map_err(StoreError::backend)?;
        // A member deletes only a file of a task still in their list (a move may have
        // taken it elsewhere since they read it).
        let mut items: Vec<TransactWriteItem> = writer_check(&self.table, writer)?.into_iter().collect();
        if let Writer::Member { list, .. } = writer {
            let task_in_list = ConditionCheck::builder()
                .table_name(&self.table)
                .set_key(Some(key(list_pk(list), super::tasks::task_sk(task))))
                .condition_expression("attribute_exists(PK)")
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().condition_check(task_in_list).build());
        }
        let checked = items.len();
        items.push(TransactWriteItem::builder().delete(delete).build());
        items.push(TransactWriteItem::builder().update(count).build());
        match self.transact(items, "file deletion").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if checked == 2 && cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) if checked == 2 && cancelled.failed_at(1) => Err(StoreError::Moved),
            Err(cancelled) if cancelled.failed_at(checked) => Err(StoreError::NotFound),
            Err(cancelled) => Err(cancelled.unexpected("file deletion")),
        }
    }

    /// Keys-only `Query`s of the `schedule` index, one per shard.
    async fn stale_uploads(&self, before: Timestamp, limit: u32) -> StoreResult<Batch<(TaskId, FileId)>> {
        let due = self.uploads_expired_before(before, limit).await?;
        let items = due
            .items
            .iter()
            .map(|item| item_ids(item, (TASK_PARTITION_PREFIX, TaskId::parse), (FILE_PREFIX, FileId::parse)))
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(Batch { items, more: due.more })
    }
}
