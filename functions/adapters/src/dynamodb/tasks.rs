use async_trait::async_trait;
use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{IdempotencyKey, Task, TaskId, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, Page, PageRequest, StoreError, StoreResult, TaskFilter, TaskStore};

use super::schedule::ScheduleKey;
use super::{DynamoStore, backend, from_item, key, n, put_if_absent, s, to_item, user_pk};

pub(crate) const TASK_PREFIX: &str = "TASK#";
const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";

#[derive(Serialize, Deserialize)]
pub(crate) struct TaskItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Top-level copies of what list filters test.
    completed: bool,
    due_ms: Option<i64>,
    /// The task's place in the due-alarm index while it has a pending alarm.
    #[serde(flatten, skip_deserializing)]
    schedule: Option<ScheduleKey>,
    #[serde(flatten)]
    task: Task,
}

impl TaskItem {
    pub(crate) fn of(task: &Task) -> Self {
        Self {
            pk: user_pk(task.owner),
            sk: task_sk(task.id),
            completed: task.completion.is_completed(),
            due_ms: task.due.map(|due| due.unix_millis()),
            schedule: ScheduleKey::for_task(task),
            task: task.clone(),
        }
    }
}

#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Epoch seconds; DynamoDB's TTL removes expired records.
    ttl: i64,
    #[serde(flatten)]
    record: IdempotencyRecord,
}

pub(crate) fn task_sk(id: TaskId) -> String {
    format!("{TASK_PREFIX}{id}")
}

fn idempotency_sk(key: &IdempotencyKey) -> String {
    format!("{IDEMPOTENCY_PREFIX}{}", key.as_str())
}

impl DynamoStore {
    async fn get_idempotency(&self, owner: UserId, key_: &IdempotencyKey) -> StoreResult<Option<IdempotencyRecord>> {
        Ok(self.get::<IdempotencyItem>(user_pk(owner), idempotency_sk(key_)).await?.map(|item| item.record))
    }
}

