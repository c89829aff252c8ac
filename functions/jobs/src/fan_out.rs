//! The reminders job on AWS: one invocation per shard of the due-alarm index. Each minute the
//! `reminders` function (the schedule's) sends one message per shard to a queue
//! (`dispatch`); the queue invokes `reminders-shard` once per message, and that worker runs
//! `usecases::reminders::run_shard` for its shard (`run_shards`). So the shards run side by
//! side, each with its own CPU, instead of sharing one invocation's.
//!
//! Locally (the server's loop, `cargo run -- job reminders`) every shard's worker runs in the
//! one process instead (`REMINDERS.run_once`): the same workers, as concurrent tasks.
//!
//! Exactly-once does not depend on this wiring: two workers on one shard (a redelivered
//! message, minutes that overlap) send each alarm once (usecases/reminders.rs).

use std::time::Duration;

use serde::{Deserialize, Serialize};
use todo_adapters::sqs::Queue;
use todo_domain::usecases::reminders::{self, Outcome};
use todo_domain::{App, Error};

/// A message of the shards queue: which shard a worker is to handle.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardMessage {
    pub shard: u32,
}

/// What one dispatch did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dispatched {
    /// Messages sent: one per shard.
    pub shards: u32,
}

/// The shards queue, as the `reminders` function's configuration names it
/// (`TODO_REMINDER_QUEUE_URL`).
pub fn shards_queue(env: &todo_adapters::config::Env<'_>) -> Result<Queue, todo_adapters::config::ConfigError> {
    Queue::from_env(env, todo_adapters::sqs::REMINDER_QUEUE_URL)
}

/// The minute's run: one message per shard of the due-alarm index to `queue`.
pub async fn dispatch(app: &App, queue: &Queue) -> Result<Dispatched, Error> {
    let shards = app.stores.notifications.alarm_shards();
    let bodies: Vec<String> =
        (0..shards).map(|shard| serde_json::to_string(&ShardMessage { shard }).expect("a message serialises")).collect();
    queue.send_all(&bodies).await.map_err(|error| Error::from(todo_adapters::aws_http::store_error(error)))?;
    tracing::info!(shards, queue = queue.url(), "reminders dispatched, one message per shard");
    Ok(Dispatched { shards })
}

/// A message older than this is skipped: the minutes since have sent their own for its shard.
/// Longer than the queue's visibility timeout (180 s), so an invocation Lambda retries after
/// a throttle still runs; the queue keeps messages longer still, so that a failed one lives
/// to reach the failed-runs queue. A message this old has already tripped the queue's age
/// alarm (240 s): nobody was taking them.
pub const STALE_AFTER: Duration = Duration::from_secs(5 * 60);

/// Whether a worker runs `shard`: any under the ceiling, its own count or not. During a deploy
/// that raises the count, a new dispatcher's messages reach workers of the old version; a
/// task they notify moves to a shard under the old count, which both versions read.
fn runs(shard: u32) -> bool {
    shard < todo_adapters::dynamodb::MAX_SHARDS
}

/// An SQS event as Lambda delivers it (the fields the worker reads).
#[derive(Debug, Deserialize)]
pub struct SqsEvent {
    #[serde(rename = "Records")]
    pub records: Vec<SqsRecord>,
}

#[derive(Debug, Deserialize)]
pub struct SqsRecord {
    #[serde(rename = "messageId")]
    pub message_id: String,
    pub body: String,
    #[serde(default)]
    pub attributes: SqsAttributes,
}

#[derive(Debug, Default, Deserialize)]
pub struct SqsAttributes {
    /// When the message was sent, in milliseconds since the epoch (SQS gives it as a string).
    #[serde(rename = "SentTimestamp")]
    pub sent_timestamp: Option<String>,
}

/// The worker's answer: the messages whose shard failed (`ReportBatchItemFailures`: only
/// these go back to the queue, and from there to the failed-runs queue), and what the
/// shards that finished did.
#[derive(Debug, Serialize)]
pub struct ShardsAnswer {
    #[serde(rename = "batchItemFailures")]
    pub batch_item_failures: Vec<ItemFailure>,
    /// Messages skipped as older than `STALE_AFTER`.
    pub stale: u32,
    pub outcome: Outcome,
}

