//! Credentials: password hashing, access tokens, refresh tokens.

mod passwords;
mod refresh;
mod secret;
mod tokens;

pub use passwords::PasswordHasher;
pub use refresh::RefreshToken;
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
