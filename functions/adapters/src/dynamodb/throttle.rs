//! The password throttle's items: `THROTTLE#<email hash>` / `THROTTLE`, with `failures`,
//! `last_failure_ms` and a `ttl` that lets DynamoDB forget them.
//!
//! Admission is one conditional write: counting onto a remembered count is an `UpdateItem`
//! whose condition spells out the lock schedule (`throttle::lock_seconds` for each count);
//! starting a new or forgotten count is a `PutItem` conditional on there being none. So
//! deciding and counting are one atomic step either way.

use async_trait::async_trait;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
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

/// The condition for counting onto a remembered item at `now`: its lock is over, count by
/// count as the schedule says. With its placeholder values.
fn admission_condition(now: Timestamp) -> (String, Vec<(String, aws_sdk_dynamodb::types::AttributeValue)>) {
    let mut terms = vec!["failures <= :free".to_owned()];
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
    (format!("attribute_exists(PK) AND last_failure_ms >= :forgotten AND ({})", terms.join(" OR ")), values)
}

fn stored_time(millis: i64) -> StoreResult<Timestamp> {
    Timestamp::from_unix_millis(millis).ok_or_else(|| StoreError::backend(anyhow::anyhow!("stored time {millis}")))
}

fn condition_failed(error: &aws_sdk_dynamodb::error::SdkError<UpdateItemError, aws_sdk_dynamodb::config::http::HttpResponse>) -> bool {
    matches!(error.as_service_error(), Some(UpdateItemError::ConditionalCheckFailedException(_)))
}

#[async_trait]
impl ThrottleStore for DynamoStore {
    /// One conditional `UpdateItem` counting onto a remembered count whose lock is over; for
    /// a new or forgotten one, one conditional `PutItem` starting at one instead. Each step
    /// is atomic; a race between them is retried.
    async fn admit_password_check(&self, key_: &str, now: Timestamp) -> StoreResult<Admission> {
        let ttl = n(now.unix_seconds() + MEMORY_SECONDS + 3600);
        for _ in 0..3 {
            let (condition, values) = admission_condition(now);
            let mut request = self
                .client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk(key_), SK.to_owned())))
                .update_expression("SET failures = failures + :one, last_failure_ms = :now, #ttl = :ttl")
                .condition_expression(condition)
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":one", n(1))
                .expression_attribute_values(":now", n(now.unix_millis()))
                .expression_attribute_values(":ttl", ttl.clone())
                .return_values(ReturnValue::UpdatedOld)
                .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld);
            for (name, value) in values {
                request = request.expression_attribute_values(name, value);
            }
            let old = match request.send().await {
                Ok(output) => {
                    let previous =
                        output.attributes.as_ref().and_then(|old| number(old, "last_failure_ms")).map(stored_time).transpose()?;
                    return Ok(Admission::Admitted { at: now, previous });
                }
                Err(error) if condition_failed(&error) => match error.into_service_error() {
                    UpdateItemError::ConditionalCheckFailedException(failed) => failed.item.unwrap_or_default(),
                    other => return Err(StoreError::backend(other)),
                },
                Err(error) => return Err(backend(error)),
            };
            if let (Some(failures), Some(last_ms)) = (number(&old, "failures"), number(&old, "last_failure_ms"))
                && last_ms >= remembered_since(now).unix_millis()
            {
                let until = locked_until(u32::try_from(failures).unwrap_or(u32::MAX), stored_time(last_ms)?);
                return Ok(Admission::Locked { until });
            }
            // No count, or a forgotten one: this failure starts it again.
            let started = self
                .client
                .put_item()
                .table_name(&self.table)
                .item("PK", super::s(pk(key_)))
                .item("SK", super::s(SK))
                .item("failures", n(1))
                .item("last_failure_ms", n(now.unix_millis()))
                .item("ttl", ttl.clone())
                .condition_expression("attribute_not_exists(PK) OR last_failure_ms < :forgotten")
                .expression_attribute_values(":forgotten", n(remembered_since(now).unix_millis()))
                .send()
                .await;
            match started {
                Ok(_) => return Ok(Admission::Admitted { at: now, previous: None }),
                // Another check started the count first: decide again on what it wrote.
                Err(error) if matches!(error.as_service_error(), Some(PutItemError::ConditionalCheckFailedException(_))) => {}
                Err(error) => return Err(backend(error)),
            }
        }
        Err(StoreError::backend(anyhow::anyhow!("admitting a password check kept racing")))
    }

    /// One conditional `UpdateItem`: the count down by one and the last failure back to the
    /// one before; if another check came since, the count only.
    async fn forgive_password_check(&self, key_: &str, admitted: Admission) -> StoreResult<()> {
        let Admission::Admitted { at, previous } = admitted else { return Ok(()) };
        let base = || {
            self.client
                .update_item()
                .table_name(&self.table)
                .set_key(Some(key(pk(key_), SK.to_owned())))
                .expression_attribute_values(":minus_one", n(-1))
                .expression_attribute_values(":zero", n(0))
        };
        let restored = match previous {
            Some(previous) => {
                base()
                    .update_expression("ADD failures :minus_one SET last_failure_ms = :previous")
                    .condition_expression("failures > :zero AND last_failure_ms = :mine")
                    .expression_attribute_values(":previous", n(previous.unix_millis()))
                    .expression_attribute_values(":mine", n(at.unix_millis()))
                    .send()
                    .await
            }
            None => {
                base()
                    .update_expression("ADD failures :minus_one")
                    .condition_expression("failures > :zero AND last_failure_ms = :mine")
                    .expression_attribute_values(":mine", n(at.unix_millis()))
                    .send()
                    .await
            }
        };
        match restored {
            Ok(_) => return Ok(()),
            Err(error) if condition_failed(&error) => {}
            Err(error) => return Err(backend(error)),
        }
        let counted = base().update_expression("ADD failures :minus_one").condition_expression("failures > :zero").send().await;
        match counted {
            Ok(_) => Ok(()),
            Err(error) if condition_failed(&error) => Ok(()),
            Err(error) => Err(backend(error)),
        }
    }

    /// Nothing to do: the table's TTL on `ttl` removes forgotten counts.
    async fn purge_forgotten_failures(&self, _now: Timestamp, _limit: u32) -> StoreResult<u64> {
        Ok(0)
    }
}
