//! Idempotency records (table `idempotency`), claimed in the same transaction as what a keyed
//! create makes: a task or a list.

use rusqlite::params;
use todo_domain::model::Timestamp;
use todo_domain::ports::{IdempotencyRecord, StoreResult};

use super::{backend, query_doc, to_doc};

/// A record as stored, prepared outside the transaction.
pub(super) struct RecordRow {
    owner: String,
    key: String,
    expires_ms: i64,
    doc: String,
}

impl RecordRow {
    pub(super) fn of(record: &IdempotencyRecord) -> StoreResult<Self> {
        Ok(Self {
            owner: record.owner.to_string(),
            key: record.key.as_str().to_owned(),
            expires_ms: record.expires_at.unix_millis(),
            doc: to_doc(record)?,
        })
    }

    /// Stores the record unless its key is in use (an expired record is no use): then the
    /// earlier record, and nothing is stored.
    pub(super) fn claim(&self, tx: &rusqlite::Transaction<'_>, now: Timestamp) -> StoreResult<Option<IdempotencyRecord>> {
        tx.execute(
            "DELETE FROM idempotency WHERE owner = ?1 AND key = ?2 AND expires_ms <= ?3",
            params![self.owner, self.key, now.unix_millis()],
        )
        .map_err(backend)?;
        let previous: Option<IdempotencyRecord> =
            query_doc(tx, "SELECT doc FROM idempotency WHERE owner = ?1 AND key = ?2", [&self.owner, &self.key])?;
        if previous.is_none() {
            tx.execute(
                "INSERT INTO idempotency (owner, key, expires_ms, doc) VALUES (?1, ?2, ?3, ?4)",
                params![self.owner, self.key, self.expires_ms, self.doc],
            )
            .map_err(backend)?;
        }
        Ok(previous)
    }
}
