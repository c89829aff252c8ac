use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{ListId, Membership, Role, TaskList, UserId};
use todo_domain::ports::{ListStore, StoreError, StoreResult, Writer};

use super::{EmbeddedStore, backend, from_doc, stored_id, to_doc};

/// Inserts a list with its owner's membership (inside the caller's transaction).
pub(super) fn insert_list(tx: &rusqlite::Transaction<'_>, list: &TaskList) -> StoreResult<()> {
    let id = list.id.to_string();
    tx.execute(
        "INSERT INTO lists (id, owner, version, doc) VALUES (?1, ?2, ?3, ?4)",
        params![id, list.owner.to_string(), list.version, to_doc(list)?],
    )
    .map_err(backend)?;
    tx.execute(
        "INSERT INTO members (list_id, user_id, role) VALUES (?1, ?2, ?3)",
        params![id, list.owner.to_string(), Role::Owner.as_str()],
    )
    .map_err(backend)?;
    Ok(())
}

/// A member's live role (a membership kept only to resume a deletion is no access).
fn role_of(connection: &rusqlite::Connection, list: &str, user: &str) -> StoreResult<Option<Role>> {
    let role: Option<String> = connection
        .query_row("SELECT role FROM members WHERE list_id = ?1 AND user_id = ?2 AND revoked = 0", [list, user], |row| row.get(0))
        .optional()
        .map_err(backend)?;
    role.map(|role| Role::parse(&role).map_err(|problem| StoreError::backend(anyhow::anyhow!("stored role {role:?} {problem}"))))
        .transpose()
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

#[async_trait]
impl ListStore for EmbeddedStore {
    async fn get_list(&self, id: ListId) -> StoreResult<Option<TaskList>> {
        let id = id.to_string();
        let doc =
            self.read(move |c| c.query_row("SELECT doc FROM lists WHERE id = ?1", [id], |row| row.get::<_, String>(0)).optional()).await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn member_role(&self, list: ListId, user: UserId) -> StoreResult<Option<Role>> {
        let (list, user) = (list.to_string(), user.to_string());
        let connection = std::sync::Arc::clone(&self.connection);
        tokio::task::spawn_blocking(move || {
            let connection = connection.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            role_of(&connection, &list, &user)
        })
        .await
        .map_err(StoreError::backend)?
    }

    async fn memberships(&self, user: UserId) -> StoreResult<Vec<Membership>> {
        let user_text = user.to_string();
        let rows = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT list_id, role FROM members WHERE user_id = ?1 ORDER BY list_id")?;
                let rows = statement.query_map([user_text], |row| Ok((row.get::<_, String>(0)?, row.get::<_, String>(1)?)))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        rows.into_iter()
            .map(|(list, role)| {
                Ok(Membership {
                    list_id: stored_id(&list, ListId::parse)?,
                    user_id: user,
                    role: Role::parse(&role).map_err(|problem| StoreError::backend(anyhow::anyhow!("stored role {role:?} {problem}")))?,
                })
            })
            .collect()
    }

    async fn delete_list_members(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let (list, keeper) = (list.to_string(), keeper.to_string());
        self.transaction(move |tx| {
            tx.execute("DELETE FROM members WHERE list_id = ?1 AND user_id <> ?2", [&list, &keeper]).map_err(backend)?;
            tx.execute("UPDATE members SET revoked = 1 WHERE list_id = ?1 AND user_id = ?2", [&list, &keeper]).map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn delete_list(&self, list: ListId, keeper: UserId) -> StoreResult<()> {
        let (list, keeper) = (list.to_string(), keeper.to_string());
        self.transaction(move |tx| {
            tx.execute("DELETE FROM lists WHERE id = ?1", [&list]).map_err(backend)?;
            tx.execute("DELETE FROM members WHERE list_id = ?1 AND user_id = ?2", [&list, &keeper]).map_err(backend)?;
            Ok(())
        })
        .await
    }
}
