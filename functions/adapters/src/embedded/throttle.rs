use async_trait::async_trait;
use rusqlite::{OptionalExtension as _, params};
use todo_domain::model::Timestamp;
use todo_domain::ports::{Admission, StoreError, StoreResult, ThrottleStore};
use todo_domain::usecases::throttle::{locked_until, remembered_since};

use super::{EmbeddedStore, backend};

#[async_trait]
impl ThrottleStore for EmbeddedStore {
    async fn admit_password_check(&self, key: &str, now: Timestamp) -> StoreResult<Admission> {
        let key = key.to_owned();
        self.transaction(move |tx| {
            let since = remembered_since(now).unix_millis();
            let recorded: Option<(u32, i64)> = tx
                .query_row(
                    "SELECT failures, last_failure_ms FROM throttles WHERE key = ?1 AND last_failure_ms >= ?2",
                    params![key, since],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .optional()
                .map_err(backend)?;
            let mut failures = 0;
            let mut previous = None;
            if let Some((count, last_ms)) = recorded {
                let last =
                    Timestamp::from_unix_millis(last_ms).ok_or_else(|| StoreError::backend(anyhow::anyhow!("stored time {last_ms}")))?;
                let until = locked_until(count, last);
                if until > now {
                    return Ok(Admission::Locked { until });
                }
                failures = count;
                previous = Some(last);
            }
            tx.execute(
                "INSERT INTO throttles (key, failures, last_failure_ms) VALUES (?1, ?2, ?3)
                 ON CONFLICT (key) DO UPDATE SET failures = ?2, last_failure_ms = ?3",
                params![key, failures + 1, now.unix_millis()],
            )
            .map_err(backend)?;
            Ok(Admission::Admitted { at: now, previous })
        })
        .await
    }

    async fn forgive_password_check(&self, key: &str, admitted: Admission) -> StoreResult<()> {
        let Admission::Admitted { at, previous } = admitted else { return Ok(()) };
        let key = key.to_owned();
        self.transaction(move |tx| {
            // The last failure goes back to the one before, unless a later check moved it.
            tx.execute(
                "UPDATE throttles SET failures = failures - 1,
                    last_failure_ms = CASE WHEN last_failure_ms = ?2 THEN coalesce(?3, last_failure_ms) ELSE last_failure_ms END
                 WHERE key = ?1 AND failures > 0",
                params![key, at.unix_millis(), previous.map(|at: Timestamp| at.unix_millis())],
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
                params![remembered_since(now).unix_millis(), limit],
            )
            .map(|n| n as u64)
            .map_err(backend)
        })
        .await
    }
}
