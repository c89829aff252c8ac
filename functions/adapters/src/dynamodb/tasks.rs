use async_trait::async_trait;
use aws_sdk_dynamodb::types::{Delete, Put, ReturnValuesOnConditionCheckFailure, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{ListId, Task, TaskId, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, Page, PageRequest, StoreError, StoreResult, TaskFilter, TaskStore, Writer};

use super::lists::writer_check;
use super::schedule::ScheduleKey;
use super::{Cancelled, DynamoStore, backend, from_item, key, list_pk, n, put_if_absent, s, task_pk, to_item, user_pk};

pub(crate) const TASK_PREFIX: &str = "TASK#";
/// The sparse index of open tasks: a list's open tasks in id order, whatever its history.
pub const OPEN_INDEX: &str = "open";

/// A task's place in the `open` index while it is open; absent once completed, so the
/// index holds open tasks only and a page of them is one Query reading about a page.
#[derive(Serialize, Deserialize)]
pub(crate) struct OpenKey {
    open_pk: String,
    open_sk: String,
}

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
    #[serde(flatten, skip_deserializing)]
    open: Option<OpenKey>,
    #[serde(flatten)]
    task: Task,
}

impl TaskItem {
    /// The task's item, its place in the due-alarm index among `shards`.
    pub(crate) fn of(task: &Task, shards: u32) -> Self {
        Self {
            pk: list_pk(task.list_id),
            sk: task_sk(task.id),
            completed: task.completion.is_completed(),
            due_ms: task.due.map(|due| due.unix_millis()),
            schedule: ScheduleKey::for_task(task, shards),
            open: (!task.completion.is_completed()).then(|| OpenKey { open_pk: list_pk(task.list_id), open_sk: task_sk(task.id) }),
            task: task.clone(),
        }
    }
}

/// A member's write that creates a task (the next occurrence of a recurring one) is a
/// create like any other: conditional on the member's account still existing.
fn spawner_check(table: &str, writer: Writer, spawned: Option<&Task>) -> StoreResult<Option<TransactWriteItem>> {
    match (writer, spawned) {
        (Writer::Member { user, .. }, Some(_)) => super::users::account_check(table, user).map(Some),
        _ => Ok(None),
    }
}

pub(crate) fn task_sk(id: TaskId) -> String {
    format!("{TASK_PREFIX}{id}")
}

#[async_trait]
impl TaskStore for DynamoStore {
    /// One `TransactWriteItems`: creator's account exists and their membership writes tasks
    /// (condition checks), task absent, idempotency key unused or expired.
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome> {
        let creator_check = super::users::account_check(&self.table, task.created_by)?;
        let member_check =
            writer_check(&self.table, Writer::Member { user: task.created_by, list: task.list_id })?.expect("a member's check");
        let items = vec![creator_check, member_check, put_if_absent(&self.table, to_item(&TaskItem::of(task, self.alarm_shards))?)?];
        let refused = |cancelled: &Cancelled| {
            if cancelled.failed_at(0) {
                Some(StoreError::OwnerMissing)
            } else if cancelled.failed_at(1) {
                Some(StoreError::AccessDenied)
            } else {
                None
            }
        };
        let conflict =
            |cancelled: &Cancelled| if cancelled.failed_at(2) { StoreError::AlreadyExists } else { cancelled.unexpected("task creation") };
        self.create_idempotently(items, idempotency, now, "task creation", refused, conflict).await
    }

    /// One `GetItem`.
    async fn get_task(&self, list: ListId, id: TaskId) -> StoreResult<Option<Task>> {
        Ok(self.get::<TaskItem>(list_pk(list), task_sk(id)).await?.map(|item| item.task))
    }

