//! `account-purge`: the rest of an account's or a list's deletion, off the request path. On
//! AWS the table's stream delivers each new deletion marker here; the use cases are the ones
//! the local server's purge loop and the housekeeping job run.

use serde::Serialize;
use todo_adapters::dynamodb::StreamEvent;
use todo_domain::usecases::{lists, users};
use todo_domain::{App, Error};

/// What one batch of stream records led to (logged, and returned to the runtime).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    /// Accounts whose files, tasks and notifications are gone, and their markers with them.
    pub accounts_finished: u64,
    /// Lists whose tasks and files are gone, and their markers with them.
    pub lists_finished: u64,
    /// Records that name no new deletion marker (the stream filter should keep them out).
    pub ignored: u64,
}

/// Finishes every deletion the records name. Idempotent (a redelivered record finds nothing
/// left); an error fails the batch, so Lambda retries it, then sends it to the failure queue,
/// and housekeeping finishes whatever is left from the markers.
pub async fn on_deletion_markers(app: &App, event: StreamEvent) -> Result<Outcome, Error> {
    let deletions = event.deletions();
    if deletions.ignored > 0 {
        tracing::warn!(ignored = deletions.ignored, "stream records that name no deletion marker");
    }
    // Both kinds are tried before either failure fails the batch.
    let accounts = users::finish_deletions(app, deletions.accounts).await;
    let lists = lists::finish_list_deletions(app, deletions.lists).await;
    let outcome = Outcome { accounts_finished: accounts?, lists_finished: lists?, ignored: deletions.ignored as u64 };
    tracing::info!(?outcome, "deletions finished");
    Ok(outcome)
}
