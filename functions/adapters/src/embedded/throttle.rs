use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::Timestamp;
use todo_domain::ports::{PasswordFailures, StoreError, StoreResult, ThrottleStore};
use todo_domain::usecases::throttle::MAX_LOCK_SECONDS;

use super::{EmbeddedStore, backend};

/// The earliest last failure still remembered at `now`.
fn remembered_since(now: Timestamp) -> i64 {
    now.unix_millis() - MAX_LOCK_SECONDS * 1000
}

#[async_trait]
impl ThrottleStore for EmbeddedStore {
    async fn password_failures(&self, key: &str, now: Timestamp) -> StoreResult<Option<PasswordFailures>> {
        let key = key.to_owned();
        let row: Option<(u32, i64)> = self
            .read(move |c| {
                c.query_row(
                    "SELECT failures, last_failure_ms FROM throttles WHERE key = ?1 AND last_failure_ms >= ?2",
                    params![key, remembered_since(now)],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
            })
            .await?;
        row.map(|(count, last_ms)| {
            let last_failure =
                Timestamp::from_unix_millis(last_ms).ok_or_else(|| StoreError::backend(anyhow::anyhow!("stored time {last_ms}")))?;
            Ok(PasswordFailures { count, last_failure })
        })
        .transpose()
    }

    async fn record_password_failure(&self, key: &str, now: Timestamp) -> StoreResult<()> {
        let key = key.to_owned();
        self.transaction(move |tx| {
            tx.execute(
                "INSERT INTO throttles (key, failures, last_failure_ms) VALUES (?1, 1, ?2)
                 ON CONFLICT (key) DO UPDATE SET
                    failures = CASE WHEN last_failure_ms >= ?3 THEN failures + 1 ELSE 1 END,
                    last_failure_ms = ?2",
                params![key, now.unix_millis(), remembered_since(now)],
            )
            .map(drop)
            .map_err(backend)
        })
        .await
    }

    async fn purge_forgotten_failures(&self, now: Timestamp, limit: u32) -> StoreResult<u64> {
        self.transaction(move |tx| {
            tx.execute(
                "DELETE FROM throttles WHERE key IN (SELECT key FROM throttles WHERE last_failure_ms < ?1 LIMIT ?2)",
                params![remembered_since(now), limit],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }

    async fn clear_password_failures(&self, key: &str) -> StoreResult<()> {
        let key = key.to_owned();
        self.transaction(move |tx| tx.execute("DELETE FROM throttles WHERE key = ?1", [key]).map(drop).map_err(backend)).await
    }
}
