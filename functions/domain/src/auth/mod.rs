//! Credentials: password hashing, access tokens, refresh tokens.

mod keys;
mod passwords;
mod refresh;
mod secret;
mod tokens;

pub use keys::{KeyId, SigningKey, SigningKeys};
pub use passwords::PasswordHasher;
pub use refresh::{RefreshKey, RefreshToken};
pub use secret::Secret;
pub use tokens::{AccessClaims, AccessTokens, Principal};

/// Lower-case hex, for hashes and generated keys.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut out, byte| {
        let _ = write!(out, "{byte:02x}");
        out
    })
}

/// Decodes lower- or upper-case hex; `None` for anything else.
pub fn hex_decode(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || text.len() > 1024 {
        return None;
    }
    (0..text.len()).step_by(2).map(|at| u8::from_str_radix(text.get(at..at + 2)?, 16).ok()).collect()
}
