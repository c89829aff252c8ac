//! The password throttle's items: `THROTTLE#<email hash>` / `THROTTLE`, with `failures`,
//! `last_failure_ms` and a `ttl` that lets DynamoDB forget them.
//!
//! Admission is one conditional `UpdateItem`: the condition spells out the lock schedule
//! (`throttle::lock_seconds` for each count), so deciding and counting are one atomic step.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{ReturnValue, ReturnValuesOnConditionCheckFailure};
use todo_domain::model::Timestamp;
use todo_domain::ports::{Admission, StoreError, StoreResult, ThrottleStore};
use todo_domain::usecases::throttle::{FREE_FAILURES, MAX_LOCK_SECONDS, MEMORY_SECONDS, lock_seconds, locked_until, remembered_since};

use super::{DynamoStore, Item, backend, key, n};

const SK: &str = "THROTTLE";

fn pk(key: &str) -> String {
    format!("THROTTLE#{key}")
}

fn number(item: &Item, name: &str) -> Option<i64> {
    item.get(name).and_then(|value| value.as_n().ok()).and_then(|raw| raw.parse().ok())
}

/// The admission condition at `now`: no item, a forgotten one, or one whose lock is over,
/// count by count as the schedule says. With its placeholder values.
fn admission_condition(now: Timestamp) -> (String, Vec<(String, aws_sdk_dynamodb::types::AttributeValue)>) {
    let mut terms = vec!["attribute_not_exists(PK)".to_owned(), "last_failure_ms < :forgotten".to_owned(), "failures <= :free".to_owned()];
    let mut values = vec![(":forgotten".to_owned(), n(remembered_since(now).unix_millis())), (":free".to_owned(), n(FREE_FAILURES))];
    let unlocked_since = |count: u32| n(now.unix_millis() - lock_seconds(count) * 1000);
    let mut count = FREE_FAILURES + 1;
    while lock_seconds(count) < MAX_LOCK_SECONDS {
        terms.push(format!("(failures = :c{count} AND last_failure_ms <= :t{count})"));
        values.push((format!(":c{count}"), n(count)));
        values.push((format!(":t{count}"), unlocked_since(count)));
        count += 1;
    }
    terms.push("(failures >= :cap AND last_failure_ms <= :tcap)".to_owned());
    values.push((":cap".to_owned(), n(count)));
    values.push((":tcap".to_owned(), unlocked_since(count)));
    (terms.join(" OR "), values)
}

#[async_trait]
impl ThrottleStore for DynamoStore {
    /// One conditional `UpdateItem` (and, when the count it continued was forgotten, one
    /// more to start it again at one).
    async fn admit_password_check(&self, key_: &str, now: Timestamp) -> StoreResult<Admission> {
        let (condition, values) = admission_condition(now);
        let mut request = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(key_), SK.to_owned())))
            .update_expression("SET failures = if_not_exists(failures, :zero) + :one, last_failure_ms = :now, #ttl = :ttl")
            .condition_expression(condition)
            .expression_attribute_names("#ttl", "ttl")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":now", n(now.unix_millis()))
            .expression_attribute_values(":ttl", n(now.unix_seconds() + MEMORY_SECONDS + 3600))
            .return_values(ReturnValue::UpdatedOld)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
        for (name, value) in values {
            request = request.expression_attribute_values(name, value);
        }
        let old = match request.send().await {
            Ok(output) => output.attributes.unwrap_or_default(),
            Err(error) => {
                return match error.into_service_error() {
                    UpdateItemError::ConditionalCheckFailedException(failed) => {
                        let item = failed.item.unwrap_or_default();
                        let (Some(failures), Some(last_ms)) = (number(&item, "failures"), number(&item, "last_failure_ms")) else {
                            return Err(StoreError::backend(anyhow::anyhow!("a throttle lock without its count")));
                        };
                        let last = Timestamp::from_unix_millis(last_ms)
                            .ok_or_else(|| StoreError::backend(anyhow::anyhow!("stored time {last_ms}")))?;
                        Ok(Admission::Locked { until: locked_until(u32::try_from(failures).unwrap_or(u32::MAX), last) })
                    }
                    other => Err(StoreError::backend(other)),
                };
            }
        };
        // A forgotten count was continued: it starts again at this failure.
        if number(&old, "last_failure_ms").is_some_and(|last| last < remembered_since(now).unix_millis()) {
            let restarted = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk(key_), SK.to_owned())))
                .update_expression("SET failures = :one")
                .condition_expression("last_failure_ms = :now")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.unix_millis()))
                .send()
                .await;
            match restarted {
                Ok(_) => {}
                // A later failure moved on: its count stands.
                Err(error) if matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => {}
                Err(error) => return Err(backend(error)),
            }
        }
        Ok(Admission::Admitted)
    }

    /// One conditional `UpdateItem` (`ADD failures -1` while above zero).
    async fn forgive_password_check(&self, key_: &str) -> StoreResult<()> {
        let forgiven = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk(key_), SK.to_owned())))
            .update_expression("ADD failures :minus_one")
            .condition_expression("failures > :zero")
            .expression_attribute_values(":minus_one", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match forgiven {
            Ok(_) => Ok(()),
            Err(error) if matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_))) => Ok(()),
            Err(error) => Err(backend(error)),
        }
    }

    /// Nothing to do: the table's TTL on `ttl` removes forgotten counts.
    async fn purge_forgotten_failures(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }
}
