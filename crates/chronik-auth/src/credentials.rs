//! The credentials file: salted SCRAM-SHA-256 keys per user.
//!
//! ```toml
//! # Written by `chronik-server user add`. Holds salted keys, not passwords.
//! [users.alice]
//! salt = "W22ZaJ0SNY7soEsUEjb6gQ=="
//! iterations = 4096
//! stored-key = "WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY="
//! server-key = "wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
//! ```
//!
//! Binary values are standard base64. Unknown keys are rejected so a typo
//! does not silently disable a user.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Smallest PBKDF2 iteration count accepted, per RFC 7677's recommendation.
pub const MIN_ITERATIONS: u32 = 4096;
/// Largest PBKDF2 iteration count accepted (Kafka's limit too); bounds the
/// work one login attempt can cost the broker.
pub const MAX_ITERATIONS: u32 = 16384;

type HmacSha256 = Hmac<Sha256>;

/// Length of the random salt [`ScramCredential::generate`] picks.
const SALT_LEN: usize = 16;

/// Errors reading, validating or writing a credentials file.
#[derive(Debug, thiserror::Error)]
pub enum CredentialsError {
    /// The file could not be read or written.
    #[error("{context} {path}: {source}")]
    Io {
        /// What was being done.
        context: &'static str,
        /// The file concerned.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML of the expected shape.
    #[error("invalid credentials file {path}: {message}")]
    Parse {
        /// The file concerned.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A user entry or a new username/password is invalid.
    #[error("invalid credentials for user {user:?}: {message}")]
    Invalid {
        /// The user concerned.
        user: String,
        /// What was wrong.
        message: String,
    },
}

/// The SCRAM-SHA-256 keys of one user (RFC 5802 section 3).
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredential {
    /// Random salt mixed into the password hash.
    pub salt: Vec<u8>,
    /// PBKDF2 iteration count.
    pub iterations: u32,
    /// `H(HMAC(SaltedPassword, "Client Key"))`: verifies client proofs.
    pub stored_key: [u8; 32],
    /// `HMAC(SaltedPassword, "Server Key")`: signs the server's reply.
    pub server_key: [u8; 32],
}

impl std::fmt::Debug for ScramCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Keys stay out of logs.
        f.debug_struct("ScramCredential")
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

/// `HMAC-SHA-256(key, data)`.
pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// `SaltedPassword = PBKDF2-HMAC-SHA-256(password, salt, iterations)`.
pub(crate) fn salted_password(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
    out
}

/// `ClientKey = HMAC(SaltedPassword, "Client Key")`.
pub(crate) fn client_key(salted: &[u8; 32]) -> [u8; 32] {
    hmac(salted, b"Client Key")
}

impl ScramCredential {
    /// Derives the keys for `password` with the given salt and iterations.
    pub fn derive(password: &[u8], salt: &[u8], iterations: u32) -> Self {
        let salted = salted_password(password, salt, iterations);
        let stored_key: [u8; 32] = Sha256::digest(client_key(&salted)).into();
        ScramCredential {
            salt: salt.to_vec(),
            iterations,
            stored_key,
            server_key: hmac(&salted, b"Server Key"),
        }
    }

    /// Derives the keys for `password` with a fresh random salt.
    pub fn generate(password: &[u8], iterations: u32) -> Self {
        let mut salt = [0u8; SALT_LEN];
        rand::fill(&mut salt);
        Self::derive(password, &salt, iterations)
    }

    /// Whether `password` hashes to this credential, compared in constant time.
    pub fn verify_password(&self, password: &[u8]) -> bool {
        let salted = salted_password(password, &self.salt, self.iterations);
        let stored: [u8; 32] = Sha256::digest(client_key(&salted)).into();
        stored.ct_eq(&self.stored_key).into()
    }
}

/// One user's entry as stored in the file.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
struct UserEntry {
    salt: String,
    iterations: u32,
    stored_key: String,
    server_key: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileShape {
    #[serde(default)]
    users: BTreeMap<String, UserEntry>,
}

/// Every user the broker accepts, keyed by username.
pub struct CredentialStore {
    users: BTreeMap<String, ScramCredential>,
    /// Per-process secret from which fake salts for unknown users are made.
    decoy_secret: [u8; 32],
}

impl Default for CredentialStore {
    fn default() -> Self {
        let mut decoy_secret = [0u8; 32];
        rand::fill(&mut decoy_secret);
        CredentialStore {
            users: BTreeMap::new(),
            decoy_secret,
        }
    }
}

impl std::fmt::Debug for CredentialStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialStore")
            .field("users", &self.users.keys().collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

fn validate_username(user: &str) -> Result<(), CredentialsError> {
    let invalid = |message: &str| CredentialsError::Invalid {
        user: user.to_string(),
        message: message.to_string(),
    };
    if user.is_empty() {
        return Err(invalid("username is empty"));
    }
    if user.chars().any(char::is_control) {
        return Err(invalid("username contains control characters"));
    }
    Ok(())
}

fn validate_iterations(user: &str, iterations: u32) -> Result<(), CredentialsError> {
    if !(MIN_ITERATIONS..=MAX_ITERATIONS).contains(&iterations) {
        return Err(CredentialsError::Invalid {
            user: user.to_string(),
            message: format!(
                "iterations must be between {MIN_ITERATIONS} and {MAX_ITERATIONS}, got {iterations}"
            ),
        });
    }
    Ok(())
}

impl CredentialStore {
    /// Reads and validates a credentials file.
    pub fn load(path: &Path) -> Result<Self, CredentialsError> {
        let text = std::fs::read_to_string(path).map_err(|source| CredentialsError::Io {
            context: "reading",
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_toml(&text).map_err(|e| match e {
            CredentialsError::Parse { message, .. } => CredentialsError::Parse {
                path: path.to_path_buf(),
                message,
            },
            other => other,
        })
    }

    /// Parses the file format from a string (errors name no path).
    pub fn from_toml(text: &str) -> Result<Self, CredentialsError> {
        let shape: FileShape = toml::from_str(text).map_err(|e| CredentialsError::Parse {
            path: PathBuf::new(),
            message: e.to_string(),
        })?;
        let mut store = CredentialStore::default();
        for (user, entry) in shape.users {
            let cred = decode_entry(&user, &entry)?;
            store.insert(&user, cred)?;
        }
        Ok(store)
    }

    /// Serialises to the file format.
    pub fn to_toml(&self) -> String {
        let shape = FileShape {
            users: self
                .users
                .iter()
                .map(|(user, c)| {
                    (
                        user.clone(),
                        UserEntry {
                            salt: B64.encode(&c.salt),
                            iterations: c.iterations,
                            stored_key: B64.encode(c.stored_key),
                            server_key: B64.encode(c.server_key),
                        },
                    )
                })
                .collect(),
        };
        let body = toml::to_string(&shape).expect("credential entries always serialise");
        format!(
            "# Chronik Stream credentials (SCRAM-SHA-256 salted keys, never passwords).\n\
             # Manage with `chronik-server user add`.\n\n{body}"
        )
    }

    /// Writes the file atomically (temporary file, fsync, rename), readable
    /// by the owner only.
    pub fn save(&self, path: &Path) -> Result<(), CredentialsError> {
        let io = |context, source| CredentialsError::Io {
            context,
            path: path.to_path_buf(),
            source,
        };
        let dir = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p,
            _ => Path::new("."),
        };
        let mut tmp = tempfile::NamedTempFile::new_in(dir)
            .map_err(|e| io("creating a temporary file for", e))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o600))
                .map_err(|e| io("setting permissions of", e))?;
        }
        tmp.write_all(self.to_toml().as_bytes())
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| io("writing", e))?;
        tmp.persist(path).map_err(|e| io("replacing", e.error))?;
        Ok(())
    }

    /// Adds or replaces a user.
    pub fn insert(&mut self, user: &str, cred: ScramCredential) -> Result<(), CredentialsError> {
        validate_username(user)?;
        validate_iterations(user, cred.iterations)?;
        self.users.insert(user.to_string(), cred);
        Ok(())
    }

    /// Removes a user; returns whether it existed.
    pub fn remove(&mut self, user: &str) -> bool {
        self.users.remove(user).is_some()
    }

    /// The credential of `user`, if known.
    pub fn get(&self, user: &str) -> Option<&ScramCredential> {
        self.users.get(user)
    }

    /// Known usernames, sorted.
    pub fn users(&self) -> impl Iterator<Item = &str> {
        self.users.keys().map(String::as_str)
    }

    /// Number of users.
    pub fn len(&self) -> usize {
        self.users.len()
    }

    /// Whether no user is defined.
    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    /// The credential to run an exchange against: the real one, or for an
    /// unknown user a decoy with a stable per-user salt and keys nobody
    /// knows, so the exchange fails only at the proof like a wrong password.
    pub(crate) fn lookup_or_decoy(&self, user: &str) -> (ScramCredential, bool) {
        match self.users.get(user) {
            Some(c) => (c.clone(), true),
            None => {
                let salt = hmac(&self.decoy_secret, user.as_bytes());
                let mut stored_key = [0u8; 32];
                let mut server_key = [0u8; 32];
                rand::fill(&mut stored_key);
                rand::fill(&mut server_key);
                let cred = ScramCredential {
                    salt: salt[..SALT_LEN].to_vec(),
                    iterations: MIN_ITERATIONS,
                    stored_key,
                    server_key,
                };
                (cred, false)
            }
        }
    }
}

fn decode_entry(user: &str, entry: &UserEntry) -> Result<ScramCredential, CredentialsError> {
    let invalid = |message: String| CredentialsError::Invalid {
        user: user.to_string(),
        message,
    };
    let salt = B64
        .decode(&entry.salt)
        .map_err(|e| invalid(format!("salt is not base64: {e}")))?;
    if salt.is_empty() {
        return Err(invalid("salt is empty".into()));
    }
    let key = |name: &str, text: &str| -> Result<[u8; 32], CredentialsError> {
        let bytes = B64
            .decode(text)
            .map_err(|e| invalid(format!("{name} is not base64: {e}")))?;
        bytes
            .try_into()
            .map_err(|b: Vec<u8>| invalid(format!("{name} is {} bytes, expected 32", b.len())))
    };
    Ok(ScramCredential {
        salt,
        iterations: entry.iterations,
        stored_key: key("stored-key", &entry.stored_key)?,
        server_key: key("server-key", &entry.server_key)?,
    })
}

/// Creates or updates `username` in the credentials file at `path` (created
/// if missing), storing only salted keys derived from `password`.
pub fn add_user(
    path: &Path,
    username: &str,
    password: &str,
    iterations: u32,
) -> Result<(), CredentialsError> {
    validate_username(username)?;
    validate_iterations(username, iterations)?;
    if password.is_empty() {
        return Err(CredentialsError::Invalid {
            user: username.to_string(),
            message: "password is empty".into(),
        });
    }
    let mut store = if path.exists() {
        CredentialStore::load(path)?
    } else {
        CredentialStore::default()
    };
    store.insert(
        username,
        ScramCredential::generate(password.as_bytes(), iterations),
    )?;
    store.save(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7677_keys_derive_from_pencil() {
        // RFC 7677 section 3: user "user", password "pencil".
        let salt = B64.decode("W22ZaJ0SNY7soEsUEjb6gQ==").unwrap();
        let c = ScramCredential::derive(b"pencil", &salt, 4096);
        assert!(c.verify_password(b"pencil"));
        assert!(!c.verify_password(b"pencil "));
    }

    #[test]
    fn add_user_writes_no_password_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        add_user(&path, "alice", "correct horse", 4096).unwrap();
        add_user(&path, "bob,=x", "battery staple", 8192).unwrap();
        // Re-adding replaces the entry (new salt), not duplicates it.
        add_user(&path, "alice", "new password", 4096).unwrap();

        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains("correct horse") && !text.contains("battery"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o077, 0, "credentials readable by others: {mode:o}");
        }

        let store = CredentialStore::load(&path).unwrap();
        assert_eq!(store.users().collect::<Vec<_>>(), ["alice", "bob,=x"]);
        assert!(store.get("alice").unwrap().verify_password(b"new password"));
        assert!(!store
            .get("alice")
            .unwrap()
            .verify_password(b"correct horse"));
        assert_eq!(store.get("bob,=x").unwrap().iterations, 8192);
        assert!(store
            .get("bob,=x")
            .unwrap()
            .verify_password(b"battery staple"));
    }

