//! Owner accounts for the dashboard: passwords hashed with argon2id, sessions kept in the
//! database (only a SHA-256 of the cookie's token is stored), each with its own CSRF token,
//! and an account's reach: every site, or the sites it was given.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use rusqlite::{Connection, OptionalExtension, params};

use crate::auth::{hash_token, random_secret};
use crate::store::{StoreError, now_millis};

/// How long a session lasts without signing in again.
pub const SESSION_DAYS: i64 = 14;
/// Shortest password `earshot user add` accepts.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// An owner who may sign in to the dashboard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: i64,
    pub email: String,
    /// The sites this account may see; `None` means every site.
    pub sites: Option<Vec<String>>,
}

impl User {
    /// Whether this account may read (and triage, and export) a site's feedback.
    pub fn may_read(&self, site: &str) -> bool {
        self.sites
            .as_ref()
            .is_none_or(|sites| sites.iter().any(|allowed| allowed == site))
    }
}

/// A signed-in owner, as the dashboard's handlers see them.
#[derive(Debug, Clone)]
pub struct Session {
    pub user: User,
    /// Sent in every form and compared on every POST.
    pub csrf: String,
}

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
    conn: &mut Connection,
    email: &str,
    password_hash: &str,
    sites: Option<&[String]>,
) -> Result<User, StoreError> {
    let email = email.trim().to_lowercase();
    let tx = conn.transaction()?;
    let inserted = tx.execute(
        "INSERT INTO users (email, password_hash, all_sites, created_at) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (email) DO NOTHING",
        params![email, password_hash, sites.is_none(), now_millis()],
    )?;
    if inserted == 0 {
        return Err(StoreError::UserExists(email));
    }
    let id = tx.last_insert_rowid();
    for site in sites.unwrap_or_default() {
        let known: Option<i64> = tx
            .query_row("SELECT 1 FROM sites WHERE key = ?1", [site], |row| {
                row.get(0)
            })
            .optional()?;
        if known.is_none() {
            return Err(StoreError::UnknownSite(site.clone()));
        }
        tx.execute(
            "INSERT INTO user_sites (user_id, site_key) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            params![id, site],
        )?;
    }
    tx.commit()?;
    Ok(User {
        id,
        email,
        sites: sites.map(<[String]>::to_vec),
    })
}

fn user_sites(
    conn: &Connection,
    id: i64,
    all_sites: bool,
) -> Result<Option<Vec<String>>, StoreError> {
    if all_sites {
        return Ok(None);
    }
    let sites = conn
        .prepare_cached("SELECT site_key FROM user_sites WHERE user_id = ?1 ORDER BY site_key")?
        .query_map([id], |row| row.get(0))?
        .collect::<Result<Vec<String>, _>>()?;
    Ok(Some(sites))
}

/// The account with this email and its password hash.
pub fn user_by_email(conn: &Connection, email: &str) -> Result<Option<(User, String)>, StoreError> {
    let row = conn
        .prepare_cached("SELECT id, email, password_hash, all_sites FROM users WHERE email = ?1")?
        .query_row([email.trim().to_lowercase()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, String>(2)?,
                row.get::<_, bool>(3)?,
            ))
        })
        .optional()?;
    let Some((id, email, hash, all_sites)) = row else {
        return Ok(None);
    };
    let sites = user_sites(conn, id, all_sites)?;
    Ok(Some((User { id, email, sites }, hash)))
}

/// Every account, oldest first.
pub fn users(conn: &Connection) -> Result<Vec<User>, StoreError> {
    let rows = conn
        .prepare("SELECT id, email, all_sites FROM users ORDER BY id")?
        .query_map([], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
            ))
        })?
        .collect::<Result<Vec<_>, _>>()?;
    rows.into_iter()
        .map(|(id, email, all_sites)| {
            Ok(User {
                id,
                email,
                sites: user_sites(conn, id, all_sites)?,
            })
        })
        .collect()
}

/// Starts a session; returns the token for the cookie (only its hash is stored).
pub fn create_session(conn: &Connection, user: &User) -> Result<String, StoreError> {
    let token = random_secret("", 32);
    let now = now_millis();
    conn.execute(
        "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            hash_token(&token),
            user.id,
            random_secret("", 32),
            now,
            now + SESSION_DAYS * 86_400_000
        ],
    )?;
    // Expired sessions are dropped whenever someone signs in.
    conn.execute("DELETE FROM sessions WHERE expires_at < ?1", [now])?;
    Ok(token)
}

/// The live session for a cookie's token.
pub fn session(conn: &Connection, token: &str) -> Result<Option<Session>, StoreError> {
    let row = conn
        .prepare_cached(
            "SELECT users.id, users.email, users.all_sites, sessions.csrf
             FROM sessions JOIN users ON users.id = sessions.user_id
             WHERE sessions.token_hash = ?1 AND sessions.expires_at > ?2",
        )?
        .query_row(params![hash_token(token), now_millis()], |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, bool>(2)?,
                row.get::<_, String>(3)?,
            ))
        })
        .optional()?;
    let Some((id, email, all_sites, csrf)) = row else {
        return Ok(None);
    };
    Ok(Some(Session {
        user: User {
            id,
            email,
            sites: user_sites(conn, id, all_sites)?,
        },
        csrf,
    }))
}

/// Ends a session (signing out).
pub fn end_session(conn: &Connection, token: &str) -> Result<(), StoreError> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [hash_token(token)],
    )?;
    Ok(())
}
