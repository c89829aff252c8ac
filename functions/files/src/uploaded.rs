//! `file-uploaded`: the bucket's `ObjectCreated` events, recorded by the same use case the
//! local server calls after a local upload.

use serde::{Deserialize, Serialize};
use todo_domain::ports::ObjectKey;
use todo_domain::usecases::files::{self, Arrival};
use todo_domain::{App, Error};

/// The part of an S3 event notification this function reads. Deliberately lenient about
/// everything else: a record's timestamp format or a new field must not fail a batch of
/// uploads (moto, for one, writes `eventTime` without a time zone, which the strict
/// `aws_lambda_events` type refuses).
#[derive(Debug, Clone, Deserialize)]
pub struct ObjectEvent {
    #[serde(rename = "Records", default)]
    pub records: Vec<ObjectRecord>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct ObjectRecord {
    #[serde(rename = "eventName", default)]
    pub event_name: Option<String>,
    pub s3: S3Entity,
}

#[derive(Debug, Clone, Deserialize)]
pub struct S3Entity {
    pub object: S3Object,
}

#[derive(Debug, Clone, Deserialize)]
pub struct S3Object {
    #[serde(default)]
    pub key: Option<String>,
}

/// What one event's records led to (logged, and returned to the runtime).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub completed: u32,
    pub duplicates: u32,
    pub orphans_removed: u32,
    pub rejected: u32,
    pub gone: u32,
    /// Available files whose upload URL was used again: removed.
    pub replaced: u32,
    /// Keys this service never issues: left alone, logged.
    pub ignored: u32,
}

fn decode_key(raw: &str) -> Option<String> {
    percent_encoding::percent_decode_str(&raw.replace('+', " ")).decode_utf8().ok().map(std::borrow::Cow::into_owned)
}

/// Records every created object in `event`. Idempotent, so a redelivered event is harmless;
/// an error makes Lambda retry the whole event.
pub async fn on_objects_created(app: &App, event: ObjectEvent) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    for record in event.records {
        if !record.event_name.as_deref().unwrap_or_default().starts_with("ObjectCreated:") {
            outcome.ignored += 1;
            continue;
        }
        // Keys in S3 events are URL-encoded (form style: `+` for a space).
        let Some(key) = record.s3.object.key.as_deref().and_then(decode_key).and_then(|raw| ObjectKey::parse(&raw).ok()) else {
            tracing::warn!(key = ?record.s3.object.key, "ignoring an object this service did not name");
            outcome.ignored += 1;
            continue;
        };
        match files::complete_upload(app, &key).await? {
            Arrival::Completed => outcome.completed += 1,
            Arrival::Duplicate => outcome.duplicates += 1,
            Arrival::Orphan => outcome.orphans_removed += 1,
            Arrival::Rejected => outcome.rejected += 1,
            Arrival::Gone => outcome.gone += 1,
            Arrival::Replaced => outcome.replaced += 1,
        }
    }
    tracing::info!(?outcome, "upload events recorded");
    Ok(outcome)
}
