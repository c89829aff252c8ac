use std::fmt;

use serde::{Deserialize, Serialize};

use super::ids::UserId;
use super::text::{lowercase, stored_string_conversions, trimmed_line};
use super::time::Timestamp;

/// An email address, trimmed and lower-cased, so addresses differing only in case are one
/// account. The check is deliberately structural (one `@`, a dotted domain, sane lengths):
/// deliverability is proven by mail, not by a regex.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    pub const MAX_CHARS: usize = 254;

    /// One `@` between a local part of 1 to 64 characters and a dotted domain of labels of 1
    /// to 63; no whitespace or control characters anywhere (surrounding spaces included: a
    /// form trims them, an API client sends what it means); at most 254 characters; nothing
    /// NFKC would change (`ａda@…` is refused, not made a second `ada@…`). Kept lower-cased
    /// and in NFKC (combining marks in canonical order), so equal addresses are equal strings.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err("must not contain spaces or control characters".to_owned());
        }
        if let Some(c) = raw.chars().find(|c| !super::text::nfkc_stable(*c)) {
            return Err(format!(
                "must be written in plain characters (Unicode NFKC): U+{:04X} {c:?} is a compatibility or composing form",
                u32::from(c)
            ));
        }
        let Some((local, domain)) = raw.split_once('@') else {
            return Err("must be an email address like name@example.com".to_owned());
        };
        let within = |part: &str, max: usize| !part.is_empty() && part.chars().count() <= max;
        let domain_ok = domain.contains('.') && !domain.contains('@') && domain.split('.').all(|label| within(label, 63));
        if !within(local, 64) || !domain_ok {
            return Err("must be an email address like name@example.com".to_owned());
        }
        Ok(Self(super::text::nfkc(&lowercase(raw))))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A plaintext password on its way to the hasher. Never printed, never stored.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let length = raw.chars().count();
        if length < Self::MIN_CHARS {
            return Err(format!("must be at least {} characters", Self::MIN_CHARS));
        }
        if length > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        if raw.chars().any(char::is_control) {
            return Err("must not contain control characters".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    /// For a password typed at log-in: any non-empty value within the size cap is worth
    /// checking, so rules tightened later do not lock out existing users.
    pub fn for_verification(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("must not be empty".to_owned());
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// A PHC-format argon2id hash.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PasswordHash(String);

impl PasswordHash {
    pub fn from_phc(phc: String) -> Self {
        Self(phc)
    }

    pub fn as_phc(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordHash(<redacted>)")
    }
}

/// A display name: one line of 1 to 100 characters (`text::trimmed_line`), kept trimmed.
#[derive(Clone, PartialEq, Eq, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    pub const MAX_CHARS: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, String> {
        trimmed_line(raw, Self::MAX_CHARS).map(Self)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A user account as stored.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct User {
    pub id: UserId,
    pub email: Email,
    pub name: Option<DisplayName>,
    pub password_hash: PasswordHash,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    /// Bumped on every change; writes are conditional on it.
    pub version: u64,
    /// Bumped when the password changes. A session made under an older one cannot be
    /// refreshed: a password change ends every other session by construction, in one write.
    #[serde(default)]
    pub credentials_version: u64,
}

stored_string_conversions!(Email, DisplayName);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised_for_case_insensitive_comparison() {
        assert_eq!(Email::parse("Ada@Example.COM").unwrap(), Email::parse("ada@example.com").unwrap());
        // As stored before: a word-final sigma lower-cases to ς. İ becomes a plain i, so an
        // address keeps its length and parses as itself again (stored invitees are re-parsed).
        assert_eq!(Email::parse("ΟΔΥΣΣΕΥΣ@example.gr").unwrap().as_str(), "οδυσσευς@example.gr");
        let longest = format!("{}@example.com", "\u{130}".repeat(64));
        let parsed = Email::parse(&longest).unwrap();
        assert_eq!(Email::parse(parsed.as_str()).unwrap(), parsed);
        assert!(Email::parse(" ada@example.com").is_err(), "surrounding spaces are refused, not trimmed");
    }

    /// Lookalikes NFKC would fold into another address are refused with a reason, never kept
    /// as a second account; combining marks end up in one canonical order.
    #[test]
    fn emails_are_refused_in_compatibility_forms_and_kept_in_nfkc() {
        for (lookalike, culprit) in [
            ("ａda@example.com", "U+FF41"),
            ("ﬁle@example.com", "U+FB01"),
            ("ada@ｅxample.com", "U+FF45"),
            ("e\u{301}@example.com", "U+0301"),
        ] {
            let message = Email::parse(lookalike).unwrap_err();
            assert!(message.contains("NFKC") && message.contains(culprit), "{lookalike:?}: {message}");
        }
        assert_eq!(Email::parse("é@example.com").unwrap().as_str(), "é@example.com", "precomposed letters are plain");
        let reordered = Email::parse("a\u{592}\u{591}@example.com").unwrap();
        assert_eq!(reordered, Email::parse("a\u{591}\u{592}@example.com").unwrap());
        assert_eq!(Email::parse(reordered.as_str()).unwrap(), reordered);
    }

    #[test]
    fn malformed_emails_are_rejected() {
        for bad in [
            "",
            "ada",
            "ada@",
            "@example.com",
            "ada@example",
            "a da@example.com",
            "ada@@example.com",
            "ada@example..com",
            "ada\u{0}@example.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }

    #[test]
    fn accounts_saved_before_credentials_versions_read_as_version_zero() {
        let user = User {
            id: UserId::generate(),
            email: Email::parse("ada@example.com").unwrap(),
            name: None,
            password_hash: PasswordHash::from_phc("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA".to_owned()),
            created_at: Timestamp::parse("2025-01-01T00:00:00Z").unwrap(),
            updated_at: Timestamp::parse("2025-01-01T00:00:00Z").unwrap(),
            version: 3,
            credentials_version: 7,
        };
        let mut saved = serde_json::to_value(&user).unwrap();
        saved.as_object_mut().unwrap().remove("credentials_version");
        let read: User = serde_json::from_value(saved).unwrap();
        // Their sessions (also without the field) read as 0 too, so they still refresh.
        assert_eq!(read.credentials_version, 0);
    }

    #[test]
    fn passwords_have_bounds_and_never_print() {
        assert!(Password::parse("short").is_err());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        let password = Password::parse("correct horse battery").unwrap();
        assert!(!format!("{password:?}").contains("horse"));
    }

    #[test]
    fn display_names_are_trimmed_and_bounded() {
        assert_eq!(DisplayName::parse("  Ada ").unwrap().as_str(), "Ada");
        assert!(DisplayName::parse("   ").is_err());
        assert!(DisplayName::parse(&"n".repeat(101)).is_err());
        assert!(DisplayName::parse("bell\u{7}").is_err());
    }
}
