use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::hex;
use subtle::ConstantTimeEq;

use crate::model::{SessionId, UserId};

/// An opaque refresh token: `rt1.<user>.<session>.<generation>.<secret>`.
///
/// The user id locates the session (sessions live in their user's partition). The session
/// and generation let the server tell a *stale* token (an earlier generation of
/// a real session: a replay, so the whole session is revoked) from a *garbage* one. Only the
/// SHA-256 of the secret is stored; the secret is 256 random bits, so a fast hash suffices.
#[derive(Clone, PartialEq, Eq)]
pub struct RefreshToken {
    pub user_id: UserId,
    pub session_id: SessionId,
    pub generation: u64,
    secret: String,
}

impl RefreshToken {
    const PREFIX: &'static str = "rt1";

    pub fn generate(user_id: UserId, session_id: SessionId, generation: u64) -> Self {
        let bytes: [u8; 32] = rand::random();
        Self { user_id, session_id, generation, secret: URL_SAFE_NO_PAD.encode(bytes) }
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

    #[test]
    fn round_trips_and_matches_only_its_own_hash() {
        let token = RefreshToken::generate(UserId::generate(), SessionId::generate(), 3);
        let parsed = RefreshToken::parse(&token.expose()).unwrap();
        assert_eq!(parsed, token);
        assert!(parsed.matches(&token.secret_hash()));
        assert!(!RefreshToken::generate(token.user_id, token.session_id, 3).matches(&token.secret_hash()));
    }

    #[test]
    fn rejects_malformed_tokens() {
        let good = RefreshToken::generate(UserId::generate(), SessionId::generate(), 1).expose();
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
}
