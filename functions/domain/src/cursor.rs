//! Opaque, tamper-evident list cursors bound to the user they were issued to.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;

use crate::auth::Secret;
use crate::model::UserId;

/// Encodes a page's resume key as `base64url(json).base64url(hmac)`. The MAC covers the
/// owner and the list's name, so a cursor edited, forged, or presented by another user (or
/// to another list) is refused instead of leaking or skipping items.
#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec(<key>)")
    }
}

const INVALID: &str = "is not a valid cursor for this list";

impl CursorCodec {
    /// Derives its own key from the signing secret, so cursor MACs and tokens never share one.
    pub fn new(secret: &Secret) -> Self {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.expose()).expect("HMAC takes any key length");
        mac.update(b"todo/cursor-key/v1");
        Self { key: mac.finalize().into_bytes().to_vec() }
    }

    fn mac(&self, owner: UserId, list: &str, payload: &str) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(owner.to_string().as_bytes());
        mac.update(b"\0");
        mac.update(list.as_bytes());
        mac.update(b"\0");
        mac.update(payload.as_bytes());
        mac
    }

    pub fn encode<K: Serialize>(&self, owner: UserId, list: &str, key: &K) -> String {
        let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(key).expect("cursor keys serialise"));
        let tag = URL_SAFE_NO_PAD.encode(self.mac(owner, list, &payload).finalize().into_bytes());
        format!("{payload}.{tag}")
    }

    pub fn decode<K: DeserializeOwned>(&self, owner: UserId, list: &str, cursor: &str) -> Result<K, String> {
        if cursor.len() > 1024 {
            return Err(INVALID.to_owned());
        }
        let (payload, tag) = cursor.split_once('.').ok_or(INVALID)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| INVALID)?;
        self.mac(owner, list, payload).verify_slice(&tag).map_err(|_| INVALID)?;
        let json = URL_SAFE_NO_PAD.decode(payload).map_err(|_| INVALID)?;
        serde_json::from_slice(&json).map_err(|_| INVALID.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn codec() -> CursorCodec {
        CursorCodec::new(&Secret::new(vec![7; 32]).unwrap())
    }

    #[test]
    fn cursors_are_bound_to_owner_and_list() {
        let owner = UserId::generate();
        let cursor = codec().encode(owner, "tasks", &"01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert_eq!(codec().decode::<String>(owner, "tasks", &cursor).unwrap(), "01ARZ3NDEKTSV4RRFFQ69G5FAV");
        assert!(codec().decode::<String>(UserId::generate(), "tasks", &cursor).is_err());
        assert!(codec().decode::<String>(owner, "notifications", &cursor).is_err());
        let other_key = CursorCodec::new(&Secret::new(vec![8; 32]).unwrap());
        assert!(other_key.decode::<String>(owner, "tasks", &cursor).is_err());
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
