use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use super::SigningKeys;
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
/// The signing key's id is in the header (`kid`); a token verifies under the key it names,
/// current or previous, so a key rotation logs nobody out.
#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    key_id: String,
    /// Every key that verifies, by id, the current one first.
    decoding: Vec<(String, DecodingKey)>,
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

    pub fn new(keys: &SigningKeys, issuer: &str, audience: &str, lifetime_seconds: i64) -> Self {
        let mut validation = Validation::new(Self::ALGORITHM);
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        validation.leeway = 5;
        Self {
            encoding: EncodingKey::from_secret(keys.current().secret.expose()),
            key_id: keys.current().id.as_str().to_owned(),
            decoding: keys.all().map(|key| (key.id.as_str().to_owned(), DecodingKey::from_secret(key.secret.expose()))).collect(),
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
        let mut header = Header::new(Self::ALGORITHM);
        header.kid = Some(self.key_id.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Checks signature, algorithm, expiry (against the system clock), issuer and audience.
    pub fn verify(&self, token: &str) -> Result<Principal, &'static str> {
        const INVALID: &str = "the access token is invalid";
        if token.len() > 4096 {
            return Err("the access token is too long");
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| INVALID)?;
        // A token names its key; one without a name predates key ids and was signed by the
        // key that is now `k0` (or, after a rotation, the previous one): any key may verify it.
        let candidates: Vec<&DecodingKey> = match header.kid.as_deref() {
            Some(kid) => self.decoding.iter().filter(|(id, _)| id == kid).map(|(_, key)| key).collect(),
            None => self.decoding.iter().map(|(_, key)| key).collect(),
        };
        let mut outcome = Err(INVALID);
        for key in candidates {
            outcome = jsonwebtoken::decode::<AccessClaims>(token, key, &self.validation).map_err(|error| match error.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => "the access token has expired",
                _ => INVALID,
            });
            // Verified, or expired under a key that did verify it: no other key decides it.
            if !matches!(outcome, Err(error) if error == INVALID) {
                break;
            }
        }
        let data = outcome?;
        let user_id = UserId::parse(&data.claims.sub).map_err(|_| INVALID)?;
        let session_id = SessionId::parse(&data.claims.sid).map_err(|_| INVALID)?;
        Ok(Principal { user_id, session_id })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;

    use crate::auth::{KeyId, Secret, SigningKey};

    fn key(id: &str, secret: u8) -> SigningKey {
        SigningKey { id: KeyId::parse(id).unwrap(), secret: Secret::new(vec![secret; 32]).unwrap() }
    }

    fn tokens(secret: u8) -> AccessTokens {
        AccessTokens::new(&SigningKeys::single(Secret::new(vec![secret; 32]).unwrap()), "todo", "todo-api", 900)
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
        let other_audience = AccessTokens::new(&SigningKeys::single(Secret::new(vec![1; 32]).unwrap()), "todo", "elsewhere", 900);
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

    #[test]
    fn a_rotation_keeps_old_tokens_valid_until_the_old_key_is_dropped() {
        let who = principal();
        let before = AccessTokens::new(&SigningKeys::rotating(key("k0", 1), None).unwrap(), "todo", "todo-api", 900);
        let old_token = before.issue(who, now()).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&old_token).unwrap().kid.as_deref(), Some("k0"));
        let during = AccessTokens::new(&SigningKeys::rotating(key("k1", 2), Some(key("k0", 1))).unwrap(), "todo", "todo-api", 900);
        assert_eq!(during.verify(&old_token).unwrap(), who, "issued under the previous key");
        let new_token = during.issue(who, now()).unwrap();
        assert_eq!(jsonwebtoken::decode_header(&new_token).unwrap().kid.as_deref(), Some("k1"));
        assert_eq!(during.verify(&new_token).unwrap(), who);
        let after = AccessTokens::new(&SigningKeys::rotating(key("k1", 2), None).unwrap(), "todo", "todo-api", 900);
        assert!(after.verify(&old_token).is_err(), "the dropped key verifies nothing");
        assert_eq!(after.verify(&new_token).unwrap(), who);
    }

    #[test]
    fn a_token_naming_another_key_is_refused_even_if_a_key_would_verify_it() {
        let who = principal();
        let keys = SigningKeys::rotating(key("k1", 2), Some(key("k0", 1))).unwrap();
        let tokens = AccessTokens::new(&keys, "todo", "todo-api", 900);
        // Signed by k1 but claiming k0 in its header: checked against k0 only.
        let mut header = Header::new(AccessTokens::ALGORITHM);
        header.kid = Some("k0".to_owned());
        let claims = AccessClaims {
            sub: who.user_id.to_string(),
            sid: who.session_id.to_string(),
            iss: "todo".to_owned(),
            aud: "todo-api".to_owned(),
            iat: now().unix_seconds(),
            exp: now().unix_seconds() + 60,
        };
        let mislabelled = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[2; 32])).unwrap();
        assert!(tokens.verify(&mislabelled).is_err());
        header.kid = Some("k9".to_owned());
        let unknown = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[2; 32])).unwrap();
        assert!(tokens.verify(&unknown).is_err(), "an unknown key id");
        header.kid = None;
        let unnamed = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_secret(&[1; 32])).unwrap();
        assert_eq!(tokens.verify(&unnamed).unwrap(), who, "a token from before key ids, signed by the previous key");
    }

    #[test]
    fn a_token_from_before_key_ids_verifies_under_the_one_key_and_expires_as_such() {
        let who = principal();
        let keys = SigningKeys::single(Secret::new(vec![1; 32]).unwrap());
        let tokens = AccessTokens::new(&keys, "todo", "todo-api", 900);
        let claims = |at: Timestamp| AccessClaims {
            sub: who.user_id.to_string(),
            sid: who.session_id.to_string(),
            iss: "todo".to_owned(),
            aud: "todo-api".to_owned(),
            iat: at.unix_seconds(),
            exp: at.unix_seconds() + 60,
        };
        let unnamed = Header::new(AccessTokens::ALGORITHM);
        let fresh = jsonwebtoken::encode(&unnamed, &claims(now()), &EncodingKey::from_secret(&[1; 32])).unwrap();
        assert_eq!(tokens.verify(&fresh).unwrap(), who);
        let stale =
            jsonwebtoken::encode(&unnamed, &claims(now().plus(chrono::Duration::hours(-1))), &EncodingKey::from_secret(&[1; 32])).unwrap();
        assert_eq!(tokens.verify(&stale), Err("the access token has expired"));
    }
}
