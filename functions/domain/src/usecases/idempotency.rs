//! `Idempotency-Key` on the creating routes (`POST …/tasks`, `POST /lists`): a retry of the
//! same request answers what the first one made; the key reused for another request is a 409.

use crate::error::Error;
use crate::model::{IdempotencyKey, Timestamp, UserId};
use crate::ports::{IdempotencyRecord, Made};

/// An `Idempotency-Key` with the fingerprint of the request it came with.
#[derive(Debug, Clone)]
pub struct Idempotency {
    pub key: IdempotencyKey,
    pub fingerprint: String,
}

impl Idempotency {
    /// Keys a request by the SHA-256 of its canonical JSON (object keys sorted), so the
    /// same body sent twice — whatever its spacing or key order — is the same request.
    pub fn for_request(key: IdempotencyKey, body: &serde_json::Value) -> Self {
        use sha2::{Digest as _, Sha256};
        let canonical = serde_json::to_vec(body).expect("JSON values serialise");
        let fingerprint = crate::auth::hex(&Sha256::digest(&canonical));
        Self { key, fingerprint }
    }

    /// The record to store with what this request makes, kept for `seconds`.
    pub(crate) fn record(self, owner: UserId, made: Made, now: Timestamp, seconds: i64) -> IdempotencyRecord {
        IdempotencyRecord {
            owner,
            key: self.key,
            fingerprint: self.fingerprint,
            made,
            expires_at: now.plus(chrono::Duration::seconds(seconds)),
        }
    }
}

/// What an earlier request with the same key made, if it was this request: the same body
/// (`record`'s fingerprint), and `same_request` picks what it made (`None`: another kind of
/// thing, or e.g. a task in another list).
pub(crate) fn replay<T>(
    record: Option<&IdempotencyRecord>,
    previous: IdempotencyRecord,
    same_request: impl FnOnce(Made) -> Option<T>,
) -> Result<T, Error> {
    let same_body = record.is_some_and(|record| record.fingerprint == previous.fingerprint);
    same_body
        .then(|| same_request(previous.made))
        .flatten()
        .ok_or_else(|| Error::Conflict("this Idempotency-Key was already used with a different request".to_owned()))
}
