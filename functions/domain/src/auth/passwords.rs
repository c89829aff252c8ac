use std::sync::{Arc, OnceLock};

use argon2::password_hash::{PasswordHash as PhcHash, PasswordHasher as _, PasswordVerifier as _, SaltString, rand_core::OsRng};
use argon2::{Algorithm, Argon2, Params, Version};

use crate::model::{Password, PasswordHash};

/// Hashes and verifies passwords with argon2id.
///
/// Parameters: OWASP's second recommended argon2id configuration — 19 MiB of memory
/// (`m = 19456` KiB), 2 passes, 1 lane, 32-byte output, 16-byte random salt. Hashes are PHC
/// strings, so parameters can be raised later without invalidating stored hashes.
#[derive(Clone, Debug)]
pub struct PasswordHasher {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    argon2: Argon2<'static>,
    /// A hash of a random password, checked when the email is unknown so that log-in
    /// takes as long for an unknown email as for a wrong password.
    decoy: OnceLock<String>,
}

impl Default for PasswordHasher {
    fn default() -> Self {
        Self::new()
    }
}

impl PasswordHasher {
    pub const MEMORY_KIB: u32 = 19_456;
    pub const ITERATIONS: u32 = 2;
    pub const PARALLELISM: u32 = 1;

    pub fn new() -> Self {
        let params = Params::new(Self::MEMORY_KIB, Self::ITERATIONS, Self::PARALLELISM, Some(32)).expect("argon2 parameters are valid");
        Self { inner: Arc::new(Inner { argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params), decoy: OnceLock::new() }) }
    }

    /// Hashes on the blocking pool: an argon2 run takes tens of milliseconds of CPU.
    pub async fn hash(&self, password: Password) -> anyhow::Result<PasswordHash> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || inner.hash(password.expose()).map(PasswordHash::from_phc)).await?
    }

    /// Verifies `password` against `stored`; with no stored hash, verifies against a decoy
    /// and answers `false`, spending the same time.
    pub async fn verify(&self, password: Password, stored: Option<PasswordHash>) -> anyhow::Result<bool> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let (phc, real) = match &stored {
                Some(hash) => (hash.as_phc().to_owned(), true),
                None => (inner.decoy()?.to_owned(), false),
            };
            let parsed = PhcHash::new(&phc).map_err(|e| anyhow::anyhow!("stored password hash is malformed: {e}"))?;
            let matches = inner.argon2.verify_password(password.expose().as_bytes(), &parsed).is_ok();
            Ok(real && matches)
        })
        .await?
    }
}

impl Inner {
    fn hash(&self, password: &str) -> anyhow::Result<String> {
        let salt = SaltString::generate(&mut OsRng);
        let hash = self.argon2.hash_password(password.as_bytes(), &salt).map_err(|e| anyhow::anyhow!("argon2 hashing failed: {e}"))?;
        Ok(hash.to_string())
    }

    fn decoy(&self) -> anyhow::Result<&str> {
        if let Some(decoy) = self.decoy.get() {
            return Ok(decoy);
        }
        let random: [u8; 16] = rand::random();
        let decoy = self.hash(&format!("{random:?}"))?;
        Ok(self.decoy.get_or_init(|| decoy))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_with_argon2id_and_verifies() {
        let hasher = PasswordHasher::new();
        let password = Password::parse("correct horse battery").unwrap();
        let hash = hasher.hash(password.clone()).await.unwrap();
        assert!(hash.as_phc().starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{}", hash.as_phc());
        assert!(hasher.verify(password, Some(hash.clone())).await.unwrap());
        assert!(!hasher.verify(Password::parse("wrong horse battery").unwrap(), Some(hash)).await.unwrap());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new();
        assert!(!hasher.verify(Password::parse("correct horse battery").unwrap(), None).await.unwrap());
    }
}
