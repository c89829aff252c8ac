use async_trait::async_trait;
use rusqlite::params;
use todo_domain::model::{SessionId, Timestamp, UserId};
use todo_domain::ports::{Session, SessionStore, StoreError, StoreResult};

use super::{EmbeddedStore, backend, from_doc, is_unique_violation, query_doc, to_doc};

/// Moves the session to `credentials_version` if it exists unrevoked (inside the caller's
/// transaction: the password change's).
pub(super) fn move_to_credentials(
    tx: &rusqlite::Transaction<'_>,
    user: UserId,
    id: SessionId,
    credentials_version: u64,
) -> StoreResult<()> {
    let session: Option<Session> =
        query_doc(tx, "SELECT doc FROM sessions WHERE id = ?1 AND user_id = ?2", [id.to_string(), user.to_string()])?;
    match session {
        Some(session) if session.revoked_at.is_none() => write(tx, &Session { credentials_version, ..session }),
        _ => Ok(()),
    }
}

fn write(tx: &rusqlite::Transaction<'_>, session: &Session) -> StoreResult<()> {
    tx.execute(
        "UPDATE sessions SET generation = ?2, doc = ?3 WHERE id = ?1",
        params![session.id.to_string(), session.generation, to_doc(session)?],
    )
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl SessionStore for EmbeddedStore {
    async fn insert_session(&self, session: &Session) -> StoreResult<()> {
        let (id, user_id, generation, doc) = (session.id.to_string(), session.user_id.to_string(), session.generation, to_doc(session)?);
        self.transaction(move |tx| {
            match tx.execute(
                "INSERT INTO sessions (id, user_id, generation, doc) VALUES (?1, ?2, ?3, ?4)",
                params![id, user_id, generation, doc],
            ) {
                Ok(_) => Ok(()),
                Err(error) if is_unique_violation(&error) => Err(StoreError::AlreadyExists),
                Err(error) => Err(backend(error)),
            }
        })
        .await
    }

    async fn get_session(&self, user_id: UserId, id: SessionId) -> StoreResult<Option<Session>> {
        let (user_id, id) = (user_id.to_string(), id.to_string());
        self.transaction(move |tx| query_doc(tx, "SELECT doc FROM sessions WHERE id = ?1 AND user_id = ?2", [id, user_id])).await
    }

    async fn rotate_session(&self, rotated: &Session, expected_generation: u64) -> StoreResult<()> {
        let rotated = rotated.clone();
        self.transaction(move |tx| {
            let current: Session = query_doc(
                tx,
                "SELECT doc FROM sessions WHERE id = ?1 AND user_id = ?2",
                [rotated.id.to_string(), rotated.user_id.to_string()],
            )?
            .ok_or(StoreError::NotFound)?;
            if current.generation != expected_generation || current.revoked_at.is_some() {
                return Err(StoreError::VersionMismatch);
            }
            write(tx, &rotated)
        })
        .await
    }

    async fn revoke_session(&self, user_id: UserId, id: SessionId, at: Timestamp) -> StoreResult<()> {
        self.transaction(move |tx| {
            let mut session: Session =
                query_doc(tx, "SELECT doc FROM sessions WHERE id = ?1 AND user_id = ?2", [id.to_string(), user_id.to_string()])?
                    .ok_or(StoreError::NotFound)?;
            if session.revoked_at.is_none() {
                session.revoked_at = Some(at);
                write(tx, &session)?;
            }
            Ok(())
        })
        .await
    }

    async fn user_sessions(&self, user_id: UserId) -> StoreResult<Vec<Session>> {
        self.transaction(move |tx| {
            let mut statement = tx.prepare("SELECT doc FROM sessions WHERE user_id = ?1").map_err(backend)?;
            let docs = statement
                .query_map([user_id.to_string()], |row| row.get::<_, String>(0))
                .map_err(backend)?
                .collect::<Result<Vec<_>, _>>()
                .map_err(backend)?;
            let mut sessions = docs.iter().map(|doc| from_doc::<Session>(doc)).collect::<StoreResult<Vec<_>>>()?;
            sessions.sort_by_key(|session| (session.created_at, session.id));
            Ok(sessions)
        })
        .await
    }

    async fn delete_sessions(&self, user_id: UserId, ids: &[SessionId]) -> StoreResult<()> {
        let ids: Vec<String> = ids.iter().map(ToString::to_string).collect();
        self.transaction(move |tx| {
            for id in &ids {
                tx.execute("DELETE FROM sessions WHERE user_id = ?1 AND id = ?2", params![user_id.to_string(), id]).map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn purge_expired_sessions(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        // Stored times are RFC 3339 UTC with milliseconds: they compare as strings.
        let now = now.to_string();
        self.transaction(move |tx| {
            tx.execute(
                "DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE json_extract(doc, '$.expires_at') < ?1 LIMIT ?2)",
                params![now, limit],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn delete_user_sessions(&self, user_id: UserId) -> StoreResult<u64> {
        self.transaction(move |tx| {
            tx.execute("DELETE FROM sessions WHERE user_id = ?1", [user_id.to_string()]).map(|n| n as u64).map_err(backend)
        })
        .await
    }
}
