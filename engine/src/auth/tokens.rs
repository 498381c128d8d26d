//! Random tokens and their stored digests.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::{Error, Result};

/// `n` bytes from the operating system's secure random source.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut buf = vec![0u8; n];
    getrandom::fill(&mut buf)
        .map_err(|e| Error::Config(format!("the system random source failed: {e}")))?;
    Ok(buf)
}

/// A URL-safe token carrying 256 bits of randomness, with a readable prefix.
pub fn new_token(prefix: &str) -> Result<String> {
    Ok(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(random_bytes(32)?)
    ))
}

/// The digest stored in place of a token: lowercase hex SHA-256.
pub fn digest(token: &str) -> String {
    let hash = Sha256::digest(token.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Lowercase hex SHA-256 of arbitrary text (used by the audit hash chain).
pub fn sha256_hex(text: &str) -> String {
    digest(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_digests_stable() {
        let a = new_token("fdk_").unwrap();
        let b = new_token("fdk_").unwrap();
        assert_ne!(a, b);
        assert!(a.starts_with("fdk_") && a.len() == 4 + 43);
        assert_eq!(digest("abc"), digest("abc"));
        assert_eq!(
            digest("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
