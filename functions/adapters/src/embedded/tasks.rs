use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{ListId, Task, TaskId, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, Page, PageRequest, StoreError, StoreResult, TaskFilter, TaskStore, Writer};

use super::idempotency::RecordRow;
use super::lists::check_writer;
use super::{EmbeddedStore, backend, from_doc, is_unique_violation, page_of, to_doc};

/// The indexed columns of a task row, next to its JSON document.
pub(super) struct TaskRow {
    pub(super) list_id: String,
    pub(super) id: String,
    pub(super) version: u64,
    pub(super) completed: bool,
    pub(super) due_ms: Option<i64>,
    /// The next pending alarm's time: what the due-alarm index orders by.
    pub(super) alarm_ms: Option<i64>,
    pub(super) doc: String,
}

impl TaskRow {
    pub(super) fn of(task: &Task) -> StoreResult<Self> {
        Ok(Self {
            list_id: task.list_id.to_string(),
            id: task.id.to_string(),
            version: task.version,
            completed: task.completion.is_completed(),
            due_ms: task.due.map(|due| due.unix_millis()),
            alarm_ms: task.next_alarm().map(|alarm| alarm.at.unix_millis()),
            doc: to_doc(task)?,
        })
    }

    fn insert(&self, tx: &rusqlite::Transaction<'_>) -> StoreResult<()> {
        match tx.execute(
            "INSERT INTO tasks (list_id, id, version, completed, due_ms, alarm_ms, doc) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![self.list_id, self.id, self.version, self.completed, self.due_ms, self.alarm_ms, self.doc],
        ) {
            Ok(_) => Ok(()),
            Err(error) if is_unique_violation(&error) => Err(StoreError::AlreadyExists),
            Err(error) => Err(backend(error)),
        }
    }
}

