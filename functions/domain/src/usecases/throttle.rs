//! The per-account password throttle: every password check (log-in, and the current
//! password asked to change credentials or delete the account) goes through `checked`.
//!
//! Policy: five failures are free; from the sixth on, each failure locks the account's
//! password checks for 1 s, 2 s, 4 s, ... up to 15 minutes after it (exponential backoff).
//! While locked, a check is refused with 429 and `Retry-After` *before* the password is
//! looked at, and the refusal neither counts nor extends the lock. A success clears the
//! count; failures older than 15 minutes are forgotten.
//!
//! Keyed by the email as typed (normalised), not by account: an unknown email is throttled
//! exactly like a known one, so the throttle tells nobody which emails have accounts.
//!
//! The trade-off (README, "Password guessing"): someone who knows your email can keep your
//! password checks locked by failing again whenever a lock ends — at most one refused
//! window of ≤ 15 minutes at a time, never permanently, and a guesser gets about 100
//! attempts a day per account instead of unlimited ones. Sessions already open are not
//! affected (refresh tokens need no password).

use sha2::{Digest as _, Sha256};

use crate::app::App;
use crate::error::Error;
use crate::model::{Email, Timestamp};
use crate::ports::PasswordFailures;

/// Failures allowed before any lock.
pub const FREE_FAILURES: u32 = 5;
/// The longest lock, and how long failures are remembered.
pub const MAX_LOCK_SECONDS: i64 = 15 * 60;

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

/// Seconds until the checks unlock at `now`, if they are locked.
pub fn locked_for(failures: &PasswordFailures, now: Timestamp) -> Option<i64> {
    let until = failures.last_failure.plus(chrono::Duration::seconds(lock_seconds(failures.count)));
    let left_ms = until.unix_millis() - now.unix_millis();
    // Rounded up: a client that waits `Retry-After` seconds is never refused again for it.
    (left_ms > 0).then(|| (left_ms + 999) / 1000)
}

/// Runs `check` (which verifies a password and says whether it matched) unless `email`'s
/// checks are locked; counts a mismatch, clears the count on a match.
pub async fn checked<F>(app: &App, email: &Email, check: F) -> Result<bool, Error>
where
    F: std::future::Future<Output = Result<bool, Error>>,
{
    let key = key_for(email);
    let now = app.clock.now();
    let recorded = app.stores.throttle.password_failures(&key, now).await?;
    if let Some(retry_after_seconds) = recorded.as_ref().and_then(|failures| locked_for(failures, now)) {
        return Err(Error::TooManyAttempts { retry_after_seconds });
    }
    let matched = check.await?;
    if matched {
        if recorded.is_some() {
            app.stores.throttle.clear_password_failures(&key).await?;
        }
    } else {
        app.stores.throttle.record_password_failure(&key, now).await?;
    }
    Ok(matched)
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
    }

    #[test]
    fn a_lock_runs_from_the_last_failure_and_retry_after_rounds_up() {
        let failures = PasswordFailures { count: 8, last_failure: at("2026-01-01T09:00:00Z") };
        assert_eq!(locked_for(&failures, at("2026-01-01T09:00:00Z")), Some(4));
        assert_eq!(locked_for(&failures, at("2026-01-01T09:00:03.500Z")), Some(1));
        assert_eq!(locked_for(&failures, at("2026-01-01T09:00:04Z")), None);
        let free = PasswordFailures { count: 5, last_failure: at("2026-01-01T09:00:00Z") };
        assert_eq!(locked_for(&free, at("2026-01-01T09:00:00Z")), None);
    }

    #[test]
    fn the_key_is_the_normalised_email_hashed() {
        let key = key_for(&Email::parse("Ada@Example.com").unwrap());
        assert_eq!(key, key_for(&Email::parse("ada@example.com").unwrap()));
        assert_eq!(key.len(), 64);
        assert!(!key.contains("ada"));
    }
}
