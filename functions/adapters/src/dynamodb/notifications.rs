use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{Notification, NotificationId, Task, Timestamp, UserId};
use todo_domain::ports::{DueAlarm, DueWindow, NotificationStore, Page, PageRequest, SendOutcome, StoreError, StoreResult};

use super::schedule::ScheduleKey;
use super::tasks::TaskItem;
use super::{DynamoStore, Item, backend, from_item, key, n, put_if_absent, s, to_item, user_pk};

pub(crate) const NOTIFICATION_PREFIX: &str = "NOTIFICATION#";

#[derive(Serialize, Deserialize)]
struct NotificationItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Top-level copy of what the unread filter tests.
    read: bool,
    /// Epoch seconds; DynamoDB's TTL removes expired notifications.
    ttl: i64,
    #[serde(flatten)]
    notification: Notification,
}

impl NotificationItem {
    fn of(notification: &Notification) -> Self {
        Self {
            pk: user_pk(notification.owner),
            sk: notification_sk(notification.id),
            read: notification.read_at.is_some(),
            ttl: notification.expires_at.unix_seconds(),
            notification: notification.clone(),
        }
    }
}

fn notification_sk(id: NotificationId) -> String {
    format!("{NOTIFICATION_PREFIX}{id}")
}

/// The condition under which the stored task is still `task` as read: same version, same
/// place in the due-alarm index. Within one version only the reminders job writes, and
/// each of its writes moves the task's index entry, so the pair names one state.
fn unchanged(task: &Task) -> (String, Vec<(&'static str, AttributeValue)>) {
    let mut values = vec![(":version", n(task.version))];
    let condition = match ScheduleKey::sort_key_for_task(task) {
        Some(sched_sk) => {
            values.push((":sched_sk", s(sched_sk)));
            "version = :version AND sched_sk = :sched_sk"
        }
        None => "version = :version AND attribute_not_exists(sched_sk)",
    };
    (condition.to_owned(), values)
}

impl DynamoStore {
    /// Sets a notification's read flag and time if it exists (and, with `only_if_unread`, is
    /// unread); whether it did.
    async fn write_read(&self, owner: UserId, id: NotificationId, read_at: Option<Timestamp>, only_if_unread: bool) -> StoreResult<bool> {
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(user_pk(owner), notification_sk(id))))
            .update_expression("SET #read = :read, read_at = :read_at")
            .expression_attribute_names("#read", "read")
            .expression_attribute_values(":read", AttributeValue::Bool(read_at.is_some()))
            .expression_attribute_values(":read_at", read_at.map_or(AttributeValue::Null(true), |at| s(at.to_string())));
        request = if only_if_unread {
            request
                .condition_expression("attribute_exists(PK) AND #read = :unread")
                .expression_attribute_values(":unread", AttributeValue::Bool(false))
        } else {
            request.condition_expression("attribute_exists(PK)")
        };
        match request.send().await {
            Ok(_) => Ok(true),
            Err(error) => match super::expected_error(error, UpdateItemError::is_conditional_check_failed_exception)? {
                UpdateItemError::ConditionalCheckFailedException(_) => Ok(false),
                other => Err(StoreError::backend(other)),
            },
        }
    }
}

#[async_trait]
impl NotificationStore for DynamoStore {
    /// One keys-only `Query` of the `schedule` index per shard.
    fn alarm_shards(&self) -> u32 {
        self.alarm_shards
    }

    /// One keys-only `Query` of the shard's partition of the `schedule` index.
    async fn due_alarms(&self, shard: u32, window: DueWindow, page: PageRequest<DueAlarm>) -> StoreResult<Page<DueAlarm, DueAlarm>> {
        self.due_alarms_in(shard, window, page).await
    }

    /// One `TransactWriteItems` (notification if absent + task if unchanged); when only the
    /// notification existed, one more conditional `PutItem` records it on the task.
    async fn send_notification(&self, read: &Task, notified: &Task, notification: &Notification) -> StoreResult<SendOutcome> {
        let item = NotificationItem::of(notification);
        let task_item: Item = to_item(&TaskItem::of(notified, self.alarm_shards))?;
        let (condition, values) = unchanged(read);
        let mut put_task = Put::builder().table_name(&self.table).set_item(Some(task_item.clone())).condition_expression(&condition);
        for (name, value) in &values {
            put_task = put_task.expression_attribute_values(*name, value.clone());
        }
        let items = vec![
            put_if_absent(&self.table, to_item(&item)?)?,
            TransactWriteItem::builder().put(put_task.build().map_err(StoreError::backend)?).build(),
        ];
        match self.transact(items, "sending a notification").await? {
            Ok(()) => Ok(SendOutcome::Sent),
            Err(cancelled) if cancelled.failed_at(1) => Ok(SendOutcome::TaskChanged),
            Err(cancelled) if cancelled.failed_at(0) => match self.put_if(task_item, &condition, &values).await {
                Ok(()) => Ok(SendOutcome::AlreadySent),
                Err(StoreError::VersionMismatch | StoreError::NotFound) => Ok(SendOutcome::TaskChanged),
                Err(other) => Err(other),
            },
            Err(cancelled) => Err(cancelled.unexpected("sending a notification")),
        }
    }