    /// One `TransactWriteItems`: the member check, the task if still at its version, and the
    /// spawned occurrence if any, with the member's account check (the system's plain update:
    /// one conditional `PutItem`).
    async fn update_task(&self, writer: Writer, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        writer.check_list(task.list_id)?;
        let condition = "version = :expected";
        let item = to_item(&TaskItem::of(task, self.alarm_shards))?;
        let check = writer_check(&self.table, writer)?;
        if check.is_none() && spawned.is_none() {
            return self.put_if(item, condition, &[(":expected", n(expected_version))]).await;
        }
        let put = Put::builder()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(condition)
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::backend)?;
        let account = spawner_check(&self.table, writer, spawned)?;
        let accounted = usize::from(account.is_some());
        let checked = accounted + usize::from(check.is_some());
        let mut items: Vec<TransactWriteItem> = account.into_iter().chain(check).collect();
        items.push(TransactWriteItem::builder().put(put).build());
        if let Some(spawned) = spawned {
            items.push(put_if_absent(&self.table, to_item(&TaskItem::of(spawned, self.alarm_shards))?)?);
        }
        match self.transact(items, "task update").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if accounted == 1 && cancelled.failed_at(0) => Err(StoreError::OwnerMissing),
            Err(cancelled) if checked > accounted && cancelled.failed_at(checked - 1) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(checked) => {
                Err(if cancelled.existed_at(checked) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) if cancelled.failed_at(checked + 1) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("task update")),
        }
    }

    /// One `TransactWriteItems`: the member checks in both lists, the task deleted from the
    /// old list (if at its version) and put in the new one (if absent), the next occurrence.
    async fn move_task(&self, writer: Writer, task: &Task, from: ListId, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        writer.check_list(from)?;
        let checks: Vec<TransactWriteItem> = [writer, writer.in_list(task.list_id)]
            .into_iter()
            .filter_map(|writer| writer_check(&self.table, writer).transpose())
            .collect::<StoreResult<_>>()?;
        let account = spawner_check(&self.table, writer, spawned)?;
        let accounted = usize::from(account.is_some());
        let checks: Vec<TransactWriteItem> = account.into_iter().chain(checks).collect();
        let checked = checks.len();
        let old = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(list_pk(from), task_sk(task.id))))
            .condition_expression("version = :expected")
            .expression_attribute_values(":expected", n(expected_version))
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .build()
            .map_err(StoreError::backend)?;
        let mut items = checks;
        items.push(TransactWriteItem::builder().delete(old).build());
        items.push(put_if_absent(&self.table, to_item(&TaskItem::of(task, self.alarm_shards))?)?);
        if let Some(spawned) = spawned {
            items.push(put_if_absent(&self.table, to_item(&TaskItem::of(spawned, self.alarm_shards))?)?);
        }
        match self.transact(items, "task move").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if accounted == 1 && cancelled.failed_at(0) => Err(StoreError::OwnerMissing),
            Err(cancelled) if (accounted..checked).any(|index| cancelled.failed_at(index)) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(checked) => {
                Err(if cancelled.existed_at(checked) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) if cancelled.failed_at(checked + 1) || cancelled.failed_at(checked + 2) => Err(StoreError::AlreadyExists),
            Err(cancelled) => Err(cancelled.unexpected("task move")),
        }
    }

    /// One `TransactWriteItems`: the member check, the task (conditionally) and its file
    /// counter. Its files are gone by then (the use case deletes them first).
    async fn delete_task(&self, writer: Writer, list: ListId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()> {
        writer.check_list(list)?;
        let mut task = Delete::builder()
            .table_name(&self.table)
            .set_key(Some(key(list_pk(list), task_sk(id))))
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
            .set_key(Some(key(task_pk(id), super::files::COUNT_SK.to_owned())))
            .condition_expression("attribute_not_exists(#count) OR #count = :zero")
            .expression_attribute_names("#count", "count")
            .expression_attribute_values(":zero", n(0))
            .build()
            .map_err(StoreError::backend)?;
        let check = writer_check(&self.table, writer)?;
        let checked = usize::from(check.is_some());
        let mut items: Vec<TransactWriteItem> = check.into_iter().collect();
        items.push(TransactWriteItem::builder().delete(task.build().map_err(StoreError::backend)?).build());
        items.push(TransactWriteItem::builder().delete(counter).build());
        match self.transact(items, "task deletion").await? {
            Ok(()) => Ok(()),
            Err(cancelled) if checked == 1 && cancelled.failed_at(0) => Err(StoreError::AccessDenied),
            Err(cancelled) if cancelled.failed_at(checked) => {
                Err(if cancelled.existed_at(checked) { StoreError::VersionMismatch } else { StoreError::NotFound })
            }
            Err(cancelled) if cancelled.failed_at(checked + 1) => Err(StoreError::NotEmpty),
            Err(cancelled) => Err(cancelled.unexpected("task deletion")),
        }
    }

    /// One `Query` per page: the key range is the list's tasks after the cursor (its open
    /// tasks, from the `open` index, when only those are asked for: a long history of
    /// completed tasks is never read through); the other filters apply to the `limit` items
    /// read, so a page may come back short (never wrong).
    async fn list_tasks(&self, list: ListId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>> {
        let mut conditions = Vec::new();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .expression_attribute_values(":pk", s(list_pk(list)))
            .limit(i32::try_from(page.limit).unwrap_or(i32::MAX));
        request = match filter.completed {
            // An index is read eventually consistently: a task written a moment ago may
            // show there (or leave) a moment later. Its item is the whole task.
            Some(false) => request
                .index_name(OPEN_INDEX)
                .key_condition_expression("open_pk = :pk AND open_sk > :from")
                .expression_attribute_values(":from", s(page.after.map_or_else(|| TASK_PREFIX.to_owned(), task_sk))),
            completed => {
                if let Some(completed) = completed {
                    conditions.push("completed = :completed");
                    request = request.expression_attribute_values(":completed", aws_sdk_dynamodb::types::AttributeValue::Bool(completed));
                }
                request
                    .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
                    .expression_attribute_values(":prefix", s(TASK_PREFIX))
                    .set_exclusive_start_key(page.after.map(|after| key(list_pk(list), task_sk(after))))
                    .consistent_read(true)
            }
        };
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
        // The last key read names the base-table key too (`SK`), index or not.
        let next = super::resume_after(output.last_evaluated_key, TASK_PREFIX, TaskId::parse);
        Ok(Page { items, next })
    }

    /// Nothing to do: the table's TTL on `ttl` removes expired idempotency records (and an
    /// expired one counts as absent until it does).
    async fn purge_expired_idempotency(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    /// A keys-only `Query` of the user's idempotency records, then batched deletes.
    async fn delete_user_idempotency(&self, user: UserId) -> StoreResult<u64> {
        let keys = self.partition_keys(&user_pk(user), super::idempotency::IDEMPOTENCY_PREFIX).await?;
        let count = keys.len() as u64;
        self.delete_keys(keys).await?;
        Ok(count)
    }
}