#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ItemFailure {
    #[serde(rename = "itemIdentifier")]
    pub item_identifier: String,
}

/// Runs the worker of each message's shard, all at once (the queue hands over one message a
/// call in production; `sam local invoke` may pass several). A message that names no shard
/// under the ceiling, or whose shard failed, is reported failed (the answer, not an error: a
/// function error would make Lambda slow the mapping down for every shard); one older than
/// `STALE_AFTER` is skipped; the others succeed.
pub async fn run_shards(app: &App, event: SqsEvent) -> ShardsAnswer {
    let shards = app.stores.notifications.alarm_shards();
    let now = app.clock.now();
    let stale_ms = i64::try_from(STALE_AFTER.as_millis()).expect("minutes fit in i64 milliseconds");
    let runs = futures::future::join_all(event.records.iter().map(|record| async move {
        let sent_ms = record.attributes.sent_timestamp.as_deref().and_then(|ms| ms.parse::<i64>().ok());
        if sent_ms.is_some_and(|sent| now.unix_millis() - sent > stale_ms) {
            tracing::warn!(message_id = record.message_id, sent_ms, "a stale shard message, skipped: later minutes covered its shard");
            return Ok(None);
        }
        let shard = match serde_json::from_str::<ShardMessage>(&record.body) {
            Ok(ShardMessage { shard }) if runs(shard) => shard,
            Ok(ShardMessage { shard }) => {
                tracing::error!(shard, shards, message_id = record.message_id, "a message names a shard past the ceiling");
                return Err(());
            }
            Err(error) => {
                tracing::error!(%error, message_id = record.message_id, "a message that is not a shard message");
                return Err(());
            }
        };
        reminders::run_shard(app, shard, now).await.map(Some).map_err(|error| {
            tracing::error!(shard, %error, message_id = record.message_id, "a reminders shard failed; the next run retries it");
        })
    }))
    .await;
    let mut answer = ShardsAnswer { batch_item_failures: Vec::new(), stale: 0, outcome: Outcome::default() };
    for (record, run) in event.records.iter().zip(runs) {
        match run {
            Ok(Some(outcome)) => answer.outcome.add(&outcome),
            Ok(None) => answer.stale += 1,
            Err(()) => answer.batch_item_failures.push(ItemFailure { item_identifier: record.message_id.clone() }),
        }
    }
    answer
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_shard_message_names_a_shard() {
        assert_eq!(serde_json::from_str::<ShardMessage>(r#"{"shard": 3}"#).unwrap(), ShardMessage { shard: 3 });
        assert!(serde_json::from_str::<ShardMessage>(r#"{"shard": -1}"#).is_err());
        assert!(serde_json::from_str::<ShardMessage>(r#"{"count": 3}"#).is_err());
        // A field a later dispatcher adds does not fail an older worker.
        assert_eq!(serde_json::from_str::<ShardMessage>(r#"{"shard": 3, "extra": 1}"#).unwrap(), ShardMessage { shard: 3 });
        assert_eq!(serde_json::to_string(&ShardMessage { shard: 15 }).unwrap(), r#"{"shard":15}"#);
    }

    #[test]
    fn a_worker_runs_shards_past_its_own_count_up_to_the_ceiling() {
        use todo_adapters::dynamodb::{DEFAULT_SHARDS, MAX_SHARDS};
        assert!(runs(0) && runs(DEFAULT_SHARDS) && runs(DEFAULT_SHARDS * 2) && runs(MAX_SHARDS - 1));
        assert!(!runs(MAX_SHARDS));
    }

    #[test]
    fn the_sample_event_is_an_sqs_event_of_shard_messages() {
        let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../infra/events/reminders-shard.json")).unwrap();
        let event: SqsEvent = serde_json::from_str(&text).unwrap();
        assert!(!event.records.is_empty());
        for record in event.records {
            serde_json::from_str::<ShardMessage>(&record.body).unwrap();
            assert!(record.attributes.sent_timestamp.is_none(), "a dated sample would go stale and be skipped");
        }
    }
}
