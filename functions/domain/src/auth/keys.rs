//! The server's signing keys, each with an id: the current key signs access tokens (its id in
//! the JWT header), refresh secrets and cursors; during a rotation the previous key still
//! verifies them, so nobody is logged out when the key changes.

use serde::Deserialize;

use super::Secret;

/// A key's id: 1 to 32 of `A-Z a-z 0-9 _ -` (it travels in every token's header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyId(String);

impl KeyId {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let valid = !raw.is_empty() && raw.len() <= 32 && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
        // The text is not echoed: a key put where its id belongs would end up in the logs.
        if valid {
            Ok(Self(raw.to_owned()))
        } else {
            Err(format!("a key id ({} characters) must be 1 to 32 of A-Z a-z 0-9 _ -", raw.chars().count()))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct SigningKey {
    pub id: KeyId,
    pub secret: Secret,
}

/// The current key and, while a rotation is under way, the one before it.
#[derive(Clone, Debug)]
pub struct SigningKeys {
    current: SigningKey,
    previous: Option<SigningKey>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyJson {
    kid: String,
    key: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeysJson {
    current: KeyJson,
    previous: Option<KeyJson>,
}

impl SigningKeys {
    /// The id of a key given as a bare secret (as generated at deploy time, or by the local
    /// server): tokens issued before key ids existed verify under it.
    pub const DEFAULT_ID: &'static str = "k0";

    pub fn single(secret: Secret) -> Self {
        Self { current: SigningKey { id: KeyId(Self::DEFAULT_ID.to_owned()), secret }, previous: None }
    }

    pub fn rotating(current: SigningKey, previous: Option<SigningKey>) -> Result<Self, String> {
        if previous.as_ref().is_some_and(|previous| previous.id == current.id) {
            return Err("the previous key needs an id of its own".to_owned());
        }
        Ok(Self { current, previous })
    }

    /// A bare secret (one key, id `k0`), or a key set:
    /// `{"current": {"kid": "k1", "key": "..."}, "previous": {"kid": "k0", "key": "..."}}`.
    pub fn parse(text: &str) -> Result<Self, String> {
        if !text.trim_start().starts_with('{') {
            return Secret::new(text.as_bytes().to_vec()).map(Self::single);
        }
        // serde's messages quote the values they refuse, and these values are keys: say only
        // what kind of error, and where.
        let json: KeysJson = serde_json::from_str(text).map_err(|e| {
            format!(
                "is not a key set {{\"current\": {{\"kid\", \"key\"}}, \"previous\"?: ...}} ({:?} error at line {}, column {})",
                e.classify(),
                e.line(),
                e.column()
            )
        })?;
        let key = |json: KeyJson| -> Result<SigningKey, String> {
            let id = KeyId::parse(&json.kid)?;
            let secret = Secret::new(json.key.into_bytes()).map_err(|problem| format!("key {}: {problem}", id.as_str()))?;
            Ok(SigningKey { id, secret })
        };
        Self::rotating(key(json.current)?, json.previous.map(key).transpose()?)
    }

    pub fn current(&self) -> &SigningKey {
        &self.current
    }

    /// Every key that still verifies, the current one first.
    pub fn all(&self) -> impl Iterator<Item = &SigningKey> {
        std::iter::once(&self.current).chain(self.previous.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bare_secret_is_one_key_with_the_default_id() {
        let keys = SigningKeys::parse(&"s".repeat(40)).unwrap();
        assert_eq!(keys.current().id.as_str(), "k0");
        assert_eq!(keys.all().count(), 1);
        assert!(SigningKeys::parse("too short").is_err());
    }

    #[test]
    fn a_key_set_names_current_and_previous() {
        let text = format!(
            r#"{{"current": {{"kid": "k1", "key": "{}"}}, "previous": {{"kid": "k0", "key": "{}"}}}}"#,
            "a".repeat(32),
            "b".repeat(32)
        );
        let keys = SigningKeys::parse(&text).unwrap();
        let ids: Vec<&str> = keys.all().map(|key| key.id.as_str()).collect();
        assert_eq!(ids, ["k1", "k0"]);
        assert_eq!(keys.current().secret.expose(), "a".repeat(32).as_bytes());
    }

    #[test]
    fn malformed_key_sets_are_refused_with_a_reason() {
        let long = "a".repeat(32);
        for (text, reason) in [
            (r#"{"current": {"kid": "k1", "key": "short"}}"#.to_owned(), "at least 32 bytes"),
            (format!(r#"{{"current": {{"kid": "k 1", "key": "{long}"}}}}"#), "key id"),
            (format!(r#"{{"current": {{"kid": "k1", "key": "{long}"}}, "previous": {{"kid": "k1", "key": "{long}"}}}}"#), "id of its own"),
            (format!(r#"{{"current": {{"kid": "k1", "key": "{long}", "extra": 1}}}}"#), "not a key set"),
            ("{not json".to_owned(), "not a key set"),
        ] {
            let error = SigningKeys::parse(&text).unwrap_err();
            assert!(error.contains(reason), "{text}: {error}");
        }
    }

    #[test]
    fn errors_never_echo_what_might_be_a_key() {
        let key = "k".repeat(40);
        for text in [
            format!(r#"{{"current": {{"kid": "{key}", "key": "k1"}}}}"#),
            format!(r#"{{"current": {{"kid": "k1", "key": "{key}"}}, "previous": "{key}"}}"#),
            format!(r#"{{"current": {{"kid": "k1", "key": 1234567890123456789}}, "extra": "{key}"}}"#),
        ] {
            let error = SigningKeys::parse(&text).unwrap_err();
            assert!(!error.contains(&key) && !error.contains("1234567890"), "{error}");
        }
    }
}
