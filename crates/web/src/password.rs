//! Argon2id password hashing, run off the async threads because it is deliberately slow.

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};

use crate::error::ApiError;

/// The shortest password accepted.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Checks a new password's length (the only rule that measurably helps, per NIST SP 800-63B).
pub fn check_new_password(p: &str) -> Result<(), String> {
    let n = p.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return Err(format!("at least {MIN_PASSWORD_CHARS} characters"));
    }
    if n > 256 {
        return Err("at most 256 characters".into());
    }
    Ok(())
}

/// Hashes a password with Argon2id and a fresh random salt (PHC string).
pub async fn hash(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        let h: PasswordHash = Argon2::default()
            .hash_password(password.as_bytes())
            .map_err(|e| ApiError::Internal(format!("password hashing failed: {e}")))?;
        Ok(h.to_string())
    })
    .await
    .map_err(|e| ApiError::Internal(format!("password hashing task failed: {e}")))?
}

/// Hashes synchronously, for the command-line tool.
pub fn hash_blocking(password: &str) -> Result<String, String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h: PasswordHash| h.to_string())
        .map_err(|e| e.to_string())
}

/// Whether `password` matches the stored PHC hash.
pub async fn verify(password: String, phc: String) -> bool {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await
    .unwrap_or(false)
}

/// A real hash of a random password, verified when the user does not exist, so that the time a
/// sign-in takes does not reveal which e-mail addresses have accounts.
pub fn dummy_hash() -> String {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY
        .get_or_init(|| hash_blocking("not-a-password-anyone-has").unwrap_or_default())
        .clone()
}
