use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{ListId, ListPosition, Membership, Role, TaskList, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, ListStore, StoreError, StoreResult, Writer};

use super::idempotency::RecordRow;
use super::{EmbeddedStore, backend, from_doc, is_unique_violation, stored_id, to_doc};

/// Inserts a list with its owner's membership (inside the caller's transaction).
pub(super) fn insert_list(tx: &rusqlite::Transaction<'_>, list: &TaskList) -> StoreResult<()> {
    let id = list.id.to_string();
    match tx.execute(
        "INSERT INTO lists (id, owner, version, doc) VALUES (?1, ?2, ?3, ?4)",
        params![id, list.owner.to_string(), list.version, to_doc(list)?],
    ) {
        Ok(_) => {}
        Err(error) if is_unique_violation(&error) => return Err(StoreError::AlreadyExists),
        Err(error) => return Err(backend(error)),
    }
    tx.execute(
        "INSERT INTO members (list_id, user_id, role) VALUES (?1, ?2, ?3)",
        params![id, list.owner.to_string(), Role::Owner.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}

/// A member's live role (a membership kept only to resume a deletion is no access).
pub(super) fn role_of(connection: &rusqlite::Connection, list: &str, user: &str) -> StoreResult<Option<Role>> {
    let role: Option<String> = connection
        .query_row("SELECT role FROM members WHERE list_id = ?1 AND user_id = ?2 AND revoked = 0", [list, user], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    role.as_deref().map(stored_role).transpose()
}

/// A membership from a `members` row's role and position.
pub(super) fn stored_membership(list: ListId, user: UserId, role: &str, position: Option<u32>) -> StoreResult<Membership> {
    let position = position
        .map(|raw| {
            ListPosition::parse(raw.into()).map_err(|problem| StoreError::backend(anyhow::anyhow!("stored position {raw} {problem}")))
        })
        .transpose()?;
    Ok(Membership { position, ..Membership::new(list, user, stored_role(role)?) })
}

pub(super) fn stored_role(raw: &str) -> StoreResult<Role> {
    Role::parse(raw).map_err(|problem| StoreError::backend(anyhow::anyhow!("stored role {raw:?} {problem}")))
}

/// Refuses a member's write unless they may write the list's tasks (inside the write's
/// transaction, so the check and the write are one).
pub(super) fn check_writer(tx: &rusqlite::Transaction<'_>, writer: Writer) -> StoreResult<()> {
    let Writer::Member { user, list } = writer else { return Ok(()) };
    match role_of(tx, &list.to_string(), &user.to_string())? {
        Some(role) if role.writes_tasks() => Ok(()),
        _ => Err(StoreError::AccessDenied),
    }
}

impl EmbeddedStore {
    /// A user's memberships, with or without the one kept to resume a list's deletion.
    async fn memberships_of(&self, user: UserId, with_deleting: bool) -> StoreResult<Vec<Membership>> {
        let user_text = user.to_string();
        let rows = self
            .read(move |c| {
                let mut statement = c.prepare_cached(
                    "SELECT list_id, role, position FROM members WHERE user_id = ?1 AND (revoked = 0 OR ?2) ORDER BY list_id",
                )?;
                let rows = statement.query_map(params![user_text, with_deleting], |row| {
                    Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?, row.get::<_, Option<u32>>(2)?))
                })?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        rows.into_iter().map(|(list, role, position)| stored_membership(stored_id(&list, ListId::parse)?, user, &role, position)).collect()
    }
}

#[async_trait]
impl ListStore for EmbeddedStore {
    async fn create_list(
        &self,
        list: &TaskList,
        max_owned: u32,
        idempotency: Option<&IdempotencyRecord>,
        now: Timestamp,
    ) -> StoreResult<CreateOutcome> {
        let list = list.clone();
        let record = idempotency.map(RecordRow::of).transpose()?;
        self.transaction(move |tx| {
            super::users::check_account(tx, list.owner)?;
            let owner = list.owner.to_string();
            // A retry of the request that reached the limit is answered, as on DynamoDB.
            if let Some(previous) = record.map(|record| record.claim(tx, now)).transpose()?.flatten() {
                return Ok(CreateOutcome::Replayed(Box::new(previous)));
            }
            // The Inbox's id is its owner's: it does not count.
            let lists_owned: u32 =
                tx.query_row("SELECT count(*) FROM lists WHERE owner = ?1 AND id <> ?1", [&owner], |row| row.get(0)).map_err(backend)?;
            if lists_owned >= max_owned {
                return Err(StoreError::LimitReached);
            }
            insert_list(tx, &list)?;
            Ok(CreateOutcome::Created)
        })
        .await
    }

    async fn update_list(&self, writer: Writer, list: &TaskList, expected_version: u64) -> StoreResult<()> {
        writer.check_list(list.id)?;
        let (id, version, doc) = (list.id.to_string(), list.version, to_doc(list)?);
        self.transaction(move |tx| {
            check_writer(tx, writer)?;
            let changed = tx
                .execute(
                    "UPDATE lists SET version = ?2, doc = ?3 WHERE id = ?1 AND version = ?4",
                    params![id, version, doc, expected_version],
                )
                .map_err(backend)?;
            if changed == 1 {
                return Ok(());
            }
            let exists = tx.query_row("SELECT 1 FROM lists WHERE id = ?1", [&id], |_| Ok(())).optional().map_err(backend)?;
            Err(if exists.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound })
        })
        .await
    }

    async fn get_lists(&self, ids: &[ListId]) -> StoreResult<Vec<TaskList>> {
        let ids = serde_json::to_string(ids).map_err(StoreError::backend)?;
        let docs = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT doc FROM lists WHERE id IN (SELECT value FROM json_each(?1))")?;
                let rows = statement.query_map([ids], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        docs.iter().map(|doc| from_doc(doc)).collect()
    }

    async fn get_list(&self, id: ListId) -> StoreResult<Option<TaskList>> {
        let id = id.to_string();
        let doc =
            self.read(move |c| c.query_row("SELECT doc FROM lists WHERE id = ?1", [id], |row| row.get::<_, String>(0)).optional()).await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn membership(&self, list: ListId, user: UserId) -> StoreResult<Option<Membership>> {
        let (list_text, user_text) = (list.to_string(), user.to_string());
        let row = self
            .read(move |c| {
                c.query_row(
                    "SELECT role, position FROM members WHERE list_id = ?1 AND user_id = ?2 AND revoked = 0",
                    [list_text, user_text],
                    |row| Ok((row.get::<_, String>(0)?, row.get::<_, Option<u32>>(1)?)),
                )
                .optional()
            })
            .await?;
        row.map(|(role, position)| stored_membership(list, user, &role, position)).transpose()
    }

    async fn set_position(&self, list: ListId, user: UserId, position: Option<ListPosition>) -> StoreResult<()> {
        let (list, user, position) = (list.to_string(), user.to_string(), position.map(ListPosition::get));
        self.transaction(move |tx| {
            let changed = tx
                .execute(
                    "UPDATE members SET position = ?3 WHERE list_id = ?1 AND user_id = ?2 AND revoked = 0",
                    params![list, user, position],
                )
                .map_err(backend)?;
            if changed == 1 { Ok(()) } else { Err(StoreError::NotFound) }
        })
        .await
    }

    async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        self.memberships_of(user, true).await
    }

    async fn readable_lists(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        self.memberships_of(user, false).await
    }

    async fn delete_list_members(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let (list, keeper) = (list.to_string(), keeper.to_string());
        self.transaction(move |tx| {
            tx.execute("DELETE FROM invitations WHERE list_id = ?1", [&list]).map_err(backend)?;
            tx.execute("DELETE FROM members WHERE list_id = ?1 AND user_id <> ?2", [&list, &keeper]).map_err(backend)?;
            tx.execute("UPDATE members SET revoked = 1 WHERE list_id = ?1 AND user_id = ?2", [&list, &keeper]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    /// The owner's count of lists is a count of rows here: nothing to decrement.
    async fn delete_list(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let (list, keeper) = (list.to_string(), keeper.to_string());
        self.transaction(move |tx| {
            tx.execute("DELETE FROM lists WHERE id = ?1", [&list]).map_err(backend)?;
            tx.execute("DELETE FROM members WHERE list_id = ?1 AND user_id = ?2", [&list, &keeper]).map_err(backend)?;
            tx.execute("DELETE FROM list_deletions WHERE list_id = ?1", [&list]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn mark_list_deleted(&self, list: &TaskList, at: Timestamp) -> StoreResult<()> {
        let (id, owner) = (list.id.to_string(), list.owner.to_string());
        self.transaction(move |tx| {
            if role_of(tx, &id, &owner)? != Some(Role::Owner) {
                return Err(StoreError::AccessDenied);
            }
            tx.execute("INSERT OR IGNORE INTO list_deletions (list_id, deleted_ms) VALUES (?1, ?2)", params![id, at.unix_millis()])
                .map(drop)
                .map_err(backend)
        })
        .await
    }

    async fn pending_list_deletions(&self, limit: u32) -> StoreResult<Vec<ListId>> {
        let ids = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT list_id FROM list_deletions ORDER BY deleted_ms, list_id LIMIT ?1")?;
                let rows = statement.query_map([limit], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        ids.iter().map(|id| stored_id(id, ListId::parse)).collect()
    }
}
