use std::sync::Arc;

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
}

/// The hash checked when an email has no account, so that log-in takes as long for an
/// unknown email as for a wrong password — from the first such log-in of a process on (it
/// was once made lazily, which made that first one slower). It is of a random 43-character
/// password nobody kept, with today's parameters (a test holds them equal); knowing it
/// gains nothing, since a decoy check always answers `false`.
const DECOY_PHC: &str = "$argon2id$v=19$m=19456,t=2,p=1$hHHMkIq9bfF8F0uCDemG5A$Wh34c3UFAi/z4CjuAl0LonYwwFkhu2NmsQ+HSIokyyo";

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
        Self { inner: Arc::new(Inner { argon2: Argon2::new(Algorithm::Argon2id, Version::V0x13, params) }) }
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
                None => (DECOY_PHC.to_owned(), false),
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

    #[test]
    fn the_decoy_costs_what_a_real_hash_costs() {
        let hash = PasswordHasher::new().inner.hash("anything").unwrap();
        let params = |phc: &str| phc.split('$').take(4).collect::<Vec<_>>().join("$");
        assert_eq!(params(DECOY_PHC), params(&hash), "make a new DECOY_PHC with the new parameters");
        assert!(PhcHash::new(DECOY_PHC).is_ok());
    }

    #[tokio::test]
    async fn unknown_users_never_verify() {
        let hasher = PasswordHasher::new();
        assert!(!hasher.verify(Password::parse("correct horse battery").unwrap(), None).await.unwrap());
    }
}
