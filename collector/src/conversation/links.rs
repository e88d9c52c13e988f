//! Links to a visitor's conversation page: 256 random bits in the address, of which the
//! database keeps only the SHA-256, valid for [`LINK_DAYS`] from the email that carried it.

use crate::auth::{hash_token, random_secret};
use earshot_store::{Database, StoreError, now_millis};

/// Where the pages live.
pub const PATH: &str = "/conversation";
/// How long a conversation link works, from the email that carried it.
pub const LINK_DAYS: i64 = 90;

/// A new link to a submission's conversation, valid for [`LINK_DAYS`]: the token to put in
/// the link (only its hash is stored).
pub fn new_link(db: &mut dyn Database, feedback_id: &str) -> Result<String, StoreError> {
    let token = random_secret("", 32);
    let now = now_millis();
    db.add_conversation_link(
        feedback_id,
        &hash_token(&token),
        now,
        now + LINK_DAYS * 86_400_000,
    )?;
    Ok(token)
}

/// The page's address for a token.
pub fn link(public_url: &str, token: &str) -> String {
    format!("{}{PATH}/{token}", public_url.trim_end_matches('/'))
}