    /// One `TransactWriteItems`: the owner's profile exists (condition check), the
    /// notification is new.
    async fn add_notification(&self, notification: &Notification) -> StoreResult<bool> {
        let profile = super::users::account_check(&self.table, notification.owner)?;
        let items = vec![profile, put_if_absent(&self.table, to_item(&NotificationItem::of(notification))?)?];
        match self.transact(items, "adding a notification").await? {
            Ok(()) => Ok(true),
            Err(cancelled) if cancelled.failed_at(0) => Err(StoreError::OwnerMissing),
            Err(cancelled) if cancelled.failed_at(1) => Ok(false),
            Err(cancelled) => Err(cancelled.unexpected("adding a notification")),
        }
    }

    /// A keys-only `Query` of the user's notifications, then batched deletes.
    async fn delete_user_notifications(&self, owner: UserId) -> StoreResult<u64> {
        let keys = self.partition_keys(&user_pk(owner), NOTIFICATION_PREFIX).await?;
        let count = keys.len() as u64;
        self.delete_keys(keys).await?;
        Ok(count)
    }

    /// One `GetItem`.
    async fn get_notification(&self, owner: UserId, id: NotificationId) -> StoreResult<Option<Notification>> {
        Ok(self.get::<NotificationItem>(user_pk(owner), notification_sk(id)).await?.map(|item| item.notification))
    }

    /// One `Query` per page, newest first; expired items are filtered out.
    async fn list_notifications(
        &self,
        owner: UserId,
        unread_only: bool,
        now: Timestamp,
        page: PageRequest<NotificationId>,
    ) -> StoreResult<Page<Notification, NotificationId>> {
        // TTL deletes lazily; compared at millisecond precision, as `Notification::is_expired` does.
        let mut filter = "expires_at > :now".to_owned();
        let mut request = self
            .client
            .query()
            .table_name(&self.table)
            .key_condition_expression("PK = :pk AND begins_with(SK, :prefix)")
            .expression_attribute_values(":pk", s(user_pk(owner)))
            .expression_attribute_values(":prefix", s(NOTIFICATION_PREFIX))
            .expression_attribute_values(":now", s(now.to_string()))
            .scan_index_forward(false)
            .limit(i32::try_from(page.limit).unwrap_or(i32::MAX))
            .set_exclusive_start_key(page.after.map(|after| key(user_pk(owner), notification_sk(after))))
            .consistent_read(true);
        if unread_only {
            // `read` is a reserved word.
            filter.push_str(" AND #read = :unread");
            request =
                request.expression_attribute_names("#read", "read").expression_attribute_values(":unread", AttributeValue::Bool(false));
        }
        let output = request.filter_expression(filter).send().await.map_err(backend)?;
        let items = output
            .items
            .unwrap_or_default()
            .into_iter()
            .map(|item| from_item::<NotificationItem>(item).map(|item| item.notification))
            .collect::<StoreResult<Vec<_>>>()?;
        let next = super::resume_after(output.last_evaluated_key, NOTIFICATION_PREFIX, NotificationId::parse);
        Ok(Page { items, next })
    }

    /// One conditional `UpdateItem`.
    async fn set_notification_read(&self, owner: UserId, id: NotificationId, read_at: Option<Timestamp>) -> StoreResult<()> {
        if self.write_read(owner, id, read_at, false).await? { Ok(()) } else { Err(StoreError::NotFound) }
    }

    /// One conditional `UpdateItem`.
    async fn read_if_unread(&self, owner: UserId, id: NotificationId, at: Timestamp) -> StoreResult<()> {
        self.write_read(owner, id, Some(at), true).await.map(drop)
    }

    /// Nothing to do: the table's TTL on `ttl` removes expired notifications.
    async fn purge_expired_notifications(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }
}
