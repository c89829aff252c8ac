//! `account-purge`: the rest of an account deletion, off the request path. On AWS the
//! table's stream delivers each new deletion marker here; the use case is the one the local
//! server's purge loop and the housekeeping job run.

use serde::Serialize;
use todo_adapters::dynamodb::StreamEvent;
use todo_domain::usecases::users;
use todo_domain::{App, Error};

/// What one batch of stream records led to (logged, and returned to the runtime).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// Accounts whose files, tasks and notifications are gone, and their markers with them.
    pub accounts_finished: u64,
    /// Records that name no new deletion marker (the stream filter should keep them out).
    pub ignored: u64,
}

/// Finishes every deletion the records name. Idempotent (a redelivered record finds nothing
/// left); an error fails the batch, so Lambda retries it, then sends it to the failure queue,
/// and housekeeping finishes whatever is left from the markers.
pub async fn on_deletion_markers(app: &App, event: StreamEvent) -> Result<Outcome, Error> {
    let (accounts, ignored) = event.deleted_accounts();
    if ignored > 0 {
        tracing::warn!(ignored, "stream records that name no deletion marker");
    }
    let outcome = Outcome { accounts_finished: users::finish_deletions(app, accounts).await?, ignored: ignored as u64 };
    tracing::info!(?outcome, "account deletions finished");
    Ok(outcome)
}
