//! The per-account password throttle: every password check (log-in, and the current
//! password asked to change credentials or delete the account) goes through `checked`.
//!
//! Policy: five failures are free; from the sixth on, each failure locks the email's
//! password checks for 1 s, 2 s, 4 s, ... up to 15 minutes after it (exponential backoff).
//! While locked, a check is refused with 429 and `Retry-After` *before* anything else is
//! looked at, and the refusal neither counts nor extends the lock. Failures are remembered
//! for a day after the last one.
//!
//! A check is counted as a failure the moment it is admitted, atomically with the decision
//! to admit it, and taken back if the password matched: simultaneous guesses cannot all be
//! admitted on one reading of the count (a burst gets six hashes, not the gateway's burst).
//! A success takes back only its own count and time (the lock and memory are as before it),
//! so it tells nobody whether the email has an account that was just used.
//!
//! Keyed by the email (normalised, hashed), not by account: an unknown email is throttled
//! exactly like a known one, and the check comes before the account is looked up.
//!
//! The trade-off (README, "Password guessing"): someone who knows your email can keep your
//! password checks locked by failing again whenever a lock ends — one window of at most 15
//! minutes at a time, never for good; sessions already open keep working (refreshing needs
//! no password). In exchange a guesser gets about a hundred tries a day per email.

use sha2::{Digest as _, Sha256};

use crate::app::App;
use crate::error::Error;
use crate::model::{Email, Timestamp};
use crate::ports::Admission;

/// Failures allowed before any lock.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;
/// How long failures are remembered after the last one: far longer than the longest lock,
/// so waiting out a lock does not bring the free failures back.
pub const MEMORY_SECONDS: i64 = 24 * 3600;
const _: () = assert!(MEMORY_SECONDS > MAX_LOCK_SECONDS * 10, "a lock's end must not bring the free failures back");

/// The store key for an email: a hash, so the throttle's items hold no address.
pub fn key_for(email: &Email) -> String {
    crate::auth::hex(&Sha256::digest(email.as_str().as_bytes()))
}

/// How long after the last failure the checks stay locked, for `failures` in a row.
pub fn lock_seconds(failures: u32) -> i64 {
    match failures.checked_sub(FREE_FAILURES) {
        None | Some(0) => 0,
        Some(over) => 1_i64.checked_shl(over - 1).unwrap_or(i64::MAX).min(MAX_LOCK_SECONDS),
    }
}

/// When `failures` failures, the last at `last_failure`, stop locking the checks.
pub fn locked_until(failures: u32, last_failure: Timestamp) -> Timestamp {
    last_failure.plus(chrono::Duration::seconds(lock_seconds(failures)))
}

/// The earliest last failure still remembered at `now`.
pub fn remembered_since(now: Timestamp) -> Timestamp {
    now.plus(chrono::Duration::seconds(-MEMORY_SECONDS))
}

/// Runs `check` — which verifies a password and answers `Some` with what it found when the
/// password matched, `None` when it did not — unless `email`'s checks are locked.
pub async fn checked<T, F>(app: &App, email: &Email, check: F) -> Result<Option<T>, Error>
where
    F: std::future::Future<Output = Result<Option<T>, Error>>,
{
    let key = key_for(email);
    let now = app.clock.now();
    let admitted = app.stores.throttle.admit_password_check(&key, now).await?;
    if let Admission::Locked { until } = admitted {
        // Rounded up: a client that waits `Retry-After` seconds is not refused again for it.
        let retry_after_seconds = ((until.unix_millis() - now.unix_millis() + 999) / 1000).max(1);
        return Err(Error::TooManyAttempts { retry_after_seconds });
    }
    let found = check.await?;
    if found.is_some() {
        // Best effort: a right password is not refused because its count could not be
        // taken back (it then counts as one failure, forgotten with the rest).
        if let Err(error) = app.stores.throttle.forgive_password_check(&key, admitted).await {
            tracing::warn!(%error, "could not take back a matched password check's count");
        }
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(raw: &str) -> Timestamp {
        Timestamp::parse(raw).unwrap()
    }

    #[test]
    fn five_failures_are_free_then_the_lock_doubles_up_to_fifteen_minutes() {
        assert_eq!((0..=FREE_FAILURES).map(lock_seconds).collect::<Vec<_>>(), [0, 0, 0, 0, 0, 0]);
        assert_eq!([6, 7, 8, 9, 15].map(lock_seconds), [1, 2, 4, 8, 512]);
        assert_eq!([16, 40, u32::MAX].map(lock_seconds), [MAX_LOCK_SECONDS; 3]);
        assert_eq!(locked_until(8, at("2026-01-01T09:00:00Z")), at("2026-01-01T09:00:04Z"));
    }

    #[test]
    fn the_key_is_the_normalised_email_hashed() {
        let key = key_for(&Email::parse("Ada@Example.com").unwrap());
        assert_eq!(key, key_for(&Email::parse("ada@example.com").unwrap()));
        assert_eq!(key.len(), 64);
        assert!(!key.contains("ada"));
    }
}
