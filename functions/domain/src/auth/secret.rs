use std::fmt;

/// Key material that never prints (not in `Debug`, not in logs).
#[derive(Clone)]
pub struct Secret(Vec<u8>);

impl Secret {
    /// Shortest accepted signing key: 256 bits, what HS256 needs to be worth its name.
    pub const MIN_BYTES: usize = 32;

    pub fn new(bytes: Vec<u8>) -> Result<Self, String> {
        if bytes.len() < Self::MIN_BYTES {
            return Err(format!("must be at least {} bytes", Self::MIN_BYTES));
        }
        Ok(Self(bytes))
    }

    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}
