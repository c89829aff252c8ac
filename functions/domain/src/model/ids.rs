use std::fmt;
use std::str::FromStr;
use std::sync::Mutex;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use ulid::Ulid;

/// A ULID greater than every one this process made before: plain ULIDs made in the same
/// millisecond sort at random, which would break "lists come in creation order".
fn monotonic_ulid() -> Ulid {
    static GENERATOR: Mutex<ulid::Generator> = Mutex::new(ulid::Generator::new());
    let mut generator = GENERATOR.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    // Fails only after 2^80 ids in one millisecond.
    generator.generate().unwrap_or_else(|_| Ulid::new())
}

macro_rules! ulid_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(Ulid);

        impl $name {
            /// A new id; ids sort by creation time, which list pages rely on.
            pub fn generate() -> Self {
                Self(monotonic_ulid())
            }

            /// Parses the canonical 26-character form (case-insensitive).
            pub fn parse(raw: &str) -> Result<Self, String> {
                if raw.len() != 26 {
                    return Err("must be a 26-character id".to_owned());
                }
                // Only the canonical spelling: a first character over 7 overflows 128 bits.
                Ulid::from_str(raw)
                    .ok()
                    .filter(|id| id.to_string().eq_ignore_ascii_case(raw))
                    .map(Self)
                    .ok_or_else(|| "is not a valid id".to_owned())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0, f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.0)
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_str(self)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let raw = String::deserialize(deserializer)?;
                Self::parse(&raw).map_err(serde::de::Error::custom)
            }
        }
    };
}

ulid_id!(
    /// A user account.
    UserId
);
ulid_id!(
    /// A log-in session: the family of refresh tokens rotated from one log-in.
    SessionId
);
ulid_id!(
    /// A task list. Every account's Inbox has the account's own id (`ListId::inbox_of`), so
    /// the Inbox is found without a read.
    ListId
);
ulid_id!(
    /// A task. Globally unique; ids sort in creation order.
    TaskId
);

impl ListId {
    /// The id of `user`'s Inbox.
    pub fn inbox_of(user: UserId) -> Self {
        Self(user.0)
    }
}
ulid_id!(
    /// A file attached to a task.
    FileId
);
ulid_id!(
    /// An invitation to join a list.
    InvitationId
);
ulid_id!(
    /// A notification. Derived from what it notifies about (see `for_alarm`), so sending
    /// it twice names the same notification; ids sort by the alarm's time.
    NotificationId
);

impl NotificationId {
    /// The one id of the notification for `task`'s alarm of `kind` at `at_millis`: its
    /// time part is the alarm's time (clamped to what a ULID holds), its random part a
    /// hash of all three.
    pub fn for_alarm(task: TaskId, kind: &str, at_millis: i64) -> Self {
        Self::derived(&format!("{task}|{kind}|{at_millis}"), at_millis)
    }

    /// The one id of the notification of an invitation sent at `sent_millis`.
    pub fn for_invitation(invitation: InvitationId, sent_millis: i64) -> Self {
        Self::derived(&format!("{invitation}|invited"), sent_millis)
    }

    /// An id whose time part is `at_millis` (clamped to what a ULID holds) and whose random
    /// part is a hash of `name`.
    fn derived(name: &str, at_millis: i64) -> Self {
        use sha2::{Digest as _, Sha256};
        const MAX_ULID_MILLIS: i64 = (1 << 48) - 1;
        let digest = Sha256::digest(name);
        let mut random = [0u8; 16];
        random[6..].copy_from_slice(&digest[..10]);
        let time = u64::try_from(at_millis.clamp(0, MAX_ULID_MILLIS)).expect("clamped to 48 bits");
        Self(Ulid::from_parts(time, u128::from_be_bytes(random)))
    }
}

/// A client-chosen `Idempotency-Key`: 1 to 255 visible ASCII characters.
#[derive(Clone, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() || raw.len() > 255 {
            return Err("must be 1 to 255 characters".to_owned());
        }
        if !raw.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("must be visible ASCII characters only".to_owned());
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

super::text::string_conversions!(IdempotencyKey);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_reject_garbage() {
        let id = TaskId::generate();
        assert_eq!(TaskId::parse(&id.to_string()).unwrap(), id);
        assert_eq!(TaskId::parse(&id.to_string().to_lowercase()).unwrap(), id);
        for bad in ["", "x", "01ARZ3NDEKTSV4RRFFQ69G5FA!", &"A".repeat(10_000), "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"] {
            assert!(TaskId::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn idempotency_keys_are_bounded_visible_ascii() {
        assert!(IdempotencyKey::parse("order-42").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("has space").is_err());
        assert!(IdempotencyKey::parse(&"k".repeat(256)).is_err());
    }
}
