use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::Secret;
use crate::model::{SessionId, Timestamp, UserId};

/// Who is calling: the user and the session their access token came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Principal {
    pub user_id: UserId,
    pub session_id: SessionId,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct AccessClaims {
    pub sub: String,
    pub sid: String,
    pub iss: String,
    pub aud: String,
    pub iat: i64,
    pub exp: i64,
}

/// Issues and checks short-lived access tokens: JWTs signed with HS256 (pinned: a token
/// naming any other algorithm, `none` included, is refused), issuer and audience checked.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
    audience: String,
    lifetime_seconds: i64,
}

impl std::fmt::Debug for AccessTokens {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AccessTokens")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .field("lifetime_seconds", &self.lifetime_seconds)
            .finish_non_exhaustive()
    }
}

impl AccessTokens {
    pub const ALGORITHM: Algorithm = Algorithm::HS256;

    pub fn new(secret: &Secret, issuer: &str, audience: &str, lifetime_seconds: i64) -> Self {
        let mut validation = Validation::new(Self::ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(secret.expose()),
            decoding: DecodingKey::from_secret(secret.expose()),
            validation,
            issuer: issuer.to_owned(),
            audience: audience.to_owned(),
            lifetime_seconds,
        }
    }

    pub fn lifetime_seconds(&self) -> i64 {
        self.lifetime_seconds
    }

    pub fn issue(&self, principal: Principal, now: Timestamp) -> anyhow::Result<String> {
        let claims = AccessClaims {
            sub: principal.user_id.to_string(),
            sid: principal.session_id.to_string(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            iat: now.unix_seconds(),
            exp: now.unix_seconds() + self.lifetime_seconds,
        };
        Ok(jsonwebtoken::encode(&Header::new(Self::ALGORITHM), &claims, &self.encoding)?)
    }

    /// Checks signature, algorithm, expiry (against the system clock), issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Principal, &'static str> {
        if token.len() > 4096 {
            return Err("the access token is too long");
        }
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation).map_err(|error| match error.kind() {
            jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
            _ => "the access token is invalid",
        })?;
        let user_id = UserId::parse(&data.claims.sub).map_err(|_| "the access token is invalid")?;
        let session_id = SessionId::parse(&data.claims.sid).map_err(|_| "the access token is invalid")?;
        Ok(Principal { user_id, session_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    fn tokens(secret: u8) -> AccessTokens {
        AccessTokens::new(&Secret::new(vec![secret; 32]).unwrap(), "todo", "todo-api", 900)
    }

    fn principal() -> Principal {
        Principal { user_id: UserId::generate(), session_id: SessionId::generate() }
    }

    fn now() -> Timestamp {
        Timestamp::from_datetime(chrono::Utc::now())
    }

    #[test]
    fn issued_tokens_verify() {
        let who = principal();
        let token = tokens(1).issue(who, now()).unwrap();
        assert_eq!(tokens(1).verify(&token).unwrap(), who);
    }

    #[test]
    fn forged_expired_and_foreign_tokens_are_refused() {
        let who = principal();
        assert!(tokens(1).verify(&tokens(2).issue(who, now()).unwrap()).is_err(), "other key");
        let old = now().plus(chrono::Duration::hours(-2));
        assert_eq!(tokens(1).verify(&tokens(1).issue(who, old).unwrap()), Err("the access token has expired"));
        let other_audience = AccessTokens::new(&Secret::new(vec![1; 32]).unwrap(), "todo", "elsewhere", 900);
        assert!(tokens(1).verify(&other_audience.issue(who, now()).unwrap()).is_err(), "audience");
        for garbage in ["", "a.b.c", "not a token", &"x".repeat(5000)] {
            assert!(tokens(1).verify(garbage).is_err());
        }
    }

    #[test]
    fn alg_none_is_refused() {
        let token = tokens(1).issue(principal(), now()).unwrap();
        let payload = token.split('.').nth(1).unwrap();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        assert!(tokens(1).verify(&format!("{header}.{payload}.")).is_err());
        let hs512 = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS512","typ":"JWT"}"#);
        assert!(tokens(1).verify(&format!("{hs512}.{payload}.sig")).is_err());
    }
}
