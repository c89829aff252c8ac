//! Credentials: password hashing, access tokens, refresh tokens.

mod passwords;
mod refresh;
mod secret;
mod tokens;

pub use passwords::PasswordHasher;
pub use refresh::RefreshToken;
pub use secret::Secret;
pub use tokens::{AccessClaims, AccessTokens, Principal};