fn task_exists(tx: &rusqlite::Transaction<'_>, list: &str, id: &str) -> StoreResult<bool> {
    tx.query_row("SELECT 1 FROM tasks WHERE list_id = ?1 AND id = ?2", [list, id], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
        .map_err(backend)
}

/// A member's write that creates a task (the next occurrence of a recurring one) is a
/// create like any other: conditional on the member's account still existing.
fn check_spawner(tx: &rusqlite::Transaction<'_>, writer: Writer, spawns: bool) -> StoreResult<()> {
    match writer {
        Writer::Member { user, .. } if spawns => super::users::check_account(tx, user),
        _ => Ok(()),
    }
}

#[async_trait]
impl TaskStore for EmbeddedStore {
    async fn create_task(&self, task: &Task, idempotency: Option<&IdempotencyRecord>, now: Timestamp) -> StoreResult<CreateOutcome> {
        let row = TaskRow::of(task)?;
        let creator = task.created_by;
        let writer = Writer::Member { user: task.created_by, list: task.list_id };
        let record = idempotency.map(RecordRow::of).transpose()?;
        self.transaction(move |tx| {
            super::users::check_account(tx, creator)?;
            check_writer(tx, writer)?;
            if let Some(previous) = record.map(|record| record.claim(tx, now)).transpose()?.flatten() {
                return Ok(CreateOutcome::Replayed(Box::new(previous)));
            }
            row.insert(tx)?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn get_task(&self, list: ListId, id: TaskId) -> StoreResult<Option<Task>> {
        let (list, id) = (list.to_string(), id.to_string());
        let doc = self
            .read(move |c| {
                c.query_row("SELECT doc FROM tasks WHERE list_id = ?1 AND id = ?2", [list, id], |row| row.get::<_, String>(0)).optional()
            })
            .await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn update_task(&self, writer: Writer, task: &Task, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        let row = TaskRow::of(task)?;
        let spawned = spawned.map(TaskRow::of).transpose()?;
        writer.check_list(task.list_id)?;
        self.transaction(move |tx| {
            check_spawner(tx, writer, spawned.is_some())?;
            check_writer(tx, writer)?;
            let changed = tx
                .execute(
                    "UPDATE tasks SET version = ?3, completed = ?4, due_ms = ?5, alarm_ms = ?6, doc = ?7
                     WHERE list_id = ?1 AND id = ?2 AND version = ?8",
                    params![row.list_id, row.id, row.version, row.completed, row.due_ms, row.alarm_ms, row.doc, expected_version],
                )
                .map_err(backend)?;
            if changed == 0 {
                return Err(if task_exists(tx, &row.list_id, &row.id)? { StoreError::VersionMismatch } else { StoreError::NotFound });
            }
            if let Some(spawned) = spawned {
                spawned.insert(tx)?;
            }
            Ok(())
        })
        .await
    }

    async fn move_task(&self, writer: Writer, task: &Task, from: ListId, expected_version: u64, spawned: Option<&Task>) -> StoreResult<()> {
        writer.check_list(from)?;
        let row = TaskRow::of(task)?;
        let spawned = spawned.map(TaskRow::of).transpose()?;
        let from = from.to_string();
        let destination = writer.in_list(task.list_id);
        self.transaction(move |tx| {
            check_spawner(tx, writer, spawned.is_some())?;
            check_writer(tx, writer)?;
            check_writer(tx, destination)?;
            let changed = match tx.execute(
                "UPDATE tasks SET list_id = ?3, version = ?4, completed = ?5, due_ms = ?6, alarm_ms = ?7, doc = ?8
                 WHERE list_id = ?1 AND id = ?2 AND version = ?9",
                params![from, row.id, row.list_id, row.version, row.completed, row.due_ms, row.alarm_ms, row.doc, expected_version],
            ) {
                Ok(changed) => changed,
                Err(error) if is_unique_violation(&error) => return Err(StoreError::AlreadyExists),
                Err(error) => return Err(backend(error)),
            };
            if changed == 0 {
                return Err(if task_exists(tx, &from, &row.id)? { StoreError::VersionMismatch } else { StoreError::NotFound });
            }
            if let Some(spawned) = spawned {
                spawned.insert(tx)?;
            }
            Ok(())
        })
        .await
    }

    async fn delete_task(&self, writer: Writer, list: ListId, id: TaskId, expected_version: Option<u64>) -> StoreResult<()> {
        writer.check_list(list)?;
        let (list, id) = (list.to_string(), id.to_string());
        self.transaction(move |tx| {
            check_writer(tx, writer)?;
            let version: Option<u64> = tx
                .query_row("SELECT version FROM tasks WHERE list_id = ?1 AND id = ?2", [&list, &id], |row| row.get(0))
                .optional()
                .map_err(backend)?;
            match version {
                None => return Err(StoreError::NotFound),
                Some(version) if expected_version.is_some_and(|expected| expected != version) => return Err(StoreError::VersionMismatch),
                Some(_) => {}
            }
            let files: i64 = tx.query_row("SELECT count(*) FROM files WHERE task_id = ?1", [&id], |row| row.get(0)).map_err(backend)?;
            if files > 0 {
                return Err(StoreError::NotEmpty);
            }
            tx.execute("DELETE FROM tasks WHERE list_id = ?1 AND id = ?2", [&list, &id]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn list_tasks(&self, list: ListId, filter: &TaskFilter, page: PageRequest<TaskId>) -> StoreResult<Page<Task, TaskId>> {
        let list = list.to_string();
        let after = page.after.map(|id| id.to_string()).unwrap_or_default();
        let completed = filter.completed;
        let tag = filter.tag.as_ref().map(|tag| tag.as_str().to_owned());
        let due_before = filter.due_before.map(|at| at.unix_millis());
        let due_after = filter.due_after.map(|at| at.unix_millis());
        let limit = page.limit;
        let steps = std::sync::Arc::clone(&self.task_page_steps);
        let docs = self
            .read(move |c| {
                // Open tasks come from their partial index, never stepping through completed
                // ones; `INDEXED BY` makes the plan a promise (a prepare error otherwise).
                let mut statement = c.prepare_cached(if completed == Some(false) {
                    "SELECT doc FROM tasks INDEXED BY tasks_open
                     WHERE list_id = ?1 AND id > ?2 AND completed = 0
                       AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(tasks.doc, '$.tags') WHERE value = ?4))
                       AND (?5 IS NULL OR due_ms < ?5)
                       AND (?6 IS NULL OR due_ms >= ?6)
                     ORDER BY id
                     LIMIT ?7"
                } else {
                    "SELECT doc FROM tasks
                     WHERE list_id = ?1 AND id > ?2
                       AND (?3 IS NULL OR completed = ?3)
                       AND (?4 IS NULL OR EXISTS (SELECT 1 FROM json_each(tasks.doc, '$.tags') WHERE value = ?4))
                       AND (?5 IS NULL OR due_ms < ?5)
                       AND (?6 IS NULL OR due_ms >= ?6)
                     ORDER BY id
                     LIMIT ?7"
                })?;
                // One extra row tells whether another page follows.
                let docs = statement
                    .query_map(params![list, after, completed, tag, due_before, due_after, limit + 1], |row| row.get::<_, String>(0))?
                    .collect::<Result<Vec<_>, _>>()?;
                let stepped = statement.reset_status(rusqlite::StatementStatus::VmStep);
                steps.fetch_add(u64::try_from(stepped).unwrap_or(0), std::sync::atomic::Ordering::Relaxed);
                Ok(docs)
            })
            .await?;
        page_of(&docs, limit, |task: &Task| task.id)
    }

    async fn purge_expired_idempotency(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        let now = now.unix_millis();
        self.transaction(move |tx| {
            tx.execute(
                "DELETE FROM idempotency WHERE (owner, key) IN (SELECT owner, key FROM idempotency WHERE expires_ms <= ?1 LIMIT ?2)",
                params![now, limit],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn delete_user_idempotency(&self, user: UserId) -> StoreResult<u64> {
        let user = user.to_string();
        self.transaction(move |tx| tx.execute("DELETE FROM idempotency WHERE owner = ?1", [&user]).map(|n| n as u64).map_err(backend)).await
    }
}
