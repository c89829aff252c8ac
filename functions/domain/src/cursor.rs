//! Opaque, tamper-evident list cursors bound to the user they were issued to.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::auth::SigningKeys;
use crate::model::UserId;

/// Encodes a page's resume key as `base64url(json).base64url(hmac)`. The MAC covers the
/// owner and the list's name, so a cursor edited, forged, or presented by another user (or
/// to another list) is refused instead of leaking or skipping items.
#[derive(Clone)]
pub struct CursorCodec {
    /// One MAC key per signing key, the current one first: cursors are made under it and
    /// accepted under any (a rotation does not break a client paging through a list).
    keys: Vec<Vec<u8>>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<key>)")
    }
}

const INVALID: &str = "is not a valid cursor for this list";

impl CursorCodec {
    /// Derives its own keys from the signing keys, so cursor MACs and tokens never share one.
    pub fn new(keys: &SigningKeys) -> Self {
        let derive = |secret: &[u8]| {
            let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).expect("HMAC takes any key length");
            mac.update(b"todo/cursor-key/v1");
            mac.finalize().into_bytes().to_vec()
        };
        Self { keys: keys.all().map(|key| derive(key.secret.expose())).collect() }
    }

    fn mac(key: &[u8], owner: UserId, list: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
        mac.update(owner.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(list.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac
    }

    pub fn encode<K: Serialize>(&self, owner: UserId, list: &str, key: &K) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialise"));
        let tag = URL_SAFE_NO_PAD.encode(Self::mac(&self.keys[0], owner, list, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    pub fn decode<K: DeserializeOwned>(&self, owner: UserId, list: &str, cursor: &str) -> Result<K, String> {
        if cursor.len() > 1024 {
            return Err(INVALID.to_owned());
        }
        let (payload, tag) = cursor.split_once('.').ok_or(INVALID)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| INVALID)?;
        if !self.keys.iter().any(|key| Self::mac(key, owner, list, payload).verify_slice(&tag).is_ok()) {
            return Err(INVALID.to_owned());
        }
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| INVALID)?;
        serde_json::from_slice(&json).map_err(|_| INVALID.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    use crate::auth::{KeyId, Secret, SigningKey};

    fn codec() -> CursorCodec {
        CursorCodec::new(&SigningKeys::single(Secret::new(vec![7; 32]).unwrap()))
    }

    #[test]
    fn cursors_are_bound_to_owner_and_list() {
        let owner = UserId::generate();
        let cursor = codec().encode(owner, "tasks", &"01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(codec().decode::<String>(owner, "tasks", &cursor).unwrap(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert!(codec().decode::<String>(UserId::generate(), "tasks", &cursor).is_err());
        assert!(codec().decode::<String>(owner, "notifications", &cursor).is_err());
        let other_key = CursorCodec::new(&SigningKeys::single(Secret::new(vec![8; 32]).unwrap()));
        assert!(other_key.decode::<String>(owner, "tasks", &cursor).is_err());
        // Across a rotation: the previous key still vouches for the cursors it made.
        let signing = |id: &str, byte: u8| SigningKey { id: KeyId::parse(id).unwrap(), secret: Secret::new(vec![byte; 32]).unwrap() };
        let rotated = CursorCodec::new(&SigningKeys::rotating(signing("k1", 8), Some(signing("k0", 7))).unwrap());
        assert_eq!(rotated.decode::<String>(owner, "tasks", &cursor).unwrap(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert!(codec().decode::<String>(owner, "tasks", &rotated.encode(owner, "tasks", &"x")).is_err(), "made under the new key");
    }

    proptest! {
        #[test]
        fn any_single_character_change_is_detected(index in 0usize..200, replacement in proptest::char::range('-', 'z')) {
            let owner = UserId::generate();
            let cursor = codec().encode(owner, "tasks", &"01ARZ3NDEKTSV4RRFFQ69G5FAV");
            let index = index % cursor.len();
            let mut tampered: Vec<char> = cursor.chars().collect();
            prop_assume!(tampered[index] != replacement);
            tampered[index] = replacement;
            let tampered: String = tampered.into_iter().collect();
            // Base64 padding bits can make two strings decode alike; what matters is that no
            // tampered cursor decodes to a different key.
            if let Ok(key) = codec().decode::<String>(owner, "tasks", &tampered) {
                prop_assert_eq!(key, "01ARZ3NDEKTSV4RRFFQ69G5FAV");
            }
        }

        #[test]
        fn garbage_never_decodes(garbage in ".{0,300}") {
            prop_assert!(codec().decode::<String>(UserId::generate(), "tasks", &garbage).is_err());
        }
    }
}
