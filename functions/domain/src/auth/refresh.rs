use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::hex;
use subtle::ConstantTimeEq;

use crate::model::{SessionId, UserId};

/// An opaque refresh token: `rt1.<user>.<session>.<generation>.<secret>`.
///
/// The user id locates the session (sessions live in their user's partition). The secret is
/// an HMAC, under a server key, of the user, session, generation and a random per-session
/// salt: so the server can tell a *stale* token (a genuine earlier generation: a replay,
/// and the whole session is revoked) from a *forged* one (refused, nothing revoked) — knowing
/// the ids alone is not enough to revoke anyone's session. Only the SHA-256 of the current
/// secret is stored.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub generation: u64,
    secret: String,
}

impl RefreshToken {
    const PREFIX: &'static str = "rt1";

    /// The token of `generation` of a session, under `key` with the session's `salt`.
    pub fn derive(key: &RefreshKey, user_id: UserId, session_id: SessionId, generation: u64, salt: &str) -> Self {
        Self { user_id, session_id, generation, secret: key.secret(user_id, session_id, generation, salt) }
    }

    /// Whether this token is genuinely the one `key` issued for its generation of a session
    /// with `salt`, under the current or (during a rotation) the previous signing key
    /// (constant time per key).
    pub fn is_genuine(&self, key: &RefreshKey, salt: &str) -> bool {
        key.keys.iter().any(|derived| {
            let expected = RefreshKey::secret_under(derived, self.user_id, self.session_id, self.generation, salt);
            bool::from(expected.as_bytes().ct_eq(self.secret.as_bytes()))
        })
    }

    /// A fresh random salt for a new session.
    pub fn new_salt() -> String {
        let bytes: [u8; 16] = rand::random();
        hex(&bytes)
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        const INVALID: &str = "is not a valid refresh token";
        if raw.len() > 200 {
            return Err(INVALID.to_owned());
        }
        let mut parts = raw.split('.');
        let (Some(Self::PREFIX), Some(user), Some(session), Some(generation), Some(secret), None) =
            (parts.next(), parts.next(), parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(INVALID.to_owned());
        };
        let user_id = UserId::parse(user).map_err(|_| INVALID.to_owned())?;
        let session_id = SessionId::parse(session).map_err(|_| INVALID.to_owned())?;
        let generation = generation.parse().map_err(|_| INVALID.to_owned())?;
        if secret.len() != 43 || URL_SAFE_NO_PAD.decode(secret).is_err() {
            return Err(INVALID.to_owned());
        }
        Ok(Self { user_id, session_id, generation, secret: secret.to_owned() })
    }

    pub fn secret_hash(&self) -> String {
        hex(&Sha256::digest(self.secret.as_bytes()))
    }

    /// Constant-time comparison with a stored hash.
    pub fn matches(&self, stored_hash: &str) -> bool {
        self.secret_hash().as_bytes().ct_eq(stored_hash.as_bytes()).into()
    }

    pub fn expose(&self) -> String {
        format!("{}.{}.{}.{}.{}", Self::PREFIX, self.user_id, self.session_id, self.generation, self.secret)
    }
}

/// The server keys refresh secrets are derived with (each derived from a signing key): new
/// secrets under the current one, and checks under any that still verifies.
#[derive(Clone)]
pub struct RefreshKey {
    keys: Vec<Vec<u8>>,
}

impl RefreshKey {
    pub fn new(keys: &super::SigningKeys) -> Self {
        let derive = |secret: &super::Secret| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).expect("HMAC takes any key length");
            mac.update(b"todo/refresh-key/v1");
            mac.finalize().into_bytes().to_vec()
        };
        Self { keys: keys.all().map(|key| derive(&key.secret)).collect() }
    }

    fn secret(&self, user_id: UserId, session_id: SessionId, generation: u64, salt: &str) -> String {
        Self::secret_under(&self.keys[0], user_id, session_id, generation, salt)
    }

    fn secret_under(key: &[u8], user_id: UserId, session_id: SessionId, generation: u64, salt: &str) -> String {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(format!("{user_id}\0{session_id}\0{generation}\0{salt}").as_bytes());
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    }
}

impl fmt::Debug for RefreshKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("RefreshKey(<redacted>)")
    }
}

impl fmt::Debug for RefreshToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshToken")
            .field("user_id", &self.user_id)
            .field("session_id", &self.session_id)
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> RefreshKey {
        RefreshKey::new(&crate::auth::SigningKeys::single(super::super::Secret::new(vec![3; 32]).unwrap()))
    }

    #[test]
    fn round_trips_and_matches_only_its_own_hash() {
        let token = RefreshToken::derive(&key(), UserId::generate(), SessionId::generate(), 3, "salt");
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.matches(&token.secret_hash()));
        assert!(!RefreshToken::derive(&key(), token.user_id, token.session_id, 4, "salt").matches(&token.secret_hash()));
    }

    #[test]
    fn only_the_server_can_make_a_genuine_token_of_any_generation() {
        let (user, session) = (UserId::generate(), SessionId::generate());
        let stale = RefreshToken::derive(&key(), user, session, 1, "salt");
        assert!(stale.is_genuine(&key(), "salt"));
        assert!(!stale.is_genuine(&key(), "other salt"));
        let other_key = RefreshKey::new(&crate::auth::SigningKeys::single(super::super::Secret::new(vec![4; 32]).unwrap()));
        assert!(!RefreshToken::derive(&other_key, user, session, 1, "salt").is_genuine(&key(), "salt"));
        let forged = RefreshToken::parse(&format!("rt1.{user}.{session}.0.{}", "A".repeat(43))).unwrap();
        assert!(!forged.is_genuine(&key(), "salt"));
    }

    #[test]
    fn rejects_malformed_tokens() {
        let good = RefreshToken::derive(&key(), UserId::generate(), SessionId::generate(), 1, "salt").expose();
        for bad in [
            "",
            "rt1",
            "rt1.x.y.1.z",
            &good.replacen("rt1", "rt2", 1),
            &format!("{good}.extra"),
            &good[..good.len() - 1],
            &"a".repeat(5000),
        ] {
            assert!(RefreshToken::parse(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn a_refresh_token_from_before_a_rotation_stays_genuine_until_the_old_key_goes() {
        use crate::auth::{KeyId, Secret, SigningKey, SigningKeys};
        let signing = |id: &str, byte: u8| SigningKey { id: KeyId::parse(id).unwrap(), secret: Secret::new(vec![byte; 32]).unwrap() };
        let (user, session) = (UserId::generate(), SessionId::generate());
        let before = RefreshKey::new(&SigningKeys::single(Secret::new(vec![3; 32]).unwrap()));
        let old = RefreshToken::derive(&before, user, session, 1, "salt");
        let during = RefreshKey::new(&SigningKeys::rotating(signing("k1", 5), Some(signing("k0", 3))).unwrap());
        assert!(old.is_genuine(&during, "salt"));
        let new = RefreshToken::derive(&during, user, session, 2, "salt");
        assert_ne!(new.expose(), RefreshToken::derive(&before, user, session, 2, "salt").expose(), "new secrets use the new key");
        let after = RefreshKey::new(&SigningKeys::rotating(signing("k1", 5), None).unwrap());
        assert!(!old.is_genuine(&after, "salt") && new.is_genuine(&after, "salt"));
    }
}
