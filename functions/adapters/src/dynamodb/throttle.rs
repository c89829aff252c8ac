//! The password throttle's items: `THROTTLE#<email hash>` / `THROTTLE`, with `failures`,
//! `last_failure_ms` and a `ttl` that lets DynamoDB forget them.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use todo_domain::model::Timestamp;
use todo_domain::ports::{PasswordFailures, StoreError, StoreResult, ThrottleStore};
use todo_domain::usecases::throttle::MAX_LOCK_SECONDS;

use super::{DynamoStore, backend, key, n};

const SK: &str = "THROTTLE";

fn pk(key: &str) -> String {
    format!("THROTTLE#{key}")
}

/// The earliest last failure still remembered at `now`.
fn remembered_since(now: Timestamp) -> i64 {
    now.unix_millis() - MAX_LOCK_SECONDS * 1000
}

fn number(item: &super::Item, name: &str) -> StoreResult<i64> {
    item.get(name)
        .and_then(|value| value.as_n().ok())
        .and_then(|raw| raw.parse().ok())
        .ok_or_else(|| StoreError::backend(anyhow::anyhow!("a throttle item without {name}")))
}

#[async_trait]
impl ThrottleStore for DynamoStore {
    /// One `GetItem`.
    async fn password_failures(&self, key_: &str, now: Timestamp) -> StoreResult<Option<PasswordFailures>> {
        let output =
            self.client.get_item().table_name(&self.table).set_key(Some(key(pk(key_), SK.to_owned()))).consistent_read(true).send().await;
        let Some(item) = output.map_err(backend)?.item else { return Ok(None) };
        let last_ms = number(&item, "last_failure_ms")?;
        if last_ms < remembered_since(now) {
            return Ok(None);
        }
        let count = u32::try_from(number(&item, "failures")?).unwrap_or(u32::MAX);
        let last_failure =
            Timestamp::from_unix_millis(last_ms).ok_or_else(|| StoreError::backend(anyhow::anyhow!("stored time {last_ms}")))?;
        Ok(Some(PasswordFailures { count, last_failure }))
    }

    /// One conditional `UpdateItem` (`ADD failures 1` while the last failure is remembered);
    /// otherwise one conditional `PutItem` starting again at one. Retried if they race.
    async fn record_password_failure(&self, key_: &str, now: Timestamp) -> StoreResult<()> {
        let since = remembered_since(now);
        let ttl = now.unix_seconds() + MAX_LOCK_SECONDS + 3600;
        for _ in 0..3 {
            let counted = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk(key_), SK.to_owned())))
                .update_expression("ADD failures :one SET last_failure_ms = :now, #ttl = :ttl")
                .condition_expression("last_failure_ms >= :since")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.unix_millis()))
                .expression_attribute_values(":ttl", n(ttl))
                .expression_attribute_values(":since", n(since))
                .send()
                .await;
            match counted {
                Ok(_) => return Ok(()),
                Err(error) if matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {}
                Err(error) => return Err(backend(error)),
            }
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("PK", super::s(pk(key_)))
                .item("SK", super::s(SK))
                .item("failures", n(1))
                .item("last_failure_ms", n(now.unix_millis()))
                .item("ttl", n(ttl))
                .condition_expression("attribute_not_exists(PK) OR last_failure_ms < :since")
                .expression_attribute_values(":since", n(since))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(()),
                // Another failure started the count first: count onto it.
                Err(error) if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {}
                Err(error) => return Err(backend(error)),
            }
        }
        Err(StoreError::backend(anyhow::anyhow!("recording a password failure kept racing")))
    }

    /// Nothing to do: the table's TTL on `ttl` removes forgotten counts.
    async fn purge_forgotten_failures(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }

    /// One `DeleteItem`.
    async fn clear_password_failures(&self, key_: &str) -> StoreResult<()> {
        self.client.delete_item().table_name(&self.table).set_key(Some(key(pk(key_), SK.to_owned()))).send().await.map_err(backend)?;
        Ok(())
    }
}
