use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{Alarm, AlarmKind, Notification, NotificationId, Task, Timestamp, UserId};
use todo_domain::ports::{DueAlarm, DueWindow, NotificationStore, Page, PageRequest, SendOutcome, StoreError, StoreResult};

use super::tasks::TaskRow;
use super::{EmbeddedStore, backend, from_doc, page_from, page_of, query_doc, to_doc};

#[async_trait]
impl NotificationStore for EmbeddedStore {
    /// One shard: SQLite has one writer, so more workers would only queue behind it.
    fn alarm_shards(&self) -> u32 {
        1
    }

    /// Reads the `tasks_by_alarm` index (only tasks with a pending alarm are in it; its
    /// entries carry the key, so the order is alarm time, then list and task).
    async fn due_alarms(&self, shard: u32, window: DueWindow, page: PageRequest<DueAlarm>) -> StoreResult<Page<DueAlarm, DueAlarm>> {
        if shard != 0 {
            return Err(StoreError::backend(anyhow::anyhow!("the embedded store has one alarm shard, not shard {shard}")));
        }
        // A bound on the index column itself (`i64::MIN`: from the oldest), so SQLite seeks.
        let from = window.from.map_or(i64::MIN, |at| at.unix_millis());
        let until = window.until.unix_millis();
        let after = page.after.map(|due| (due.alarm.at.unix_millis(), due.list.to_string(), due.task.to_string()));
        let (after_ms, after_list, after_id) = after.unwrap_or((i64::MIN, String::new(), String::new()));
        let limit = page.limit;
        let rows = self
            .read(move |c| {
                let mut statement = c.prepare_cached(
                    "SELECT alarm_ms, doc FROM tasks INDEXED BY tasks_by_alarm
                     WHERE alarm_ms >= ?1 AND alarm_ms <= ?2
                       AND (alarm_ms, list_id, id) > (?3, ?4, ?5)
                     ORDER BY alarm_ms, list_id, id
                     LIMIT ?6",
                )?;
                let rows = statement.query_map(params![from, until, after_ms, after_list, after_id, limit + 1], |row| {
                    Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        let items = rows
            .into_iter()
            .map(|(alarm_ms, doc)| {
                let task: Task = from_doc(&doc)?;
                let at =
                    Timestamp::from_unix_millis(alarm_ms).ok_or_else(|| StoreError::backend(anyhow::anyhow!("alarm time {alarm_ms}")))?;
                // The index column is the time of the task's next alarm; the task says its kind.
                let kind = task.next_alarm().map_or(AlarmKind::Reminder, |alarm| alarm.kind);
                Ok(DueAlarm { list: task.list_id, task: task.id, user: task.created_by, alarm: Alarm { at, kind } })
            })
            .collect::<StoreResult<Vec<_>>>()?;
        let Page { items, next } = page_from(items, limit, |due: &DueAlarm| *due);
        Ok(Page { items, next })
    }

    async fn send_notification(&self, read: &Task, notified: &Task, notification: &Notification) -> StoreResult<SendOutcome> {
        let expected = read.clone();
        let row = TaskRow::of(notified)?;
        let (owner, id, doc) = (notification.owner.to_string(), notification.id.to_string(), to_doc(notification)?);
        let expires_ms = notification.expires_at.unix_millis();
        self.transaction(move |tx| {
            let stored: Option<Task> = query_doc(tx, "SELECT doc FROM tasks WHERE list_id = ?1 AND id = ?2", [&row.list_id, &row.id])?;
            if stored.as_ref() != Some(&expected) {
                return Ok(SendOutcome::TaskChanged);
            }
            let inserted = tx
                .execute(
                    "INSERT INTO notifications (owner, id, read, expires_ms, doc) VALUES (?1, ?2, 0, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![owner, id, expires_ms, doc],
                )
                .map_err(backend)?;
            tx.execute(
                "UPDATE tasks SET alarm_ms = ?3, doc = ?4 WHERE list_id = ?1 AND id = ?2",
                params![row.list_id, row.id, row.alarm_ms, row.doc],
            )
            .map_err(backend)?;
            Ok(if inserted == 1 { SendOutcome::Sent } else { SendOutcome::AlreadySent })
        })
        .await
    }

    async fn add_notification(&self, notification: &Notification) -> StoreResult<bool> {
        let notification_owner = notification.owner;
        let (owner, id, doc) = (notification.owner.to_string(), notification.id.to_string(), to_doc(notification)?);
        let expires_ms = notification.expires_at.unix_millis();
        self.transaction(move |tx| {
            super::users::check_account(tx, notification_owner)?;
            let inserted = tx
                .execute(
                    "INSERT INTO notifications (owner, id, read, expires_ms, doc) VALUES (?1, ?2, 0, ?3, ?4) ON CONFLICT DO NOTHING",
                    params![owner, id, expires_ms, doc],
                )
                .map_err(backend)?;
            Ok(inserted == 1)
        })
        .await
    }

    async fn get_notification(&self, owner: UserId, id: NotificationId) -> StoreResult<Option<Notification>> {
        let (owner, id) = (owner.to_string(), id.to_string());
        let doc = self
            .read(move |c| {
                c.query_row("SELECT doc FROM notifications WHERE owner = ?1 AND id = ?2", [owner, id], |row| row.get::<_, String>(0))
                    .optional()
            })
            .await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn list_notifications(
        &self,
        owner: UserId,
        unread_only: bool,
        now: Timestamp,
        page: PageRequest<NotificationId>,
    ) -> StoreResult<Page<Notification, NotificationId>> {
        let owner = owner.to_string();
        let before = page.after.map(|id| id.to_string());
        let (now, limit) = (now.unix_millis(), page.limit);
        let docs = self
            .read(move |c| {
                let mut statement = c.prepare_cached(
                    "SELECT doc FROM notifications
                     WHERE owner = ?1 AND (?2 IS NULL OR id < ?2) AND expires_ms > ?3 AND (?4 = 0 OR read = 0)
                     ORDER BY id DESC
                     LIMIT ?5",
                )?;
                // One extra row tells whether another page follows.
                let rows = statement.query_map(params![owner, before, now, unread_only, limit + 1], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        page_of(&docs, limit, |notification: &Notification| notification.id)
    }

    async fn read_if_unread(&self, owner: UserId, id: NotificationId, at: Timestamp) -> StoreResult<()> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.transaction(move |tx| {
            let unread: Option<Notification> =
                query_doc(tx, "SELECT doc FROM notifications WHERE owner = ?1 AND id = ?2 AND read = 0", [&owner, &id])?;
            if let Some(notification) = unread {
                let notification = Notification { read_at: Some(at), ..notification };
                tx.execute(
                    "UPDATE notifications SET read = 1, doc = ?3 WHERE owner = ?1 AND id = ?2",
                    params![owner, id, to_doc(&notification)?],
                )
                .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn set_notification_read(&self, owner: UserId, id: NotificationId, read_at: Option<Timestamp>) -> StoreResult<()> {
        let (owner, id) = (owner.to_string(), id.to_string());
        self.transaction(move |tx| {
            let mut notification: Notification =
                query_doc(tx, "SELECT doc FROM notifications WHERE owner = ?1 AND id = ?2", [&owner, &id])?.ok_or(StoreError::NotFound)?;
            notification.read_at = read_at;
            tx.execute(
                "UPDATE notifications SET read = ?3, doc = ?4 WHERE owner = ?1 AND id = ?2",
                params![owner, id, read_at.is_some(), to_doc(&notification)?],
            )
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn delete_user_notifications(&self, owner: UserId) -> StoreResult<u64> {
        let owner = owner.to_string();
        self.transaction(move |tx| tx.execute("DELETE FROM notifications WHERE owner = ?1", [&owner]).map(|n| n as u64).map_err(backend))
            .await
    }

    async fn purge_expired_notifications(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        let now = now.unix_millis();
        self.transaction(move |tx| {
            tx.execute(
                "DELETE FROM notifications WHERE (owner, id) IN (SELECT owner, id FROM notifications WHERE expires_ms <= ?1 LIMIT ?2)",
                params![now, limit],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}
