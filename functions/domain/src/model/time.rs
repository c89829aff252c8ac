use std::fmt;

use chrono::{DateTime, Datelike as _, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// An instant in UTC with millisecond precision, written as RFC 3339 (`2026-01-02T03:04:05.678Z`).
///
/// Precision is cut to milliseconds on the way in so a value survives a round trip through
/// JSON and through every store unchanged.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(DateTime<Utc>);

impl Timestamp {
    pub fn from_datetime(at: DateTime<Utc>) -> Self {
        let millis = at.timestamp_millis();
        Self(DateTime::from_timestamp_millis(millis).expect("millisecond timestamps of valid dates are valid"))
    }

    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        DateTime::from_timestamp_millis(millis).map(Self)
    }

    /// The last instant RFC 3339's four-digit years can write: values past it (or before
    /// year 1) could be stored but never read back.
    pub fn is_writable(&self) -> bool {
        (1..=9999).contains(&self.0.year())
    }

    /// Parses RFC 3339 with an explicit offset; the result is in UTC, years 1 to 9999.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.len() > 64 {
            return Err("must be an RFC 3339 date-time".to_owned());
        }
        let parsed = DateTime::parse_from_rfc3339(raw)
            .map(|at| Self::from_datetime(at.with_timezone(&Utc)))
            .map_err(|_| "must be an RFC 3339 date-time, e.g. 2026-01-31T09:00:00Z".to_owned())?;
        if !parsed.is_writable() {
            return Err("must be between years 1 and 9999 in UTC".to_owned());
        }
        Ok(parsed)
    }

    pub fn as_datetime(&self) -> DateTime<Utc> {
        self.0
    }

    pub fn unix_millis(&self) -> i64 {
        self.0.timestamp_millis()
    }

    pub fn unix_seconds(&self) -> i64 {
        self.0.timestamp()
    }

    pub fn plus(&self, duration: chrono::Duration) -> Self {
        Self(self.0 + duration)
    }

    /// `self + duration`, for the standard library's durations (saturating far in the future).
    pub fn after(&self, duration: std::time::Duration) -> Self {
        self.plus(chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX))
    }

    /// `self - duration` (saturating at the earliest time there is).
    pub fn before(&self, duration: std::time::Duration) -> Self {
        let duration = chrono::Duration::from_std(duration).unwrap_or(chrono::Duration::MAX);
        Self(self.0.checked_sub_signed(duration).unwrap_or(DateTime::<Utc>::MIN_UTC))
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.to_rfc3339_opts(SecondsFormat::Millis, true))
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_offsets_into_utc_millis() {
        let at = Timestamp::parse("2026-03-01T10:00:00.123456+02:00").unwrap();
        assert_eq!(at.to_string(), "2026-03-01T08:00:00.123Z");
    }

    #[test]
    fn rejects_dates_without_time_or_offset_or_outside_four_digit_years() {
        for raw in [
            "2026-03-01",
            "2026-03-01T10:00:00",
            "2026-02-30T10:00:00Z",
            "",
            "tomorrow",
            "9999-12-31T23:00:00-05:00",
            "0000-01-01T00:00:00+01:00",
        ] {
            assert!(Timestamp::parse(raw).is_err(), "{raw} should be rejected");
        }
    }
}
