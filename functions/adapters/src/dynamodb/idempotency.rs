//! Idempotency records (`USER#<uid>` / `IDEMPOTENCY#<key>`, TTL) written in the same
//! transaction as what a keyed create makes: a task or a list.

use aws_sdk_dynamodb::types::{Put, TransactWriteItem};
use serde::{Deserialize, Serialize};
use todo_domain::model::{IdempotencyKey, Timestamp, UserId};
use todo_domain::ports::{CreateOutcome, IdempotencyRecord, StoreError, StoreResult};

use super::{Cancelled, DynamoStore, n, to_item, user_pk};

pub(super) const IDEMPOTENCY_PREFIX: &str = "IDEMPOTENCY#";

#[derive(Serialize, Deserialize)]
struct IdempotencyItem {
    #[serde(rename = "PK")]
    pk: String,
    #[serde(rename = "SK")]
    sk: String,
    /// Epoch seconds; DynamoDB's TTL removes expired records.
    ttl: i64,
    #[serde(flatten)]
    record: IdempotencyRecord,
}

fn idempotency_sk(key: &IdempotencyKey) -> String {
    format!("{IDEMPOTENCY_PREFIX}{}", key.as_str())
}

impl DynamoStore {
    async fn get_idempotency(&self, owner: UserId, key_: &IdempotencyKey) -> StoreResult<Option<IdempotencyRecord>> {
        Ok(self.get::<IdempotencyItem>(user_pk(owner), idempotency_sk(key_)).await?.map(|item| item.record))
    }

    /// Runs a creating transaction, `items` plus (with `record`) the record's put, last and
    /// conditional on its key being unused or expired. A cancellation is, in this order:
    /// `refused` (the caller may not create here: account, membership — a retry by someone
    /// who lost the right is refused, not answered), a used key (a replay, for one more
    /// `GetItem` of the stored answer), or `conflict` (a limit, a taken id: a retry of the
    /// request that reached the limit is still answered).
    pub(super) async fn create_idempotently(
        &self,
        mut items: Vec<TransactWriteItem>,
        record: Option<&IdempotencyRecord>,
        now: Timestamp,
        what: &str,
        refused: impl Fn(&Cancelled) -> Option<StoreError>,
        conflict: impl Fn(&Cancelled) -> StoreError,
    ) -> StoreResult<CreateOutcome> {
        let record_index = items.len();
        if let Some(record) = record {
            let item = IdempotencyItem {
                pk: user_pk(record.owner),
                sk: idempotency_sk(&record.key),
                ttl: record.expires_at.unix_seconds(),
                record: record.clone(),
            };
            let put = Put::builder()
                .table_name(&self.table)
                .set_item(Some(to_item(&item)?))
                // TTL deletes lazily: an expired record counts as absent.
                .condition_expression("attribute_not_exists(PK) OR #ttl <= :now")
                .expression_attribute_names("#ttl", "ttl")
                .expression_attribute_values(":now", n(now.unix_seconds()))
                .build()
                .map_err(StoreError::backend)?;
            items.push(TransactWriteItem::builder().put(put).build());
        }
        // Twice at most: a replay's record can expire and vanish between the write and the read.
        for _ in 0..2 {
            let Err(cancelled) = self.transact(items.clone(), what).await? else {
                return Ok(CreateOutcome::Created);
            };
            if let Some(refusal) = refused(&cancelled) {
                return Err(refusal);
            }
            match record {
                Some(record) if cancelled.failed_at(record_index) => {
                    if let Some(previous) = self.get_idempotency(record.owner, &record.key).await? {
                        return Ok(CreateOutcome::Replayed(Box::new(previous)));
                    }
                }
                _ => return Err(conflict(&cancelled)),
            }
        }
        Err(StoreError::backend(anyhow::anyhow!("an idempotency record kept vanishing during {what}")))
    }
}
