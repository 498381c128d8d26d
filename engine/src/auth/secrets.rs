//! The master key and AES-256-GCM sealing of provider API keys.
//!
//! The key comes from `FLEETDECK_MASTER_KEY` (base64 of 32 bytes) or, when that is unset, from
//! `<data_dir>/master.key`, generated on first start with 0600 permissions. Each sealed value is
//! `nonce (12 bytes) || ciphertext+tag` and is bound to its row by associated data, so a sealed
//! key copied to another provider row does not decrypt.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;

use crate::auth::tokens::random_bytes;
use crate::{Error, Result};

const NONCE_LEN: usize = 12;
/// File name of the generated key inside the data directory.
pub const KEY_FILE: &str = "master.key";

/// The key that seals secrets at rest. Never printed.
#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

impl MasterKey {
    /// Decodes a base64 key of exactly 32 bytes.
    pub fn from_base64(text: &str) -> Result<MasterKey> {
        let bytes = STANDARD.decode(text.trim()).map_err(|_| {
            Error::Config("the master key must be base64 (e.g. `openssl rand -base64 32`)".into())
        })?;
        if bytes.len() != 32 {
            return Err(Error::Config(format!(
                "the master key must be 32 bytes; this one has {}",
                bytes.len()
            )));
        }
        Ok(MasterKey(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    /// A fresh random key.
    pub fn generate() -> Result<MasterKey> {
        let bytes = random_bytes(32)?;
        Ok(MasterKey(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    /// The key in base64, as the key file and `FLEETDECK_MASTER_KEY` hold it (a secret: only
    /// for the key file and an operator's rotation).
    pub fn to_base64(&self) -> String {
        STANDARD.encode(self.0.as_slice())
    }

    /// The configured key without creating one: `from_env` when given, else the key file in
    /// `data_dir` when it exists (`doctor` changes nothing).
    pub fn load_existing(data_dir: &Path, from_env: Option<&str>) -> Result<Option<MasterKey>> {
        if let Some(text) = from_env.filter(|t| !t.trim().is_empty()) {
            return MasterKey::from_base64(text).map(Some);
        }
        match std::fs::read_to_string(data_dir.join(KEY_FILE)) {
            Ok(text) => MasterKey::from_base64(&text).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Config(format!("cannot read the master key: {e}"))),
        }
    }

    /// Writes the key to `path` (created, 0600), for a rotation's new key file.
    pub fn write_new_file(&self, path: &Path) -> Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        let mut file = options
            .open(path)
            .map_err(|e| Error::Config(format!("cannot create {}: {e}", path.display())))?;
        file.write_all(self.to_base64().as_bytes())
            .and_then(|()| file.sync_all())
            .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))
    }

    /// The configured key: `from_env` when given, else the key file in `data_dir`, created
    /// (0600) when missing.
    pub fn load_or_create(data_dir: &Path, from_env: Option<&str>) -> Result<MasterKey> {
        if let Some(text) = from_env.filter(|t| !t.trim().is_empty()) {
            return MasterKey::from_base64(text);
        }
        let path = data_dir.join(KEY_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => MasterKey::from_base64(&text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                std::fs::create_dir_all(data_dir).map_err(|e| {
                    Error::Config(format!("cannot create {}: {e}", data_dir.display()))
                })?;
                let key = MasterKey::generate()?;
                let mut options = std::fs::OpenOptions::new();
                options.write(true).create_new(true);
                #[cfg(unix)]
                {
                    use std::os::unix::fs::OpenOptionsExt;
                    options.mode(0o600);
                }
                let mut file = options
                    .open(&path)
                    .map_err(|e| Error::Config(format!("cannot create {}: {e}", path.display())))?;
                file.write_all(key.to_base64().as_bytes())
                    .and_then(|()| file.sync_all())
                    .map_err(|e| Error::Config(format!("cannot write {}: {e}", path.display())))?;
                tracing::info!(path = %path.display(), "generated a new master key");
                Ok(key)
            }
            Err(e) => Err(Error::Config(format!(
                "cannot read {}: {e}",
                path.display()
            ))),
        }
    }

    /// Seals `plaintext`, bound to `context` (e.g. the provider id).
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>> {
        let nonce_bytes = random_bytes(NONCE_LEN)?;
        let cipher = Aes256Gcm::new(&self.0);
        let sealed = cipher
            .encrypt(
                Nonce::from_slice(&nonce_bytes),
                Payload {
                    msg: plaintext,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| Error::Config("encryption failed".into()))?;
        let mut out = nonce_bytes;
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Opens a value sealed by [`MasterKey::seal`] with the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>> {
        if sealed.len() <= NONCE_LEN {
            return Err(Error::Config("a sealed secret is truncated".into()));
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        Aes256Gcm::new(&self.0)
            .decrypt(
                Nonce::from_slice(nonce),
                Payload {
                    msg: body,
                    aad: context.as_bytes(),
                },
            )
            .map_err(|_| {
                Error::Config("a sealed secret does not open with the current master key".into())
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_round_trip_bound_to_context() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal(b"sk-live-123456", "provider-a").unwrap();
        assert!(!sealed.windows(6).any(|w| w == b"sk-liv"));
        assert_eq!(key.open(&sealed, "provider-a").unwrap(), b"sk-live-123456");
        assert!(key.open(&sealed, "provider-b").is_err());
        let other = MasterKey::generate().unwrap();
        assert!(other.open(&sealed, "provider-a").is_err());
        assert_eq!(format!("{key:?}"), "MasterKey(<redacted>)");
    }

    #[test]
    fn key_file_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("fleetdeck-key-{}", crate::new_id()));
        let a = MasterKey::load_or_create(&dir, None).unwrap();
        let b = MasterKey::load_or_create(&dir, None).unwrap();
        let sealed = a.seal(b"x", "c").unwrap();
        assert_eq!(b.open(&sealed, "c").unwrap(), b"x");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.join(KEY_FILE))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(MasterKey::from_base64("c2hvcnQ=").is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
