//! Owner accounts for the dashboard: passwords hashed with argon2id, sessions kept in the
//! database (only a SHA-256 of the cookie's token is stored), each with its own CSRF token,
//! and an account's reach: every site, or the sites it was given.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

pub use earshot_store::model::{Session, User};

use crate::auth::{hash_token, random_secret};
use earshot_store::{Database, StoreError, now_millis};

/// How long a session lasts without signing in again.
pub const SESSION_DAYS: i64 = 14;
/// Shortest password `earshot user add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// argon2id with the crate's defaults (OWASP's recommended parameters), in PHC format.
pub fn hash_password(password: &str) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the operating system's random number generator failed");
    let salt = SaltString::encode_b64(&salt).expect("16 bytes make a valid salt");
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .expect("argon2 hashes any password")
        .to_string()
}

/// Whether `password` matches `hash` (constant time in the password).
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash of no one's password, verified when the email is unknown so that a wrong email
/// takes as long to refuse as a wrong password.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password("no account has this password"))
}

/// Adds an account. `sites: None` reaches every site.
pub fn add_user(
    db: &mut dyn Database,
    email: &str,
    password_hash: &str,
    sites: Option<&[String]>,
) -> Result<User, StoreError> {
    db.add_user(&normalize_email(email), password_hash, sites)
}

/// Emails are compared trimmed and in lower case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

/// The account with this email and its password hash.
pub fn user_by_email(
    db: &mut dyn Database,
    email: &str,
) -> Result<Option<(User, String)>, StoreError> {
    db.user_by_email(&normalize_email(email))
}

/// Starts a session; returns the token for the cookie (only its hash is stored).
pub fn create_session(db: &mut dyn Database, user: &User) -> Result<String, StoreError> {
    let token = random_secret("", 32);
    let now = now_millis();
    db.add_session(
        &hash_token(&token),
        user.id,
        &random_secret("", 32),
        now,
        now + SESSION_DAYS * 86_400_000,
    )?;
    Ok(token)
}

/// The live session for a cookie's token.
pub fn session(db: &mut dyn Database, token: &str) -> Result<Option<Session>, StoreError> {
    db.session(&hash_token(token), now_millis())
}

/// Ends a session (signing out).
pub fn end_session(db: &mut dyn Database, token: &str) -> Result<(), StoreError> {
    db.end_session(&hash_token(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_made_here_is_checked_by_the_bounded_checker() {
        let hash = hash_password("a long enough password");
        let mut memory = Vec::new();
        assert!(crate::passwords::verify_with_memory(
            &hash,
            b"a long enough password",
            &mut memory
        ));
        assert!(!crate::passwords::verify_with_memory(
            &hash,
            b"another password",
            &mut memory
        ));
    }
}
