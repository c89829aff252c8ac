//! `invitation-announce`: each new invitation told to whoever holds its address, in their
//! notification feed. On AWS the table stream delivers each new invitee copy here; the local
//! server's loop runs the same use case.

use serde::Serialize;
use todo_adapters::dynamodb::StreamEvent;
use todo_domain::usecases::sharing::{self, Announced};
use todo_domain::{App, Error};

/// What one batch of stream records led to (logged, and returned to the runtime).
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct Outcome {
    pub sent: u64,
    /// Already in the feed (a redelivered record).
    pub already_sent: u64,
    /// Addresses no account holds (yet).
    pub no_account: u64,
    /// Invitations answered, revoked or expired before their record came.
    pub gone: u64,
    /// Records that name no new invitation (the stream filter should keep them out).
    pub ignored: u64,
}

/// Announces every invitation the records name. Idempotent; every record is tried before
/// the first error fails the batch (Lambda retries it, then keeps it in the failure queue:
/// the invitation itself stays answerable through `GET /invitations` either way).
pub async fn on_new_invitations(app: &App, event: StreamEvent) -> Result<Outcome, Error> {
    let new = event.new_invitations();
    if new.ignored > 0 {
        tracing::warn!(ignored = new.ignored, "stream records that name no new invitation");
    }
    let mut outcome = Outcome { ignored: new.ignored as u64, ..Outcome::default() };
    let mut first_failure = None;
    for (email, id) in new.invitations {
        match sharing::announce_invitation(app, &email, id).await {
            Ok(Announced::Sent) => outcome.sent += 1,
            Ok(Announced::AlreadySent) => outcome.already_sent += 1,
            Ok(Announced::NoAccount) => outcome.no_account += 1,
            Ok(Announced::Gone) => outcome.gone += 1,
            Err(error) => {
                tracing::error!(invitation_id = %id, error = %error, "announcing an invitation failed");
                first_failure.get_or_insert(error);
            }
        }
    }
    tracing::info!(?outcome, "invitations announced");
    first_failure.map_or(Ok(outcome), Err)
}