#[async_trait]
impl TaskStore for DynamoStore {
    /// One `TransactWriteItems`: owner exists (condition check), task absent, idempotency
    /// key unused or expired. A replay costs one more `GetItem` to read the stored answer.
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome> {
        let owner_check = ConditionCheck::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(task.owner), "PROFILE".to_owned())))
            .condition_expression("attribute_exists(PK)")
            .build()
            .map_err(StoreError::backend)?;
        let mut items = vec![
            TransactWriteItem::builder().condition_check(owner_check).build(),
            put_if_absent(&self.table, to_item(&TaskItem::of(task))?)?,
        ];
        if let Some(record) = idempotency {
            let item = IdempotencyItem {
                pk: user_pk(record.owner),
                sk: idempotency_sk(&record.key),
                ttl: record.expires_at.unix_seconds(),
                record: record.clone(),
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&item)?))
                // TTL deletes lazily: an expired record counts as absent.
                .condition_expression("attribute_not_exists(PK) OR #ttl <= :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", n(now.unix_seconds()))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        // Twice at most: a replay's record can expire and vanish between the write and the read.
        for _ in 0..2 {
            let Err(cancelled) = self.transact(items.clone(), "task creation").await? else {
                return Ok(CreateOutcome::Created);
            };
            if cancelled.failed_at(0) {
                return Err(StoreError::OwnerMissing);
            }
            if cancelled.failed_at(2) {
                let record = idempotency.expect("item 2 is the idempotency record");
                if let Some(previous) = self.get_idempotency(record.owner, &record.key).await? {
                    return Ok(CreateOutcome::Replayed(Box::new(previous)));
                }
                continue;
            }
            return Err(if cancelled.failed_at(1) { StoreError::AlreadyExists } else { cancelled.unexpected("task creation") });
        }
        Err(StoreError::backend(anyhow::anyhow!("an idempotency record kept vanishing during task creation")))
    }

    /// One `GetItem`.
    async fn get_task(&self, owner: UserId, id: TaskId) -> StoreResult<Option<Task>> {
        Ok(self.get::<TaskItem>(user_pk(owner), task_sk(id)).await?.map(|item| item.task))
    }

    /// One conditional `PutItem`, or one `TransactWriteItems` when an occurrence is spawned.
    async fn update_task(&self, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        let condition = "version = :expected";
        let item = to_item(&TaskItem::of(task))?;
        let Some(spawned) = spawned else {
            return self.put_if(item, condition, &[(":expected", n(expected_version))]).await;
        };
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::backend)?;
        let items = vec![TransactWriteItem::builder().put(put).build(), put_if_absent(&self.table, to_item(&TaskItem::of(spawned))?)?];
        match self.transact(items, "task update").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => {
                Err(if cancelled.existed_at(0) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) if cancelled.failed_at(1) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("task update")),
        }
    }

    /// One `TransactWriteItems`: the task (conditionally) and its file counter. Its files are
    /// gone by then (the use case deletes them first).
    async fn delete_task(&self, owner: UserId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()> {
        let mut task = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(owner), task_sk(id))))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        task = match expected_version {
            Some(version) => task
                .condition_expression("attribute_exists(PK) AND version = :expected")
                .expression_attribute_values(":expected", n(version)),
            None => task.condition_expression("attribute_exists(PK)"),
        };
        // Only a task without files goes: an upload that slipped in after the file cleanup
        // keeps it (and its counter) for the next pass.
        let counter = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(owner), format!("{}{id}", super::files::COUNT_PREFIX))))
            .condition_expression("attribute_not_exists(#count) OR #count = :zero")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(StoreError::backend)?;
        let items = vec![
            TransactWriteItem::builder().delete(task.build().map_err(StoreError::backend)?).build(),
            TransactWriteItem::builder().delete(counter).build(),
        ];
        match self.transact(items, "task deletion").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if cancelled.failed_at(0) => {
                Err(if cancelled.existed_at(0) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) if cancelled.failed_at(1) => Err(StoreError::NotEmpty),
            Err(cancelled) => Err(cancelled.unexpected("task deletion")),
        }
    }

    /// One `Query` per page: the key range is the owner's tasks after the cursor; filters
    /// apply to the `limit` items read, so a page may come back short (never wrong).
    async fn list_tasks(&self, owner: UserId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>> {
        let mut conditions = Vec::new();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(owner)))
            .expression_attribute_values(":prefix", s(TASK_PREFIX))
            .limit(i32::try_from(page.limit).unwrap_or(i32::MAX))
            .consistent_read(true);
        if let Some(after) = page.after {
            request = request.set_exclusive_start_key(Some(key(user_pk(owner), task_sk(after))));
        }
        if let Some(completed) = filter.completed {
            conditions.push("completed = :completed");
            request = request.expression_attribute_values(":completed", aws_sdk_dynamodb::types::AttributeValue::Bool(completed));
        }
        if let Some(tag) = &filter.tag {
            conditions.push("contains(tags, :tag)");
            request = request.expression_attribute_values(":tag", s(tag.as_str()));
        }
        if let Some(before) = filter.due_before {
            conditions.push("due_ms < :before");
            request = request.expression_attribute_values(":before", n(before.unix_millis()));
        }
        if let Some(after) = filter.due_after {
            conditions.push("due_ms >= :after");
            request = request.expression_attribute_values(":after", n(after.unix_millis()));
        }
        if !conditions.is_empty() {
            request = request.filter_expression(conditions.join(" AND "));
        }
        let output = request.send().await.map_err(backend)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<TaskItem>(item).map(|item| item.task))
            .collect::<StoreResult<Vec<_>>>()?;
        let next = super::resume_after(output.last_evaluated_key, TASK_PREFIX, TaskId::parse);
        Ok(Page { items, next })
    }

    /// Nothing to do: the table's TTL on `ttl` removes expired idempotency records (and an
    /// expired one counts as absent until it does).
    async fn purge_expired_idempotency(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    /// A keys-only `Query` of the owner's tasks, then batched deletes.
    async fn delete_user_task_items(&self, owner: UserId) -> StoreResult<u64> {
        let tasks = self.partition_keys(owner, TASK_PREFIX).await?;
        let count = tasks.len() as u64;
        self.delete_keys(tasks).await?;
        Ok(count)
    }

    /// Keys-only `Query`s of tasks, idempotency records, files and notifications, then
    /// batched deletes.
    async fn delete_user_tasks(&self, owner: UserId) -> StoreResult<u64> {
        // Tasks first: a reminders run can add a notification only while its task exists
        // (its write is conditional on the task), so notifications are listed after.
        let count = self.delete_user_task_items(owner).await?;
        let mut keys = self.partition_keys(owner, super::notifications::NOTIFICATION_PREFIX).await?;
        keys.extend(self.partition_keys(owner, IDEMPOTENCY_PREFIX).await?);
        keys.extend(self.partition_keys(owner, super::files::FILE_PREFIX).await?);
        keys.extend(self.partition_keys(owner, super::files::COUNT_PREFIX).await?);
        self.delete_keys(keys).await?;
        Ok(count)
    }
}