    #[test]
    fn bad_files_and_entries_are_rejected_with_context() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("users.toml");
        std::fs::write(&path, "[users.alice]\nsalt = \"AAAA\"\npassword = \"x\"\n").unwrap();
        let err = CredentialStore::load(&path).unwrap_err().to_string();
        assert!(
            err.contains("users.toml") && err.contains("password"),
            "{err}"
        );

        let short_key = "[users.alice]\nsalt = \"AAAA\"\niterations = 4096\n\
                         stored-key = \"AAAA\"\nserver-key = \"AAAA\"\n";
        let err = CredentialStore::from_toml(short_key)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("alice") && err.contains("expected 32"),
            "{err}"
        );

        assert!(add_user(&path, "", "pw", 4096).is_err());
        assert!(add_user(&dir.path().join("n.toml"), "u", "", 4096).is_err());
        assert!(add_user(&dir.path().join("n.toml"), "u", "pw", 100).is_err());
        assert!(!dir.path().join("n.toml").exists());
    }

    #[test]
    fn missing_file_is_an_io_error_naming_it() {
        let err = CredentialStore::load(Path::new("/nonexistent/users.toml")).unwrap_err();
        assert!(matches!(err, CredentialsError::Io { .. }));
        assert!(err.to_string().contains("/nonexistent/users.toml"));
    }

    #[test]
    fn decoys_are_stable_per_user_and_unknown() {
        let store = CredentialStore::default();
        let (a1, known) = store.lookup_or_decoy("ghost");
        let (a2, _) = store.lookup_or_decoy("ghost");
        let (b, _) = store.lookup_or_decoy("other");
        assert!(!known);
        assert_eq!(a1.salt, a2.salt);
        assert_ne!(a1.salt, b.salt);
    }
}
