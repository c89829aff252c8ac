use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::{Email, SessionId, TaskList, Timestamp, User, UserId};
use todo_domain::ports::{StoreError, StoreResult, UserStore};

use super::{EmbeddedStore, backend, from_doc, is_unique_violation, to_doc};

/// Refuses a write on behalf of an account that no longer exists (deleted while one of its
/// access tokens still verifies): every create checks this inside its transaction.
pub(super) fn check_account(tx: &rusqlite::Transaction<'_>, user: UserId) -> StoreResult<()> {
    let exists = tx.query_row("SELECT 1 FROM users WHERE id = ?1", [user.to_string()], |_| Ok(())).optional().map_err(backend)?;
    exists.ok_or(StoreError::OwnerMissing)
}

#[async_trait]
impl UserStore for EmbeddedStore {
    async fn insert_user(&self, user: &User, inbox: &TaskList) -> StoreResult<()> {
        let (id, email, version, doc) = (user.id.to_string(), user.email.as_str().to_owned(), user.version, to_doc(user)?);
        let inbox = inbox.clone();
        self.transaction(move |tx| {
            match tx.execute("INSERT INTO users (id, email, version, doc) VALUES (?1, ?2, ?3, ?4)", params![id, email, version, doc]) {
                Ok(_) => {}
                Err(error) if is_unique_violation(&error) => return Err(StoreError::AlreadyExists),
                Err(error) => return Err(backend(error)),
            }
            super::lists::insert_list(tx, &inbox)
        })
        .await
    }

    async fn get_user(&self, id: UserId) -> StoreResult<Option<User>> {
        let id = id.to_string();
        let doc =
            self.read(move |c| c.query_row("SELECT doc FROM users WHERE id = ?1", [id], |row| row.get::<_, String>(0)).optional()).await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn find_user_by_email(&self, email: &Email) -> StoreResult<Option<User>> {
        let email = email.as_str().to_owned();
        let doc = self
            .read(move |c| c.query_row("SELECT doc FROM users WHERE email = ?1", [email], |row| row.get::<_, String>(0)).optional())
            .await?;
        doc.as_deref().map(from_doc).transpose()
    }

    async fn replace_user(&self, current: &User, user: &User, keep: Option<SessionId>) -> StoreResult<()> {
        let expected_version = current.version;
        let (id, email, version, doc) = (user.id.to_string(), user.email.as_str().to_owned(), user.version, to_doc(user)?);
        let (user_id, credentials_version) = (user.id, user.credentials_version);
        self.transaction(move |tx| {
            if let Some(session) = keep {
                super::sessions::move_to_credentials(tx, user_id, session, credentials_version)?;
            }
            let changed = match tx.execute(
                "UPDATE users SET email = ?2, version = ?3, doc = ?4 WHERE id = ?1 AND version = ?5",
                params![id, email, version, doc, expected_version],
            ) {
                Ok(changed) => changed,
                Err(error) if is_unique_violation(&error) => return Err(StoreError::AlreadyExists),
                Err(error) => return Err(backend(error)),
            };
            if changed == 1 {
                return Ok(());
            }
            let exists = tx.query_row("SELECT 1 FROM users WHERE id = ?1", [&id], |_| Ok(())).optional().map_err(backend)?;
            Err(if exists.is_some() { StoreError::VersionMismatch } else { StoreError::NotFound })
        })
        .await
    }

    async fn delete_user(&self, user: &User, at: Timestamp) -> StoreResult<()> {
        let id = user.id.to_string();
        self.transaction(move |tx| {
            let deleted = tx.execute("DELETE FROM users WHERE id = ?1", [&id]).map_err(backend)?;
            if deleted > 0 {
                tx.execute("INSERT OR IGNORE INTO pending_deletions (user_id, deleted_ms) VALUES (?1, ?2)", params![id, at.unix_millis()])
                    .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn finish_deletion(&self, user: UserId) -> StoreResult<()> {
        let id = user.to_string();
        self.transaction(move |tx| tx.execute("DELETE FROM pending_deletions WHERE user_id = ?1", [id]).map(drop).map_err(backend)).await
    }

    async fn pending_deletions(&self, limit: u32) -> StoreResult<Vec<UserId>> {
        let ids = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT user_id FROM pending_deletions ORDER BY deleted_ms, user_id LIMIT ?1")?;
                let rows = statement.query_map([limit], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        ids.iter()
            .map(|id| UserId::parse(id).map_err(|e| StoreError::backend(anyhow::anyhow!("bad id in pending_deletions: {e}"))))
            .collect()
    }

    async fn get_users(&self, ids: &[UserId]) -> StoreResult<Vec<User>> {
        let ids: Vec<String> = ids.iter().map(UserId::to_string).collect();
        let docs = self
            .read(move |c| {
                let mut statement = c.prepare_cached("SELECT doc FROM users WHERE id IN (SELECT value FROM json_each(?1))")?;
                let ids = serde_json::to_string(&ids).expect("strings serialise");
                let rows = statement.query_map([ids], |row| row.get::<_, String>(0))?;
                rows.collect::<Result<Vec<_>, _>>()
            })
            .await?;
        docs.iter().map(|doc| from_doc(doc)).collect()
    }
}
