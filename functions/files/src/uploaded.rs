//! `file-uploaded`: the bucket's `ObjectCreated` events, recorded by the same use case the
//! local server calls after a local upload.

use aws_lambda_events::s3::S3Event;
use serde::Serialize;
use todo_domain::ports::ObjectKey;
use todo_domain::usecases::files::{self, Arrival};
use todo_domain::{App, Error};

/// What one event's records led to (logged, and returned to the runtime).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub completed: u32,
    pub duplicates: u32,
    pub orphans_removed: u32,
    pub rejected: u32,
    pub gone: u32,
    /// Keys this service never issues: left alone, logged.
    pub ignored: u32,
}

/// Records every created object in `event`. Idempotent, so a redelivered event is harmless;
/// an error makes Lambda retry the whole event.
pub async fn on_objects_created(app: &App, event: S3Event) -> Result<Outcome, Error> {
    let mut outcome = Outcome::default();
    for record in event.records {
        if !record.event_name.as_deref().unwrap_or_default().starts_with("ObjectCreated:") {
            outcome.ignored += 1;
            continue;
        }
        // Keys in S3 events are URL-encoded; ours are ids and slashes only, so any key that
        // needs decoding is not one of ours.
        let Some(key) = record.s3.object.key.as_deref().and_then(|raw| ObjectKey::parse(raw).ok()) else {
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
        }
    }
    tracing::info!(?outcome, "upload events recorded");
    Ok(outcome)
}
